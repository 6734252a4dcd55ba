# ParkingSpot in the log and its FIWARE JSON.
#   time     of the status (a change's own time, or the heartbeat's): version 2 (format
#            0x12) app.packing.put_when, version 1 (0x02) put_time
#   u8       status: index in STATUS
from app.isotime import iso
from app.packing import put_when

FORMAT = 0x12
STATUS = ("free", "occupied", "unknown")


def pack_into(buf, off, t, status):
    off = put_when(buf, off, t)
    buf[off] = STATUS.index(status)
    return off + 1


def expand(r, version=2):
    t = r.when() if version >= 2 else r.time()
    return ('{"TimeInstant":"%s","status":"%s"}' % (iso(t), STATUS[r.byte()])).encode()
