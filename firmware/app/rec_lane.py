# TrafficFlowObserved of one lane in the log (format 0x03) and its FIWARE JSON.
#   time     interval end
#   varints  interval length (s), laneId, intensity, occupancy (4 decimals),
#            average speed (1 decimal) + 1, 0 = no speed measured
#   u8       flags: bit i = FLAGS[i]
from app.isotime import iso
from app.packing import decimal, digits, put_time, put_u

FORMAT = 0x03
FLAGS = ("detector-stuck-on", "detector-dead")


def pack_into(buf, off, t_end, t_from, lane_id, count, occupancy, speed, flags):
    """occupancy (0..1), speed (km/h, None if unmeasured): kept as the digits they are
    published with (4 and 1 decimals); flags: list of FLAGS words."""
    off = put_time(buf, off, t_end)
    off = put_u(buf, off, int(t_end // 1) - int(t_from // 1))
    off = put_u(buf, off, lane_id)
    off = put_u(buf, off, count)
    off = put_u(buf, off, decimal("%.4f" % occupancy))
    off = put_u(buf, off, 0 if speed is None else decimal("%.1f" % speed) + 1)
    bits = 0
    for f in flags:
        bits |= 1 << FLAGS.index(f)
    buf[off] = bits
    return off + 1


def expand(r):
    t_end = r.time()
    t_from = t_end - r.u()
    lane_id = r.u()
    count = r.u()
    occupancy = r.decimal(4)
    a, b = iso(t_from), iso(t_end)
    # dateObserved (required by the data model) is the ISO 8601 interval "start/end".
    parts = ['"TimeInstant":"%s","laneId":%d,"intensity":%d,"occupancy":%s,'
             '"dateObserved":"%s/%s","dateObservedFrom":"%s","dateObservedTo":"%s"'
             % (b, lane_id, count, occupancy, a, b, a, b)]
    speed = r.u()
    if speed:
        parts.append('"averageVehicleSpeed":%s' % digits(speed - 1, 1))
    bits = r.byte()
    parts.append('"dataQuality":[%s]' % ",".join(
        '"%s"' % FLAGS[i] for i in range(len(FLAGS)) if bits & (1 << i)))
    return ("{" + ",".join(parts) + "}").encode()

