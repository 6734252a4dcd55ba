# The store-and-forward log on a raw flash region: 4 KiB sectors used as a
# ring, records appended by programming only, one erase per sector filled.
#
# Sector layout (little endian):
#   0   magic "SLg2" ("SLg1": records of the older layout below)
#   4   sector_seq  u32  +1 per sector opened: orders the ring at boot
#   8   first_seq   u32  sequence number of the sector's first record
#   12  erase_count u32  wear accounting
#   16  dropped     u32  readings dropped so far, including this sector's victim
#   20  crc32 of bytes 0..20
#   24  ack bitmap: k leading cleared bits (MSB first) = the sector's first k
#       records are acknowledged; the newest sector with any holds the read position
#   24+ACK records: length (one byte below 0x80, else two: 0x80 | high 7 bits, low
#       8 bits), crc32 u32 of (seq u32, the length bytes, payload), payload.
#       A record's seq is its sector's first_seq plus its place there: it is not
#       stored, but the CRC covers it, so a record read at the wrong place fails.
#   "SLg1" sectors (firmware before compact record headers) hold len u16, seq u32,
#   crc32(len, seq, payload) u32, payload: read as they are, never written; an
#   update that finds one at the head opens a new sector for its first append.
#
# The sector after the head is always kept erased (the spare). Opening a new
# head writes its header (with the drops it causes) first, and only then erases
# the oldest sector to become the next spare, so a power cut at any point
# leaves either the old or the new state, never a lost drop count. Boot reads
# one header per sector, walks back from the newest, and scans the head
# sector's records only: the work is bounded by the number of sectors.
import struct
from app.console import say

try:
    from binascii import crc32
except ImportError:  # a port built without it
    from app.crc32 import crc32

MAGIC = b"SLg2"
MAGIC_V1 = b"SLg1"
HDR = "<4sIIIII"
HDR_LEN = 24
REC_V1 = "<HII"
REC_V1_LEN = 10
REC_MIN = 5  # one length byte and the CRC
ACK_PER = 10  # bytes of sector per ack bit: the bitmap has a bit for every record a
              # sector can hold of the older layout; a sector is closed when its bits run out
ERASE = 6


def record_bytes(n):
    """Flash a record with an n-byte payload takes (header included)."""
    return n + (REC_MIN if n < 0x80 else REC_MIN + 1)


# The record buffer: a node's readings are at most 512 bytes (app.node RECORD_MAX); a
# larger record, up to max_payload, gets a buffer of its own. A whole sector's would
# cost 4 KB of heap for nothing.
BUF = 544


class LogError(Exception):
    pass


