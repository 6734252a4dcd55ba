# The flash log of the firmware before compact record headers ("SLg1" sectors), kept
# verbatim from git (commit bc0ffa2, firmware/app/flashlog.py) so the tests
# can write a log as a node in the field has it and update it to today's firmware/app/flashlog.py.
# Never edit it: it is what older nodes run.
# The store-and-forward log on a raw flash region: 4 KiB sectors used as a
# ring, records appended by programming only, one erase per sector filled.
#
# Sector layout (little endian):
#   0   magic "SLg1"
#   4   sector_seq  u32  +1 per sector opened: orders the ring at boot
#   8   first_seq   u32  sequence number of the sector's first record
#   12  erase_count u32  wear accounting
#   16  dropped     u32  readings dropped so far, including this sector's victim
#   20  crc32 of bytes 0..20
#   24  ack bitmap: k leading cleared bits (MSB first) = the sector's first k
#       records are acknowledged; the newest sector with any holds the read position
#   24+ACK records: len u16, seq u32, crc32(len, seq, payload) u32, payload
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

MAGIC = b"SLg1"
HDR = "<4sIIIII"
HDR_LEN = 24
REC = "<HII"
REC_LEN = 10
ERASE = 6


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
        self.ack_len = (bs // REC_LEN + 7) // 8
        self.data_off = HDR_LEN + self.ack_len
        self.max_payload = bs - self.data_off - REC_LEN
        self._hdr = bytearray(self.data_off)
        self._rec = bytearray(REC_LEN)
        self._buf = bytearray(bs)
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
        """Reads header and ack bitmap into _hdr; -> (sector_seq, first_seq, erases, dropped) or None."""
        h = self._hdr
        self._read(sector, 0, h)
        if h[0:4] != MAGIC:
            return None
        magic, sseq, first, erases, dropped, crc = struct.unpack_from(HDR, h)
        if crc32(memoryview(h)[:20]) != crc:
            return None
        return sseq, first, erases, dropped

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
        mv = memoryview(self._buf)[:self.bs - off]
        self._read(sector, off, mv)
        for b in mv:
            if b != 0xFF:
                return False
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
        self.dropped = hh[3]
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
        bs, rec = self.bs, self._rec
        off, seq = self.data_off, self.head_first
        self.head_full = False
        while off + REC_LEN <= bs:
            self._read(self.head, off, rec)
            length, rseq, crc = struct.unpack_from(REC, rec)
            if length == 0xFFFF and rseq == 0xFFFFFFFF and crc == 0xFFFFFFFF:
                break
            if rseq != seq or length > bs - off - REC_LEN or self._payload(self.head, off, length, crc) is None:
                self.head_full = True  # a half-written record: never append after it
                break
            off += REC_LEN + length
            seq += 1
        if not self.head_full and not self._blank_from(self.head, off):
            # An interrupted program may leave bits anywhere in its range, even
            # past a record header that reads erased: never program over them.
            self.head_full = True
        self.head_off = off
        self.next_seq = seq

    def _payload(self, sector, off, length, crc):
        """Reads the payload of the record at off into _buf; -> its memoryview, or None if corrupt."""
        mv = memoryview(self._buf)[:length]
        self._read(sector, off + REC_LEN, mv)
        if crc32(mv, crc32(memoryview(self._rec)[:6])) != crc:
            return None
        return mv

    def _format(self):
        self._erase(0)
        self._write_header(0, 1, 1, 1, 0)
        self._erase(1)
        self.head, self.head_sseq, self.head_first, self.head_erases = 0, 1, 1, 1
        self.tail, self.tail_first = 0, 1
        self.head_off, self.head_full, self.next_seq = self.data_off, False, 1
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
        if self.head_full or self.head_off + REC_LEN + n > self.bs:
            self._open_next()
        seq = self.next_seq
        buf = self._buf
        struct.pack_into("<HI", buf, 0, n, seq)
        buf[REC_LEN:REC_LEN + n] = payload
        mv = memoryview(buf)
        struct.pack_into("<I", buf, 6, crc32(mv[REC_LEN:REC_LEN + n], crc32(mv[:6])))
        self._prog(self.head, self.head_off, mv[:REC_LEN + n])
        self.head_off += REC_LEN + n
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
        self.head_off, self.head_full = self.data_off, False
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
            sector, off = self._cursor, self._cur_off
        else:
            sector, first = self._locate(seq)
            off = self._skip(sector, first, seq)
        size = 0
        rec, bs = self._rec, self.bs
        while seq < self.next_seq and len(out) < max_count:
            mv = None
            if off + REC_LEN <= bs:
                self._read(sector, off, rec)
                length, rseq, crc = struct.unpack_from(REC, rec)
                if rseq == seq and length <= bs - off - REC_LEN:
                    if out and size + length > max_bytes:
                        break
                    mv = self._payload(sector, off, length, crc)
            if mv is None:
                # The end of this sector's records (or a torn one): go on in the next sector.
                if sector == self.head:
                    break
                sector = (sector + 1) % self.n
                off = self.data_off
                first = self._header(sector)[1]
                if first > seq:  # records lost to corruption: skip to what exists
                    seq = first
                continue
            out.append((seq, bytes(mv)))
            size += length
            off += REC_LEN + length
            seq += 1
        self._cursor, self._cur_off, self._cur_seq = sector, off, seq
        return out

    def _skip(self, sector, first, seq):
        """Offset of record seq in sector, walking its record headers."""
        off, rec = self.data_off, self._rec
        for _ in range(seq - first):
            self._read(sector, off, rec)
            off += REC_LEN + struct.unpack_from("<H", rec)[0]
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
