# Unix seconds <-> ISO 8601 UTC text, without time.gmtime(): the ports differ
# in epoch (unix 1970, ESP32 2000), the core always speaks Unix seconds.


def iso(t):
    """Unix seconds (int or float, floored) -> '2026-11-21T22:00:00Z'."""
    t = int(t // 1)
    days, secs = divmod(t, 86400)
    # Howard Hinnant's civil_from_days.
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, secs // 3600, secs // 60 % 60, secs % 60)


def unix(y, mo, d, h=0, mi=0, s=0):
    """Civil UTC date and time -> Unix seconds (days_from_civil)."""
    y -= 1 if mo <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + s


def parse(text):
    """'2026-11-21T22:00:00Z' (or with a space, no zone) -> Unix seconds."""
    return unix(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                int(text[11:13]), int(text[14:16]), int(text[17:19]))
