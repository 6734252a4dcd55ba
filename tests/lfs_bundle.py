# Blocks a bundle takes on MicroPython's LittleFS (4 KiB blocks, the ESP32 port's
# mkfs defaults), as deploy leaves it on a node: code/ copied to /cur, and again to
# /next for a staged update (runs under the unix port; prints JSON).
#   micropython -X heapsize=16M tests/lfs_bundle.py <bundle dir>
import json
import os
import sys

import vfs


class RAMBlockDev:
    def __init__(self, block_size, num_blocks):
        self.block_size = block_size
        self.data = bytearray(block_size * num_blocks)

    def readblocks(self, block_num, buf, offset=0):
        addr = block_num * self.block_size + offset
        buf[:] = self.data[addr:addr + len(buf)]

    def writeblocks(self, block_num, buf, offset=None):
        if offset is None:
            offset = 0
        addr = block_num * self.block_size + offset
        self.data[addr:addr + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return len(self.data) // self.block_size
        if op == 5:
            return self.block_size
        if op == 6:
            return 0


def walk(d):
    for name, typ, *_ in os.ilistdir(d):
        p = d + "/" + name
        if typ == 0x4000:
            yield from walk(p)
        else:
            yield p


src = sys.argv[1]
files = [p[len(src):] for p in walk(src)]
bd = RAMBlockDev(4096, 512)
vfs.VfsLfs2.mkfs(bd)
fs = vfs.VfsLfs2(bd)
vfs.mount(fs, "/m")
def used():
    s = os.statvfs("/m")
    return s[2] - s[3]
out = {"empty": used()}
for copy in ("cur", "next"):
    for f in files:
        if not f.startswith("/code/"):
            continue
        dst = "/m/" + copy + f[5:]
        parts = dst.split("/")
        for i in range(3, len(parts)):
            try:
                os.mkdir("/".join(parts[:i]))
            except OSError:
                pass
        with open(src + f, "rb") as a, open(dst, "wb") as b:
            b.write(a.read())
    out[copy] = used()
print(json.dumps(out))
