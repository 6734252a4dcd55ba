# A reading as it travels from a pipeline through the log to the uplink.
#
# In the log a reading is compact: a format byte (its kind and the version of
# that kind's layout), its address, and the kind's packed fields (app.rec_air,
# rec_parking, rec_lane, rec_health).  The uplink expands it into
# '<apikey>/<device_id> {FIWARE JSON}' only when it publishes.
#
#   byte 0   format: kind | (version - 1) << 4 (kind 1..15); a byte >= 0x21 is the first
#            character of a record an older firmware wrote as '<key> {json}' text
#   byte 1   the key's index in the address book, or 0xFF: length and the key follow
#
# The address book maps indexes to keys for good: a file beside the config
# ({"n": count, "keys": [...]}),
# extended (through a temp file and a rename) before the first record that uses a
# new index is logged, so a record is published under the key it was logged
# with even after a config change (new apikey or device id) and a reboot.  A full
# or unwritable book costs only bytes: the key then goes inside the record.
import json
import os

INLINE = 0xFF
BOOK_MAX = 0xFF  # indexes 0..254

# format byte -> module whose expand(Reader, version) gives the JSON object (bytes).
# Every layout starts with the reading's time (version 1: app.packing.put_time,
# version 2: put_when): see stamp().
KINDS = {1: "app.rec_air", 2: "app.rec_parking", 3: "app.rec_lane", 4: "app.rec_health"}
FORMATS = {0x01: KINDS[1], 0x02: KINDS[2], 0x03: KINDS[3], 0x04: KINDS[4],  # version 1
           0x11: KINDS[1], 0x12: KINDS[2], 0x13: KINDS[3], 0x14: KINDS[4]}  # version 2


class AddressBook:
    def __init__(self, path=None):
        self.path = path  # None: kept in RAM only (replay, tests)
        self.keys = []
        self._index = {}
        self.last_error = None
        if path is None:
            return
        try:
            with open(path) as f:
                data = json.load(f)
            keys = data["keys"]
            # MicroPython's json reads a torn list as a shorter one: the count tells.
            if data["n"] != len(keys) or not all(isinstance(k, str) for k in keys):
                raise ValueError("not %r keys" % data["n"])
        except OSError:
            return  # none yet
        except Exception as e:
            # Never reuse an index a pending record may hold: keep the file, log keys inline.
            self.last_error = "address book %s unreadable (%r): keys go inside records" % (path, e)
            print(self.last_error)
            self.path = None
            self.keys = [None] * BOOK_MAX
            return
        self.keys = keys[:BOOK_MAX]
        for i, k in enumerate(self.keys):
            self._index[k] = i

    def index(self, key):
        """key's index, added (and saved) if new; None when the book cannot hold it."""
        i = self._index.get(key)
        if i is not None:
            return i
        if len(self.keys) >= BOOK_MAX:
            return None
        self.keys.append(key)
        if self.path is not None:
            tmp = self.path + ".tmp"
            try:
                with open(tmp, "w") as f:
                    json.dump({"n": len(self.keys), "keys": self.keys}, f)
                os.rename(tmp, self.path)
            except OSError as e:
                self.keys.pop()
                self.last_error = "address book: %r" % (e,)
                return None
        i = len(self.keys) - 1
        self._index[key] = i
        return i

    def key(self, i):
        return self.keys[i] if i < len(self.keys) else None


BOOK = AddressBook()  # the shell opens the node's own (use_book)


def use_book(path):
    global BOOK
    BOOK = AddressBook(path)
    return BOOK


def head(buf, fmt, key):
    """Format byte and address of a record into buf; -> offset of the fields."""
    buf[0] = fmt
    i = BOOK.index(key)
    if i is not None:
        buf[1] = i
        return 2
    b = key.encode()
    buf[1] = INLINE
    buf[2] = len(b)
    buf[3:3 + len(b)] = b
    return 3 + len(b)


def encode(buf, kind, key, fields):
    """A reading of `kind` (its app.rec_* module) for key into buf; -> its length."""
    return kind.pack_into(buf, head(buf, kind.FORMAT, key), *fields)


def expand(rec):
    """A log record -> b'<key> {json}' (what older firmware logged), or b'' if it is not a
    reading this firmware knows."""
    if not isinstance(rec, bytes):
        rec = bytes(rec)
    if not rec or rec[0] >= 0x21:
        return rec  # text: '<key> {json}'
    name = FORMATS.get(rec[0])
    if name is None or len(rec) < 2:
        return b""
    from app.packing import Reader
    try:
        if rec[1] == INLINE:
            r = Reader(rec, 3 + rec[2])
            key = rec[3:r.off]
        else:
            key = BOOK.key(rec[1])
            if key is None:
                return b""
            key = key.encode()
            r = Reader(rec, 2)
        mod = __import__(name, None, None, ("expand",))
        return key + b" " + mod.expand(r, (rec[0] >> 4) + 1)
    except (IndexError, ValueError, KeyError, UnicodeError):
        return b""  # torn or foreign: the uplink counts it malformed


def stamp(rec):
    """A log record's reading time (Unix seconds), or None if it has none."""
    from app.packing import Reader
    try:
        if rec[0] >= 0x21:  # text
            from app.isotime import parse
            i = rec.find(b'"TimeInstant":"')
            return None if i < 0 else parse(bytes(rec[i + 15:i + 35]).decode())
        if rec[0] not in FORMATS:
            return None
        r = Reader(rec, 3 + rec[2] if rec[1] == INLINE else 2)
        return r.when() if rec[0] >= 0x10 else r.time()
    except (IndexError, ValueError):
        return None


def pack(key, obj):
    """The text form: key and JSON object (bytes). Older firmware logged every reading so."""
    return key.encode() + b" " + obj


def split(rec):
    """Text form -> (key bytes, JSON object bytes); works on bytes and memoryview."""
    rec = bytes(rec)
    i = rec.find(b" ")
    return rec[:i], rec[i + 1:]
