# Time of readings.  An ESP32 boots at 2000-01-01 and learns the time by NTP;
# readings taken before that carry stamps from the wrong era.  Once the offset
# (true - local) is known, stamps of readings logged during this boot are
# corrected at publish time; readings of an earlier boot whose clock was
# never set cannot be corrected: they are flagged ("timeUnsynced": true).
# A plain object fed explicit times; the board does the NTP exchange.
from app.isotime import iso, parse

VALID_FROM = b"2020"  # a stamp before this year was taken with an unset clock
TI = b'"TimeInstant":"'


class TimeSync:
    def __init__(self, synced=False, boot_seq=1):
        self.state = "system" if synced else "unsynced"
        self.offset = 0 if synced else None
        self.boot_seq = boot_seq  # readings with seq >= this were logged during this boot
        self.last_sync = None

    @property
    def synced(self):
        return self.offset is not None

    def synced_at(self, local_t, true_t, source="ntp"):
        """The clock was set: local_t (before setting) corresponds to true_t."""
        if self.offset is None:
            self.offset = true_t - local_t
        self.state = source
        self.last_sync = true_t

    def fix(self, seq, obj):
        """A reading's JSON object (bytes) -> the object to publish, or None to hold it
        back until the time is known."""
        p = obj.find(TI)
        if p < 0:
            return obj
        p += len(TI)
        if obj[p:p + 4] >= VALID_FROM:
            return obj
        if self.offset is None:
            return None
        if seq >= self.boot_seq:
            return rewrite_stamps(obj, self.offset)
        return flag(obj, b'"timeUnsynced":true')


def rewrite_stamps(obj, offset):
    """Shift every ISO stamp of an unset clock in obj by offset seconds (both ends of an
    interval "start/end" too)."""
    out = bytearray(obj)
    i = 0
    while True:
        i = out.find(b'":"', i)
        if i < 0:
            return bytes(out)
        s = i + 3
        while (len(out) >= s + 21 and out[s + 4] == 45 and out[s + 10] == 84 and out[s + 19] == 90
                and out[s:s + 4] < VALID_FROM):
            out[s:s + 20] = iso(parse(out[s:s + 20].decode()) + offset).encode()
            if out[s + 20] != 47:  # '/': the end of an interval follows
                break
            s += 21
        i = i + 3


def flag(obj, member):
    """Insert a member (b'"name":value') at the front of a JSON object."""
    if obj[1:2] == b"}":
        return b"{" + member + b"}"
    return b"{" + member + b"," + obj[1:]


def set_stamp(obj, stamp):
    """Replace the TimeInstant value by stamp (20 bytes ISO)."""
    p = obj.find(TI) + len(TI)
    return obj[:p] + stamp + obj[p + 20:]
