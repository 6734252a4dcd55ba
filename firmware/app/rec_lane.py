# TrafficFlowObserved of one lane in the log and its FIWARE JSON.
#
# Version 2 (format 0x13):
#   when     interval end (app.packing.put_when)
#   varints  interval length: minutes << 1 | 1 if whole minutes, else seconds << 1;
#            laneId << 2 | flags (bit i = FLAGS[i]); intensity; occupancy (4 decimals);
#            average speed (1 decimal) + 1, 0 = no speed measured
# Version 1 (0x03): time; interval seconds, laneId, intensity, occupancy, speed + 1
# (varints); u8 flags.
# Occupancy and speed are kept as the digits they are published with (app.packing.decimal).
from app.isotime import iso
from app.packing import decimal, digits, put_u, put_when

FORMAT = 0x13
FLAGS = ("detector-stuck-on", "detector-dead")


def pack_into(buf, off, t_end, t_from, lane_id, count, occupancy, speed, flags):
    """occupancy (0..1), speed (km/h, None if unmeasured); flags: list of FLAGS words."""
    off = put_when(buf, off, t_end)
    span = int(t_end // 1) - int(t_from // 1)
    off = put_u(buf, off, span // 60 * 2 + 1 if span % 60 == 0 else span * 2)
    bits = 0
    for f in flags:
        bits |= 1 << FLAGS.index(f)
    off = put_u(buf, off, lane_id << 2 | bits)
    off = put_u(buf, off, count)
    off = put_u(buf, off, decimal("%.4f" % occupancy))
    return put_u(buf, off, 0 if speed is None else decimal("%.1f" % speed) + 1)


def expand(r, version=2):
    t_end = r.when() if version >= 2 else r.time()
    span = r.u()
    if version >= 2:
        span = span // 2 * 60 if span & 1 else span // 2
        lane_id = r.u()
        bits = lane_id & 3
        lane_id >>= 2
    else:
        lane_id = r.u()
    t_from = t_end - span
    count = r.u()
    occupancy = r.decimal(4)
    speed = r.u()
    if version < 2:
        bits = r.byte()
    a, b = iso(t_from), iso(t_end)
    # dateObserved (required by the data model) is the ISO 8601 interval "start/end".
    parts = ['"TimeInstant":"%s","laneId":%d,"intensity":%d,"occupancy":%s,'
             '"dateObserved":"%s/%s","dateObservedFrom":"%s","dateObservedTo":"%s"'
             % (b, lane_id, count, occupancy, a, b, a, b)]
    if speed:
        parts.append('"averageVehicleSpeed":%s' % digits(speed - 1, 1))
    parts.append('"dataQuality":[%s]' % ",".join(
        '"%s"' % FLAGS[i] for i in range(len(FLAGS)) if bits & (1 << i)))
    return ("{" + ",".join(parts) + "}").encode()
