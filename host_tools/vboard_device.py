# The virtual board's device side. Runs under the MicroPython UNIX PORT (not
# CPython): mounts a LittleFS image on the NOR-flash emulator
# (firmware/app/norflash.py, file-backed, as "/" sits on a partition of an ESP32's NOR flash)
# as "/", runs /boot.py (and /main.py after
# power-on or a friendly soft reset) and speaks MicroPython's REPL on
# stdin/stdout as an ESP32 does on its USB serial port: the friendly REPL, the
# raw REPL (Ctrl-A), raw-paste (Ctrl-E 'A' 0x01), Ctrl-B back, Ctrl-D soft
# reset. A soft reset ends this process with RC_FRIENDLY/RC_RAW and the host
# (host_tools/vboard.py) starts a fresh VM, so a reset really clears the heap.
# Ctrl-C while code runs reaches us as SIGINT from the host (KeyboardInterrupt);
# stderr tells the host when we are busy ("B") or waiting for input ("I").
# Usage: micropython vboard_device.py IMAGE MODE [SIMDIR [BLOCKDEV_MODULE:CLASS]]
import io
import micropython
import os
import struct
import sys

import vfs

RC_FRIENDLY = 8
RC_RAW = 9
RC_HARD = 10  # machine.reset(): the host powers the board on again
KBD_INTERRUPT = b"Traceback (most recent call last):\r\nKeyboardInterrupt: \r\n"
BANNER = b"MicroPython v1.25.0 on 2025-04-15; vboard (unix port) with LittleFS\r\nType \"help()\" for more information.\r\n"
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"
PASTE_WINDOW = 512
FS_SECTORS = 207  # the vfs partition of esp32-devkitc (host_tools/partitions.py; test_partitions.py
                  # keeps them equal): two bundles fill it as on the board
flash = None  # the block device under "/", for tests (import __main__)


def nor_flash_class():
    """firmware/app/norflash.py, loaded as a plain module so the deployed `app` package stays unshadowed."""
    here = sys.argv[0].rpartition("/")[0] or "."
    sys.path.insert(0, here + "/../firmware/app")
    try:
        import norflash
    finally:
        sys.path.pop(0)
    del sys.modules["norflash"]
    return lambda path: norflash.NorFlash(FS_SECTORS, path=path)


class Uninterrupted:
    """The block device as the chip's C flash driver is: Ctrl-C cannot stop an operation
    halfway. On the chip, LittleFS's block operations are C, so a Ctrl-C (a pending
    exception) is raised in the Python code that called LittleFS. Ours are Python: raised
    in one, the KeyboardInterrupt would unwind through LittleFS's C code and leave its state
    broken (an open file kept in its list after its memory is freed: a crash later). So an
    operation hit by it is done again whole, and the Ctrl-C made pending again (SIGINT to
    ourselves) once it is: the next operation LittleFS asks for does the same, and the first
    Python code outside LittleFS gets it, as on the chip. Native code: the VM checks for a
    pending exception on bytecode jumps, never in native code, so nothing can slip out between
    the retry and the return (and the methods around it have no jumps). Bound methods made
    once, no *args: no garbage per block."""

    def __init__(self, dev):
        import ffi
        libc = ffi.open("libc.so.6")
        self._kill = libc.func("i", "kill", "ii")
        self._pid = libc.func("i", "getpid", "")()
        self._read, self._write = dev.readblocks, dev.writeblocks
        self._ioctl = lambda op, arg, _: dev.ioctl(op, arg)

    @micropython.native
    def _whole(self, op, a, b, c):
        again = False
        while True:
            try:
                r = op(a, b, c)
                break
            except KeyboardInterrupt:
                again = True
        if again:
            self._kill(self._pid, 2)
        return r

    def readblocks(self, block, buf, offset=0):
        return self._whole(self._read, block, buf, offset)

    def writeblocks(self, block, buf, offset=None):
        return self._whole(self._write, block, buf, offset)

    def ioctl(self, op, arg):
        return self._whole(self._ioctl, op, arg, None)


def mount(image, simdir, blockdev=None):
    global flash
    if not blockdev:
        cls = nor_flash_class()
    else:  # "module:Class": another block device class on the device's import path
        modname, _, clsname = blockdev.partition(":")
        cls = getattr(__import__(modname, None, None, (clsname,)), clsname)
    flash = cls(image)
    dev = Uninterrupted(flash)
    try:
        fs = vfs.VfsLfs2(dev)
    except OSError:
        vfs.VfsLfs2.mkfs(dev)
        fs = vfs.VfsLfs2(dev)
    vfs.umount("/")
    vfs.mount(fs, "/")
    if simdir:
        vfs.mount(vfs.VfsPosix(simdir), "/sim")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]  # as on an ESP32


