# ParkingSpot in the log (format 0x02) and its FIWARE JSON.
#   time     of the status (a change's own time, or the heartbeat's)
#   u8       status: index in STATUS
from app.isotime import iso
from app.packing import put_time

FORMAT = 0x02
STATUS = ("free", "occupied", "unknown")


def pack_into(buf, off, t, status):
    off = put_time(buf, off, t)
    buf[off] = STATUS.index(status)
    return off + 1


def expand(r):
    t = r.time()
    return ('{"TimeInstant":"%s","status":"%s"}' % (iso(t), STATUS[r.byte()])).encode()
