# The fallback for boards whose partition table has no log partition: a block
# device over a file on the filesystem MicroPython mounts at /, with NOR
# semantics (programming clears bits, erase sets 0xFF), so the flash log runs
# unchanged. LittleFS commits each flushed write atomically, so power-loss
# safety holds, but every small write costs the filesystem an erase: far lower
# endurance than a raw partition. open_log reports this mode loudly.


class FileBlocks:
    def __init__(self, path, blocks, block_size=4096):
        self.blocks = blocks
        self.bs = block_size
        self._blank = b"\xff" * block_size
        self._tmp = bytearray(block_size)
        try:
            f = open(path, "r+b")
            size = f.seek(0, 2)
        except OSError:
            f = open(path, "w+b")
            size = 0
        self._f = f
        for b in range(size // block_size, blocks):
            f.seek(b * block_size)
            f.write(self._blank)
        f.flush()

    def readblocks(self, block, buf, offset=0):
        f = self._f
        f.seek(block * self.bs + offset)
        f.readinto(buf)

    def writeblocks(self, block, buf, offset=None):
        if offset is None:
            for b in range(block, block + (len(buf) + self.bs - 1) // self.bs):
                self.ioctl(6, b)
            offset = 0
        f, tmp = self._f, self._tmp
        addr = block * self.bs + offset
        done = 0
        while done < len(buf):
            n = min(len(buf) - done, self.bs)
            cur = memoryview(tmp)[:n]
            f.seek(addr + done)
            f.readinto(cur)
            for i in range(n):
                cur[i] &= buf[done + i]
            f.seek(addr + done)
            f.write(cur)
            done += n
        f.flush()

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return self.bs
        if op == 6:
            self._f.seek(arg * self.bs)
            self._f.write(self._blank)
            self._f.flush()
            return 0
        if op in (1, 2, 3):
            return 0
        return None