out = sys.stdout.buffer
inp = sys.stdin.buffer
state = sys.stderr.buffer
user = {"__name__": "__main__"}


def w(b):
    out.write(b)


pushback = []  # bytes that arrived while the VM was rebooting


def drain():
    """Take what waits in the port (the pipe outlives a VM, like a UART FIFO)."""
    import select
    p = select.poll()
    p.register(0, select.POLLIN)  # fd 0: the unix port polls raw descriptors
    while p.poll(0):
        b = inp.read(1)
        if not b:
            break
        pushback.append(b[0])


def getc():
    if pushback:
        return pushback.pop(0)
    try:
        b = inp.read(1)
    except KeyboardInterrupt:
        return 3
    if not b:
        sys.exit(0)  # the host went away
    return b[0]


class HardReset(BaseException):
    pass


class Machine:
    """The unix port's machine module, with reset() as on a chip: the board restarts
    (boot.py, main.py), as `mpremote reset` expects."""

    def __init__(self, mod):
        self._mod = mod

    def __getattr__(self, name):
        return getattr(self._mod, name)

    @staticmethod
    def reset():
        raise HardReset()

    @staticmethod
    def soft_reset():
        raise SystemExit()


def run(code):
    """Execute code in the REPL's globals; -> error text (bytes), empty if none."""
    state.write(b"B")
    try:
        exec(code, user)
        err = b""
    except BaseException as e:  # KeyboardInterrupt included: back to the REPL
        if isinstance(e, HardReset):
            w(b"\r\n")
            sys.exit(RC_HARD)
        if isinstance(e, SystemExit):
            soft_reboot(RC_FRIENDLY)
        s = io.StringIO()
        sys.print_exception(e, s)
        err = s.getvalue().encode()
    state.write(b"I")
    return err


def run_file(path):
    try:
        with open(path) as f:
            code = f.read()
    except OSError:
        return
    err = run(code)
    if err:
        w(err)


def soft_reboot(rc):
    w(b"MPY: soft reboot\r\n")
    sys.exit(rc)


def raw_paste():
    """The pasted code, or None if Ctrl-C ended the paste (as a chip's stdin reader does)."""
    w(b"R\x01" + struct.pack("<H", PASTE_WINDOW))
    code = bytearray()
    got = 0
    while True:
        c = getc()
        if c == 3:
            w(b"\x04")
            return None
        if c == 4:
            break
        code.append(c)
        got += 1
        if got == PASTE_WINDOW:
            got = 0
            w(b"\x01")
    w(b"\x04")
    return code


def raw_repl():
    state.write(b"I")
    w(RAW_BANNER + b">")
    line = bytearray()
    while True:
        c = getc()
        if c == 1:
            w(RAW_BANNER + b">")
            line = bytearray()
        elif c == 2:
            w(b"\r\n")
            return
        elif c == 3:
            line = bytearray()
        elif c == 4:
            if not line:
                w(b"\r\n")
                soft_reboot(RC_RAW)
            w(b"OK")
            w(b"\x04" + run(line) + b"\x04>")
            line = bytearray()
        elif c == 5 and not line:
            if getc() == 0x41 and getc() == 1:
                code = raw_paste()
                err = KBD_INTERRUPT if code is None else run(code)
                w(b"\x04" + err + b"\x04>")
            else:
                w(b"R\x00")
        else:
            line.append(c)


def friendly_line(text):
    try:
        code = compile(text, "<stdin>", "single")
    except SyntaxError:
        code = text
    err = run(code)
    if err:
        w(err.replace(b"\n", b"\r\n"))


def friendly_repl():
    state.write(b"I")
    w(BANNER + b">>> ")
    line = bytearray()
    while True:
        c = getc()
        if c == 1:
            w(b"\r\n")
            raw_repl()
            w(BANNER + b">>> ")
        elif c == 2:
            w(b"\r\n" + BANNER + b">>> ")
        elif c == 3:
            line = bytearray()
            w(b"\r\n>>> ")
        elif c == 4:
            if not line:
                w(b"\r\n")
                soft_reboot(RC_FRIENDLY)
        elif c == 13:
            w(b"\r\n")
            if line:
                friendly_line(bytes(line).decode())
            line = bytearray()
            w(b">>> ")
        elif c in (8, 127):
            if line:
                line.pop()
                w(b"\x08 \x08")
        elif c >= 32:
            line.append(c)
            w(bytes((c,)))


def main():
    import machine
    sys.modules["machine"] = Machine(machine)
    image, mode = sys.argv[1], sys.argv[2]
    mount(image, sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None,
          sys.argv[4] if len(sys.argv) > 4 else None)
    drain()
    run_file("/boot.py")
    if mode == "friendly":
        if 3 not in pushback:  # a Ctrl-C during boot: no main.py
            run_file("/main.py")
    else:
        raw_repl()
    friendly_repl()


main()
