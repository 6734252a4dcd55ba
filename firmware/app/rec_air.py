# AirQualityObserved in the log (format 0x01) and its FIWARE JSON.
#
#   time     interval end (TimeInstant and dateObserved)
#   u8       which attributes of quality.ORDER the node measures (bit i = ORDER[i])
#   per measured attribute, in ORDER:
#     u8     flags: HAS (samples follow) MISSING RANGE STUCK OUTLIER HUMID
#     if HAS: min (zigzag), max - min, count, sum - count * min (varints)
# Raw integer units (app.quality): the published mean, min and max are computed
# from them at expansion exactly as the pipeline computed them before.
from app.isotime import iso
from app.packing import put_s, put_time, put_u
from app.quality import ATTRS, HUMID, MISSING, ORDER, OUTLIER, RANGE, STUCK

FORMAT = 0x01
HAS = 1
PROBLEMS = ((MISSING, "missing:"), (RANGE, "range:"), (STUCK, "stuck:"), (OUTLIER, "outlier:"))


def pack_into(buf, off, t_end, channels, flags):
    """channels: app.quality.Channel in ORDER; flags: their flag bits (HAS from ch.n)."""
    off = put_time(buf, off, t_end)
    mask = 0
    for ch in channels:
        mask |= 1 << ch.index
    buf[off] = mask
    off += 1
    for i in range(len(channels)):
        ch = channels[i]
        n = ch.n
        buf[off] = flags[i] | (HAS if n else 0)
        off += 1
        if n:
            lo = ch.min
            off = put_s(buf, off, lo)
            off = put_u(buf, off, ch.max - lo)
            off = put_u(buf, off, n)
            off = put_u(buf, off, ch.sum - n * lo)
    return off


def expand(r):
    ts = iso(r.time())
    mask = r.byte()
    parts = []
    problems = []
    humid = []
    for i in range(len(ORDER)):
        if not mask & (1 << i):
            continue
        name = ORDER[i]
        fl = r.byte()
        if fl & HAS:
            lo = r.s()
            hi = lo + r.u()
            n = r.u()
            total = n * lo + r.u()
            s, decimals = ATTRS[name][0], ATTRS[name][1]
            f = "%." + str(decimals) + "f"
            parts.append(('"%s":' + f + ',"%sMin":' + f + ',"%sMax":' + f + ',"%sCount":%d') % (
                name, total / (n * s), name, lo / s, name, hi / s, name, n))
        for bit, word in PROBLEMS:
            if fl & bit:
                problems.append(word + name)
        if fl & HUMID:
            humid.append("humid:" + name)
    parts.append('"dataQuality":[%s]' % ",".join('"%s"' % f for f in problems + humid))
    return ('{"TimeInstant":"%s","dateObserved":"%s",%s}' % (ts, ts, ",".join(parts))).encode()
