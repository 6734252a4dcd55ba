# AirQualityObserved in the log and its FIWARE JSON.
#
# Version 2 (format 0x11):
#   when     interval end (TimeInstant and dateObserved; app.packing.put_when)
#   u8 x 2   masks over quality.ORDER (bit i = ORDER[i]): attributes with samples this
#            interval, attributes with problems (an attribute with neither is not published);
#            bit 7 of the second: HUMID for every particulate attribute with samples
#   per attribute in either mask, in ORDER:
#     if it has problems: u8 of MISSING RANGE STUCK OUTLIER (HUMID) (app.quality)
#     if it has samples:  count << 2 | d (count 0: the previous attribute's), then
#                         min (zigzag), max - min, sum - count * min, each / 10**d
#                         (d: the decimal places the sensor does not resolve, up to 3)
# Version 1 (0x01): time, a mask of the attributes the node measures, then per attribute a u8 of flags | HAS and,
# with HAS, min, max - min, count, sum - count * min.
# Raw integer units (app.quality): mean, min and max are computed from them at
# expansion exactly as the pipeline computed them when it published JSON.
from app.isotime import iso
from app.packing import put_s, put_u, put_when
from app.quality import ATTRS, HUMID, MISSING, ORDER, OUTLIER, PM, RANGE, STUCK

FORMAT = 0x11
HAS = 1  # version 1
ALL_HUMID = 0x80
PROBLEMS = ((MISSING, "missing:"), (RANGE, "range:"), (STUCK, "stuck:"), (OUTLIER, "outlier:"))


def pack_into(buf, off, t_end, channels, flags):
    """channels: app.quality.Channel in ORDER; flags: their problem bits."""
    off = put_when(buf, off, t_end)
    sampled = problems = 0
    humid = None  # every sampled particulate attribute humid (as the pipeline flags): one bit
    for i in range(len(channels)):
        if channels[i].n and channels[i].name in PM:
            humid = flags[i] & HUMID if humid is None else humid & flags[i]
    humid = humid or 0
    for i in range(len(channels)):
        bit = 1 << channels[i].index
        if channels[i].n:
            sampled |= bit
        if flags[i] & ~humid:
            problems |= bit
    buf[off] = sampled
    buf[off + 1] = problems | (ALL_HUMID if humid else 0)
    off += 2
    last_n = 0
    for i in range(len(channels)):
        if flags[i] & ~humid:
            buf[off] = flags[i] & ~humid
            off += 1
        ch = channels[i]
        n = ch.n
        if n:
            lo, hi, total = ch.min, ch.max, ch.sum
            d = 0
            f = 1
            while d < 3 and lo % (f * 10) == 0 and hi % (f * 10) == 0 and total % (f * 10) == 0:
                d += 1
                f *= 10
            off = put_u(buf, off, (0 if n == last_n else n) << 2 | d)
            off = put_s(buf, off, lo // f)
            off = put_u(buf, off, (hi - lo) // f)
            off = put_u(buf, off, (total - n * lo) // f)
            last_n = n
    return off


def expand(r, version=2):
    ts = iso(r.when() if version >= 2 else r.time())
    if version >= 2:
        sampled, problems = r.byte(), r.byte()
        all_humid = problems & ALL_HUMID
        problems &= 0x7F
        measured = sampled | problems
    else:
        measured = r.byte()
    parts = []
    found = []
    humid = []
    n = 0
    for i in range(len(ORDER)):
        bit = 1 << i
        if not measured & bit:
            continue
        name = ORDER[i]
        if version >= 2:
            fl = r.byte() if problems & bit else 0
            has = sampled & bit
            if all_humid and has and name in PM:
                fl |= HUMID
        else:
            fl = r.byte()
            has = fl & HAS
        if has:
            f = 1
            if version >= 2:
                v = r.u()
                n = v >> 2 or n
                f = (1, 10, 100, 1000)[v & 3]
            lo = r.s() * f
            hi = lo + r.u() * f
            if version < 2:
                n = r.u()
            total = n * lo + r.u() * f
            s, decimals = ATTRS[name][0], ATTRS[name][1]
            f = "%." + str(decimals) + "f"
            parts.append(('"%s":' + f + ',"%sMin":' + f + ',"%sMax":' + f + ',"%sCount":%d') % (
                name, total / (n * s), name, lo / s, name, hi / s, name, n))
        for flag, word in PROBLEMS:
            if fl & flag:
                found.append(word + name)
        if fl & HUMID:
            humid.append("humid:" + name)
    parts.append('"dataQuality":[%s]' % ",".join('"%s"' % f for f in found + humid))
    return ('{"TimeInstant":"%s","dateObserved":"%s",%s}' % (ts, ts, ",".join(parts))).encode()
