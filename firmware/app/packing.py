# Integers packed for the log: LEB128 varints (7 bits a byte, small values in one
# byte), zigzag for signed ones, times as 4 bytes of seconds since 2000-01-01
# (small ints on an ESP32 until 2034), and published decimals as the integer of
# their digits, so a record holds the exact text the node would have published.
import struct

EPOCH = 946684800  # 2000-01-01T00:00:00Z in Unix seconds


def put_u(buf, off, v):
    """Unsigned varint at off; -> the offset after it."""
    while v > 0x7F:
        buf[off] = (v & 0x7F) | 0x80
        v >>= 7
        off += 1
    buf[off] = v
    return off + 1


def put_s(buf, off, v):
    return put_u(buf, off, v + v if v >= 0 else -v - v - 1)


def put_time(buf, off, t):
    """Unix seconds (int or float, floored, as app.isotime.iso shows them)."""
    struct.pack_into("<i", buf, off, int(t // 1) - EPOCH)
    return off + 4


WORDS_MAX = 16  # a text's varint: word i as i << 1 | 1 (i < 16), book entry j as (16 + j) << 1 | 1


ALIGN = 300  # s: readings at whole 5 minutes (interval ends, heartbeats) get a shorter time


def put_when(buf, off, t):
    """Unix seconds in 3 bytes when a whole number of 5 minutes after 2000 (until 2039),
    else in 4 (until 2034), else in 5 (big endian, the first byte's top bits tell)."""
    s = int(t // 1) - EPOCH
    if 0 <= s and s % ALIGN == 0 and s // ALIGN < 0x400000:
        v = s // ALIGN
        buf[off] = 0xC0 | v >> 16
        buf[off + 1] = v >> 8 & 255
        buf[off + 2] = v & 255
        return off + 3
    if 0 <= s < 0x40000000:
        buf[off] = 0x80 | s >> 24
        buf[off + 1] = s >> 16 & 255
        buf[off + 2] = s >> 8 & 255
        buf[off + 3] = s & 255
        return off + 4
    buf[off] = 0
    struct.pack_into("<i", buf, off + 1, s)
    return off + 5


def put_text(buf, off, s, words=(), book=None):
    """A string: one of `words`, else its entry in book (an app.record.AddressBook: texts
    a node repeats, e.g. its firmware version), else its length << 1 and UTF-8."""
    for i in range(len(words)):
        if words[i] == s:
            return put_u(buf, off, i + i + 1)
    j = book.index(s) if book is not None else None
    if j is not None:
        return put_u(buf, off, (WORDS_MAX + j) * 2 + 1)
    b = s.encode()
    off = put_u(buf, off, len(b) << 1)
    buf[off:off + len(b)] = b
    return off + len(b)


def decimal(text):
    """'12.3' (as "%.1f" gave it) -> its digits as a varint value: 123 << 1, the sign in
    bit 0 ('-0.0' keeps its sign). No float is stored: formatting happened once, here."""
    neg = text[0] == "-"
    if neg:
        text = text[1:]
    i = text.find(".")
    v = int(text[:i] + text[i + 1:]) if i >= 0 else int(text)
    return v + v + (1 if neg else 0)


class Reader:
    """Reads back what the put_* functions wrote, from a bytes-like record."""

    def __init__(self, rec, off=0):
        self.rec = rec
        self.off = off

    def u(self):
        rec = self.rec
        off = self.off
        v = shift = 0
        while True:
            b = rec[off]
            off += 1
            v |= (b & 0x7F) << shift
            if b < 0x80:
                self.off = off
                return v
            shift += 7

    def s(self):
        v = self.u()
        return -((v + 1) >> 1) if v & 1 else v >> 1

    def byte(self):
        self.off += 1
        return self.rec[self.off - 1]

    def time(self):
        self.off += 4
        return struct.unpack_from("<i", self.rec, self.off - 4)[0] + EPOCH

    def when(self):
        """What put_when wrote."""
        rec, off = self.rec, self.off
        b = rec[off]
        if b >= 0xC0:
            self.off = off + 3
            return ((b & 0x3F) << 16 | rec[off + 1] << 8 | rec[off + 2]) * ALIGN + EPOCH
        if b >= 0x80:
            self.off = off + 4
            return ((b & 0x3F) << 24 | rec[off + 1] << 16 | rec[off + 2] << 8 | rec[off + 3]) + EPOCH
        self.off = off + 5
        return struct.unpack_from("<i", rec, off + 1)[0] + EPOCH

    def text(self, words=(), book=None):
        n = self.u()
        if n & 1:
            n >>= 1
            if n < WORDS_MAX:
                return words[n]
            s = book.key(n - WORDS_MAX)
            if s is None:
                raise ValueError("no text %d in the book" % (n - WORDS_MAX))
            return s
        n >>= 1
        self.off += n
        return bytes(self.rec[self.off - n:self.off]).decode()

    def decimal(self, places):
        return digits(self.u(), places)


def digits(v, places):
    """A decimal() value -> its text again ('12.3' for places=1)."""
    d = "%0*d" % (places + 1, v >> 1)
    return ("-" if v & 1 else "") + d[:-places] + "." + d[-places:]
