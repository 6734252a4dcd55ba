from app.isotime import iso, parse, unix


def test_known_instants():
    # Reference instants from the POSIX definition and well-known dates.
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(951782400) == "2000-02-29T00:00:00Z"  # leap day of a 400-year leap year
    assert iso(946684800) == "2000-01-01T00:00:00Z"  # the ESP32 port's epoch
    assert iso(1234567890) == "2009-02-13T23:31:30Z"
    assert iso(4102444799) == "2099-12-31T23:59:59Z"
    assert iso(1.75) == "1970-01-01T00:00:01Z"  # a float is floored (exact in float32 too)


def test_round_trip():
    for t in range(0, 4102444800, 86399 * 97):
        assert parse(iso(t)) == t
    assert unix(2026, 11, 21, 22, 0, 0) == 1795298400
