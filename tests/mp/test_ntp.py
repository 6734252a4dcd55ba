# SNTP answers (RFC 4330 section 4 layout) and the name cache, under MicroPython.
import struct

from app.ntp import parse, request
from app.resolve import Resolver, is_ip
from mptest import raises

NONCE = b"\x01\x02\x03\x04\x05\x06\x07\x08"
# 2023-11-14T22:13:20Z is Unix 1700000000; NTP counts from 1900: + 2208988800 s.
NTP_1700000000 = 3908988800


def answer(secs=NTP_1700000000, frac=0, b0=0x24, stratum=2, origin=NONCE, rx=None):
    """A server's 48-byte answer: LI/VN/mode, stratum, poll, precision, root delay and
    dispersion, reference id, then reference, originate, receive, transmit timestamps."""
    rx_secs, rx_frac = rx or (secs, frac)
    return (struct.pack("!BBbbII4s", b0, stratum, 6, -20, 0, 0, b"GPS\0")
            + struct.pack("!II", secs, 0) + origin + struct.pack("!IIII", rx_secs, rx_frac, secs, frac))


def test_the_request_is_a_version_4_client_packet_carrying_the_nonce():
    req = request(NONCE)
    assert len(req) == 48
    assert req[0] >> 6 == 0 and req[0] >> 3 & 7 == 4 and req[0] & 7 == 3  # LI 0, VN 4, mode 3
    assert bytes(req[40:48]) == NONCE and bytes(req[1:40]) == bytes(39)


def test_transmit_timestamp_becomes_integer_unix_seconds_and_ms():
    assert parse(answer(), NONCE, 0) == (1700000000, 0)
    # A fraction of 2**31 / 2**32 is half a second.
    assert parse(answer(frac=0x80000000), NONCE, 0) == (1700000000, 500)
    # Half the round trip is added: the answer travelled that long.
    assert parse(answer(frac=0x80000000), NONCE, 600) == (1700000000, 800)
    # ... minus the time the server held the request (receive -> transmit).
    held = answer(secs=NTP_1700000000 + 1, rx=(NTP_1700000000, 0))
    assert parse(held, NONCE, 1200) == (1700000001, 100)


def test_after_2036_the_32_bit_ntp_seconds_wrap_into_era_1():
    # Era 1 begins 2036-02-07T06:28:16Z = Unix 2085978496.
    assert parse(answer(secs=16), NONCE, 0) == (2085978496 + 16, 0)


def test_answers_that_are_not_usable_are_refused():
    assert parse(answer()[:47], NONCE, 0) is None  # truncated
    assert parse(answer(b0=0x23), NONCE, 0) is None  # mode 3: a client, not a server
    assert parse(answer(b0=0xE4), NONCE, 0) is None  # LI 3: server clock unsynchronised
    assert parse(answer(b0=0x14), NONCE, 0) is None  # version 2
    assert parse(answer(b0=0x1C), NONCE, 0) == (1700000000, 0)  # version 3 servers still answer
    assert parse(answer(stratum=0), NONCE, 0) is None  # kiss-of-death
    assert parse(answer(stratum=16), NONCE, 0) is None  # unsynchronised
    assert parse(answer(origin=b"\x09" * 8), NONCE, 0) is None  # answers someone else's request
    assert parse(answer(secs=0, frac=0), NONCE, 0) is None  # no transmit time
    assert parse(b"\xff" * 48, NONCE, 0) is None
    assert parse(b"", NONCE, 0) is None


class Names:
    """getaddrinfo as a DNS server would answer it: a table, or OSError when down."""

    def __init__(self):
        self.table = {"broker.example": "10.0.0.5"}
        self.down = False
        self.asked = []

    def __call__(self, host, port):
        self.asked.append(host)
        if is_ip(host):
            return [(2, 1, 0, "", (host, port))]
        if self.down or host not in self.table:
            raise OSError(-2)
        return [(2, 1, 0, "", (self.table[host], port))]


def test_ip_literals_never_reach_the_cache():
    names = Names()
    r = Resolver(names)
    assert r.addr("192.168.1.10", 8883) == ("192.168.1.10", 8883)
    assert r.lookups == 0
    assert is_ip("10.0.0.1") and not is_ip("10.0.0.256") and not is_ip("broker.example")
    assert not is_ip("1.2.3") and not is_ip("a.b.c.d")


def test_a_good_answer_is_reused_and_a_failure_asks_again_at_most_once_per_retry():
    import time
    from app import resolve

    names = Names()
    r = Resolver(names)
    assert r.addr("broker.example", 8883) == ("10.0.0.5", 8883)
    assert r.addr("broker.example", 8883) == ("10.0.0.5", 8883)
    assert r.lookups == 1  # cached
    r.failed("broker.example")
    assert r.addr("broker.example", 8883) == ("10.0.0.5", 8883)
    assert r.lookups == 1  # asked less than RETRY_S ago: the old address is used
    saved = resolve.RETRY_S
    resolve.RETRY_S = 0
    try:
        time.sleep_ms(2)
        names.table["broker.example"] = "10.0.0.6"  # the broker moved
        assert r.addr("broker.example", 8883) == ("10.0.0.6", 8883)
        assert r.lookups == 2
        r.failed("broker.example")
        names.down = True  # DNS unreachable: the last good address stays in use
        time.sleep_ms(2)
        assert r.addr("broker.example", 8883) == ("10.0.0.6", 8883)
        assert r.lookups == 3
    finally:
        resolve.RETRY_S = saved


def test_an_unknown_name_without_an_earlier_answer_is_an_error():
    r = Resolver(Names())
    raises(OSError, r.addr, "nowhere.example", 123)
