# A NOR-flash emulator for the unix port, behind the block interface that
# esp32.Partition offers: readblocks(block, buf[, offset]),
# writeblocks(block, buf[, offset]) (without an offset the blocks are erased
# first), ioctl(op, arg) with 4 = block count, 5 = block size, 6 = erase block.
#
# Like real NOR flash, programming can only clear bits (the stored byte becomes
# old & new) and only an erase sets a whole sector back to 0xFF. Every program
# and erase is one numbered operation; a power cut can be armed at any of them,
# in the middle of a program (a prefix lands, plus some bits of the next byte)
# or of an erase (the sector is left in an undefined state). From then on the
# device refuses every operation until power_on().
import random
from array import array

SECTOR = 4096


class PowerCut(Exception):
    pass


class NorFlash:
    def __init__(self, sectors, sector_size=SECTOR, path=None):
        self.sectors = sectors
        self.sector_size = sector_size
        self.size = sectors * sector_size
        self.mem = bytearray(self.size)
        self._blank = b"\xff" * sector_size
        for s in range(sectors):
            self.mem[s * sector_size:(s + 1) * sector_size] = self._blank
        self.erases = array("I", [0] * sectors)       # per sector
        self.programmed = array("I", [0] * sectors)   # bytes programmed, per sector
        self.ops = 0            # program and erase operations so far
        self.overwrites = 0     # programs that asked for a 0 -> 1 change (real flash ignores it)
        self.cut_at = -1
        self.cut_fraction = 0.5
        self.cut_scatter = False
        self.dead = False
        self._file = None
        if path:
            self._attach(path)

    # -- persistence: a file image so a virtual node's log survives restarts
    def _attach(self, path):
        try:
            f = open(path, "r+b")
            n = f.readinto(self.mem)
            if n != self.size:  # a different geometry: start blank
                for s in range(self.sectors):
                    self.mem[s * self.sector_size:(s + 1) * self.sector_size] = self._blank
                f.seek(0)
                f.write(self.mem)
        except OSError:
            f = open(path, "w+b")
            f.write(self.mem)
        f.flush()
        self._file = f

    def _persist(self, start, end):
        f = self._file
        if f is not None:
            f.seek(start)
            f.write(memoryview(self.mem)[start:end])
            f.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- power-cut injection
    def cut(self, at_op, fraction=0.5, scatter=False):
        """Lose power during operation number at_op (0 = the next one); fraction of it lands.

        With scatter, a cut program also leaves stray bits of its data past that
        point, as a page program interrupted on real NOR flash can.
        """
        self.cut_at = self.ops + at_op
        self.cut_fraction = fraction
        self.cut_scatter = scatter

    def power_on(self):
        self.dead = False
        self.cut_at = -1

    def _begin(self):
        if self.dead:
            raise PowerCut("flash is unpowered")
        op = self.ops
        self.ops += 1
        return op == self.cut_at

    # -- the block interface
    def readblocks(self, block, buf, offset=0):
        if self.dead:
            raise PowerCut("flash is unpowered")
        start = block * self.sector_size + offset
        end = start + len(buf)
        if end > self.size:
            raise OSError(22)
        buf[:] = memoryview(self.mem)[start:end]

    def writeblocks(self, block, buf, offset=None):
        if offset is None:
            n = (len(buf) + self.sector_size - 1) // self.sector_size
            for b in range(block, block + n):
                self.erase(b)
            offset = 0
        self.program(block * self.sector_size + offset, buf)

    def ioctl(self, op, arg):
        if op == 4:
            return self.sectors
        if op == 5:
            return self.sector_size
        if op == 6:
            self.erase(arg)
            return 0
        if op in (1, 2, 3):  # init, deinit, sync
            return 0
        return None

    def program(self, addr, data):
        n = len(data)
        if addr < 0 or addr + n > self.size:
            raise OSError(22)
        cut = self._begin()
        land = n
        if cut:
            land = int(n * self.cut_fraction)
        mem = self.mem
        ss = self.sector_size
        for i in range(land):
            old = mem[addr + i]
            new = data[i]
            if new & ~old & 0xFF:
                self.overwrites += 1
            mem[addr + i] = old & new
        if cut and land < n:
            # The byte being programmed when power went: some of its zero bits landed.
            if self.cut_scatter:
                for i in range(land, n):
                    if random.getrandbits(4) == 0:
                        mem[addr + i] &= data[i] | random.getrandbits(8)
            else:
                mem[addr + land] &= data[land] | random.getrandbits(8)
        first = addr // ss
        last = (addr + max(n, 1) - 1) // ss
        for s in range(first, last + 1):
            lo = max(addr, s * ss)
            hi = min(addr + n, (s + 1) * ss)
            self.programmed[s] += hi - lo
        self._persist(addr, addr + n)
        if cut:
            self.dead = True
            raise PowerCut("power cut while programming %d bytes at 0x%x" % (n, addr))

    def erase(self, sector):
        if not 0 <= sector < self.sectors:
            raise OSError(22)
        cut = self._begin()
        ss = self.sector_size
        start = sector * ss
        mem = self.mem
        self.erases[sector] += 1
        if cut:
            # Undefined: an erased prefix, then bytes left as they were or half-erased.
            k = int(ss * self.cut_fraction)
            for i in range(start, start + k):
                mem[i] = 0xFF
            for i in range(start + k, start + ss, 7):
                mem[i] |= random.getrandbits(8)
            self._persist(start, start + ss)
            self.dead = True
            raise PowerCut("power cut while erasing sector %d" % sector)
        mem[start:start + ss] = self._blank
        self._persist(start, start + ss)

    # -- wear accounting
    def total_erases(self):
        return sum(self.erases)

    def total_programmed(self):
        return sum(self.programmed)