class FlashLog:
    def __init__(self, dev, first_block=0, blocks=None):
        self.dev = dev
        self.bs = bs = dev.ioctl(5, 0)
        self.base = first_block
        self.n = blocks or dev.ioctl(4, 0) - first_block
        if self.n < 3:
            raise LogError("a flash log needs at least 3 sectors")
        self.ack_len = (bs // ACK_PER + 7) // 8
        self.ack_bits = 8 * self.ack_len
        self.data_off = HDR_LEN + self.ack_len
        self.max_payload = min(bs - self.data_off - REC_MIN - 1, 0x7FFF)
        self._hdr = bytearray(self.data_off)
        self._rec = bytearray(REC_V1_LEN)
        self._seq = bytearray(4)
        self._buf = bytearray(min(bs, max(BUF, self.ack_len)))  # ack bits go through it too
        self.dropped = 0
        self.mode = "flash"
        self.recover()

    # -- flash access
    def _read(self, sector, off, buf):
        self.dev.readblocks(self.base + sector, buf, off)

    def _prog(self, sector, off, buf):
        self.dev.writeblocks(self.base + sector, buf, off)

    def _erase(self, sector):
        self.dev.ioctl(ERASE, self.base + sector)

    def _header(self, sector):
        """Reads header and ack bitmap into _hdr; -> (sector_seq, first_seq, erases, dropped,
        older record layout?) or None."""
        h = self._hdr
        self._read(sector, 0, h)
        magic, sseq, first, erases, dropped, crc = struct.unpack_from(HDR, h)
        if magic != MAGIC and magic != MAGIC_V1:
            return None
        if crc32(memoryview(h)[:20]) != crc:
            return None
        return sseq, first, erases, dropped, magic == MAGIC_V1

    def _acked_count(self):
        """Records acknowledged in the sector whose header is in _hdr (leading cleared bits)."""
        h = self._hdr
        k = 0
        for i in range(HDR_LEN, self.data_off):
            b = h[i]
            if b == 0:
                k += 8
                continue
            while not b & 0x80:
                k += 1
                b <<= 1
            break
        return k

    def _write_header(self, sector, sseq, first, erases, dropped):
        h = self._hdr
        struct.pack_into("<4sIIII", h, 0, MAGIC, sseq, first, erases, dropped)
        struct.pack_into("<I", h, 20, crc32(memoryview(h)[:20]))
        self._prog(sector, 0, memoryview(h)[:HDR_LEN])

    def _blank_from(self, sector, off):
        buf = self._buf
        while off < self.bs:
            mv = memoryview(buf)[:min(len(buf), self.bs - off)]
            self._read(sector, off, mv)
            for b in mv:
                if b != 0xFF:
                    return False
            off += len(mv)
        return True

    # -- boot
    def recover(self):
        n = self.n
        head = -1
        top = 0
        for i in range(n):
            h = self._header(i)
            if h is not None and (head < 0 or h[0] > top):
                head, top = i, h[0]
        if head < 0:
            self._format()
            return
        hh = self._header(head)
        self.head, self.head_sseq, self.head_first, self.head_erases = head, hh[0], hh[1], hh[2]
        self.dropped, self.head_v1 = hh[3], hh[4]
        # Walk back over the run of consecutive sectors; the newest ack bits win.
        acked = -1
        self.ack_sector, self.ack_count = -1, 0
        k = self._acked_count()
        if k:
            acked = hh[1] + k - 1
            self.ack_sector, self.ack_count = head, k
        tail, tail_first = head, hh[1]
        for step in range(1, n - 1):
            j = (head - step) % n
            h = self._header(j)
            if h is None or h[0] != top - step or h[1] > tail_first:
                break
            tail, tail_first = j, h[1]
            if acked < 0:
                k = self._acked_count()
                if k:
                    acked = h[1] + k - 1
                    self.ack_sector, self.ack_count = j, k
        self.tail, self.tail_first = tail, tail_first
        self._scan_head()
        self.acked = max(acked, tail_first - 1)
        if self.acked >= self.next_seq:  # bits beyond the records (should not happen)
            self.acked = self.next_seq - 1
        # The spare must be blank: finish an interrupted erase.
        sp = (head + 1) % n
        self.spare_erases = self.head_erases
        if not self._blank_from(sp, 0):
            h = self._header(sp)
            self.spare_erases = h[2] + 1 if h else self.head_erases
            self._erase(sp)
        self._cursor = -1

    def _scan_head(self):
        """Finds the append position in the head sector; a torn tail closes the sector."""
        off, seq = self.data_off, self.head_first
        while True:
            r = self._at(self.head, off, seq, self.head_v1)
            if r is None or self._payload(self.head, off, r, seq, self.head_v1) is None:
                break
            off += r[0] + r[1]
            seq += 1
        # A half-written record, or bits an interrupted program left anywhere in its
        # range (even past a header that reads erased): never program over them. A
        # sector of the older layout is left as it is.
        self.head_full = self.head_v1 or not self._blank_from(self.head, off)
        self.head_off = off
        self.next_seq = seq

    def _at(self, sector, off, seq, v1):
        """The record seq's header at off -> (header length, payload length, crc), or None
        where no record can start (erased space, the sector's end, not record seq)."""
        rec, room = self._rec, self.bs - off
        if v1:
            if room < REC_V1_LEN:
                return None
            self._read(sector, off, rec)
            length, rseq, crc = struct.unpack_from(REC_V1, rec)
            if rseq != seq or length > room - REC_V1_LEN:
                return None
            return REC_V1_LEN, length, crc
        if room < REC_MIN:
            return None
        self._read(sector, off, memoryview(rec)[:REC_MIN + 1 if room > REC_MIN else REC_MIN])
        length, hl = rec[0], 1
        if length & 0x80:
            length, hl = (length & 0x7F) << 8 | rec[1], 2
        if length > room - hl - 4:
            return None
        return hl + 4, length, struct.unpack_from("<I", rec, hl)[0]

    def _payload(self, sector, off, r, seq, v1):
        """Reads the payload of the record at off (header r from _at, still in _rec) into
        _buf; -> its memoryview, or None if it is not whole."""
        skip, length, crc = r
        mv = memoryview(self._buf if length <= len(self._buf) else bytearray(length))[:length]
        self._read(sector, off + skip, mv)
        head = memoryview(self._rec)
        if v1:
            c = crc32(head[:6])
        else:
            struct.pack_into("<I", self._seq, 0, seq)
            c = crc32(head[:skip - 4], crc32(self._seq))
        return mv if crc32(mv, c) == crc else None

    def _format(self):
        self._erase(0)
        self._write_header(0, 1, 1, 1, 0)
        self._erase(1)
        self.head, self.head_sseq, self.head_first, self.head_erases = 0, 1, 1, 1
        self.tail, self.tail_first = 0, 1
        self.head_off, self.head_full, self.next_seq = self.data_off, False, 1
        self.head_v1 = False
        self.acked, self.ack_sector, self.ack_count = 0, -1, 0
        self.dropped = 0
        self.spare_erases = 1
        self._cursor = -1

    # -- the log interface
    @property
    def pending(self):
        return self.next_seq - 1 - self.acked

    def used(self):
        """Percent of the ring the undelivered readings fill: at 100 the next sector
        opened drops the oldest of them."""
        if self.pending <= 0:
            return 0
        sector = self._locate(self.acked + 1)[0]
        return ((self.head - sector) % self.n + 1) * 100 // (self.n - 1)

    def append(self, payload):
        """Programs one record; once this returns, the reading survives a power cut. -> its seq."""
        n = len(payload)
        if n > self.max_payload:
            raise LogError("record of %d bytes exceeds %d" % (n, self.max_payload))
        size = record_bytes(n)
        if (self.head_full or self.head_off + size > self.bs
                or self.next_seq - self.head_first >= self.ack_bits):
            self._open_next()
        seq = self.next_seq
        buf = self._buf if size <= len(self._buf) else bytearray(size)
        skip = size - n
        if skip == REC_MIN:
            buf[0] = n
        else:
            buf[0] = 0x80 | n >> 8
            buf[1] = n & 0xFF
        buf[skip:size] = payload
        mv = memoryview(buf)
        struct.pack_into("<I", self._seq, 0, seq)
        struct.pack_into("<I", buf, skip - 4, crc32(mv[skip:size], crc32(mv[:skip - 4], crc32(self._seq))))
        self._prog(self.head, self.head_off, mv[:size])
        self.head_off += size
        self.next_seq = seq + 1
        return seq

    def _open_next(self):
        n = self.n
        new = (self.head + 1) % n
        victim = (new + 1) % n
        lost = 0
        tail, tail_first = self.tail, self.tail_first
        if victim == tail:
            # The ring is full: the oldest sector goes, with whatever it holds unacknowledged.
            tail = (victim + 1) % n
            tail_first = self.head_first if tail == self.head else self._header(tail)[1]
            lost = max(0, tail_first - 1 - self.acked)
        h = self._header(victim)
        victim_erases = h[2] + 1 if h else self.spare_erases
        # Commit point: the new head's header carries the drop before anything is erased.
        self._write_header(new, self.head_sseq + 1, self.next_seq, self.spare_erases,
                           self.dropped + lost)
        self.head, self.head_sseq, self.head_first = new, self.head_sseq + 1, self.next_seq
        self.head_erases = self.spare_erases
        self.head_off, self.head_full, self.head_v1 = self.data_off, False, False
        self.dropped += lost
        self.tail, self.tail_first = tail, tail_first
        if tail_first - 1 > self.acked:
            self.acked = tail_first - 1
        if self.ack_sector == victim:
            self.ack_sector, self.ack_count = -1, 0
        if self._cursor == victim:
            self._cursor = -1
        self._erase(victim)
        self.spare_erases = victim_erases

    def _locate(self, seq):
        """-> (sector, first_seq) of the sector that holds seq (tail_first <= seq < next_seq)."""
        if seq >= self.head_first:
            return self.head, self.head_first
        n = self.n
        lo, hi = 0, (self.head - self.tail) % n  # positions from the tail; hi is the head
        first = self.tail_first
        while hi - lo > 1:
            mid = (lo + hi) // 2
            f = self._header((self.tail + mid) % n)[1]
            if f <= seq:
                lo, first = mid, f
            else:
                hi = mid
        if lo == 0:
            first = self.tail_first
        return (self.tail + lo) % n, first

    def ack(self, seq):
        """Everything up to seq is delivered: persist the read position (usually one byte)."""
        if seq >= self.next_seq:
            seq = self.next_seq - 1
        if seq <= self.acked:
            return
        sector, first = self._locate(seq)
        k = seq - first + 1
        k0 = self.ack_count if sector == self.ack_sector else 0
        if k > k0:
            lo, hi = k0 // 8, (k - 1) // 8
            buf = self._buf
            for j in range(lo, hi + 1):
                c = k - 8 * j
                buf[j - lo] = 0 if c >= 8 else (0xFF >> c)
            self._prog(sector, HDR_LEN + lo, memoryview(buf)[:hi - lo + 1])
        self.ack_sector, self.ack_count = sector, k
        self.acked = seq

    def read(self, after_seq, out, max_count, max_bytes):
        """Appends (seq, payload) with seq > after_seq, oldest first, to out; -> out."""
        seq = after_seq + 1
        if seq <= self.acked:
            seq = self.acked + 1
        if seq >= self.next_seq or max_count <= 0:
            return out
        if self._cursor >= 0 and self._cur_seq == seq:
            sector, off, v1 = self._cursor, self._cur_off, self._cur_v1
        else:
            sector, first = self._locate(seq)
            v1 = self._header(sector)[4]
            off = self._skip(sector, first, seq, v1)
        size = 0
        while seq < self.next_seq and len(out) < max_count:
            mv = None
            r = self._at(sector, off, seq, v1)
            if r is not None:
                if out and size + r[1] > max_bytes:
                    break
                mv = self._payload(sector, off, r, seq, v1)
            if mv is None:
                # The end of this sector's records (or a torn one): go on in the next sector.
                if sector == self.head:
                    break
                sector = (sector + 1) % self.n
                off = self.data_off
                h = self._header(sector)
                first, v1 = h[1], h[4]
                if first > seq:  # records lost to corruption: skip to what exists
                    seq = first
                continue
            out.append((seq, bytes(mv)))
            size += r[1]
            off += r[0] + r[1]
            seq += 1
        self._cursor, self._cur_off, self._cur_seq, self._cur_v1 = sector, off, seq, v1
        return out

    def _skip(self, sector, first, seq, v1):
        """Offset of record seq in sector, walking its record headers."""
        off = self.data_off
        for s in range(first, seq):
            r = self._at(sector, off, s, v1)
            if r is None:  # corrupt: read() goes on in the next sector
                break
            off += r[0] + r[1]
        return off

    def stats(self):
        return {"mode": self.mode, "sectors": self.n, "pending": self.pending,
                "dropped": self.dropped, "next_seq": self.next_seq,
                "erase_count": self.head_erases}


def open_log(board, cfg):
    """The node's log: the board's flash region (or its fallback), else RAM. Says which."""
    try:
        dev, mode = board.log_device(cfg)
        log = FlashLog(dev)
        log.mode = mode
    except Exception as e:  # no usable flash: keep the node running, loudly
        from app.memlog import MemLog
        say("log: NO FLASH LOG (%r): readings are kept in RAM only and lost on power loss" % (e,))
        log = MemLog()
        log.mode = "ram"
        return log
    if mode == "file":
        say("log: no 'smartlog' partition: LOWER-ENDURANCE file mode on the filesystem;"
              " flash the partition table (host_tools flash) to fix")
    say("log:", mode, "%d sectors, %d pending, %d dropped, next seq %d"
          % (log.n, log.pending, log.dropped, log.next_seq))
    return log
