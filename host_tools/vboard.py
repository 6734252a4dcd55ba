"""`vboard`: a virtual ESP32 for CI and for trying the tools without hardware.

The firmware runs under the MicroPython unix port on a LittleFS filesystem on
the NOR-flash emulator (firmware/app/norflash.py, kept in an image file; host_tools/vboard_device.py), behind a pseudo-terminal that speaks the REPL
exactly as a USB-connected board does, so `mpremote connect /dev/pts/N` and
our deploy/inspect/record work on it unchanged. This side relays bytes between
the pty and the VM, turns Ctrl-C into SIGINT while the VM runs code (as the
board's UART interrupt does) and starts a fresh VM on every soft reset.
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty

from . import mp, paths

DEVICE_SIDE = paths.ROOT / "host_tools" / "vboard_device.py"
RC_FRIENDLY, RC_RAW, RC_HARD = 8, 9, 10  # as in vboard_device.py


class VirtualBoard:
    """`with VirtualBoard() as vb:` then connect to vb.device (a /dev/pts path)."""

    def __init__(self, image=None, simdir=None, uarts=None, blockdev=None):
        self._tmp = tempfile.mkdtemp(prefix="vboard-")
        self.image = image or os.path.join(self._tmp, "flash.img")
        self.simdir = simdir or os.path.join(self._tmp, "sim")
        os.makedirs(self.simdir, exist_ok=True)
        # UART name -> capture file the unix-sim board replays as /sim/<name>.bin
        for name, src in (uarts or {"pm": paths.DATA / "sds011_capture_54frames.bin"}).items():
            shutil.copyfile(src, os.path.join(self.simdir, name + ".bin"))
        self.blockdev = blockdev  # "module:Class" of another flash block device (default: the NOR-flash emulator)
        self.proc = None
        self.busy = False
        self.boots = 0
        self._stop = threading.Event()

    def start(self):
        # One stdin pipe for every VM: bytes sent during a reboot wait in it, as in a UART FIFO.
        self._in_r, self._in_w = os.pipe()
        os.set_blocking(self._in_w, False)
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # mpremote sets raw mode too; this covers the time before
        os.set_blocking(self.master, False)
        self.device = os.ttyname(self._slave)
        self._spawn("friendly")
        self._thread = threading.Thread(target=self._relay, daemon=True)
        self._thread.start()
        return self

    def _spawn(self, mode):
        self.busy = False  # the VM says "B" while it runs code, "I" when it waits for input
        self._ready = False  # no "I" yet: the VM is still booting
        self._ctrl_c = False  # a Ctrl-C arrived during boot: it hits the first code that runs
        self.boots += 1
        self.proc = subprocess.Popen(
            [mp.binary(), "-X", "heapsize=8M", str(DEVICE_SIDE), self.image, mode, self.simdir]
            + ([self.blockdev] if self.blockdev else []),
            stdin=self._in_r, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
            env=dict(mp.env(), SMARTNODE_INERT_WATCHDOG="1"))

    def _to_pty(self, data):
        try:
            os.write(self.master, data)
        except BlockingIOError:
            pass  # nobody reads the port: output is lost, as on a real UART

    def _relay(self):
        while not self._stop.is_set():
            proc = self.proc
            fds = [self.master, proc.stdout, proc.stderr]
            ready, _, _ = select.select(fds, [], [], 0.2)
            # The VM's state before the port's bytes: a Ctrl-C must meet what the VM is now.
            if proc.stderr in ready:
                self._state(proc, proc.stderr.read(4096))
            if self.master in ready:
                try:
                    data = os.read(self.master, 4096)
                except (BlockingIOError, OSError):
                    data = b""
                if data:
                    if b"\x03" in data:
                        if select.select([proc.stderr], [], [], 0)[0]:
                            self._state(proc, proc.stderr.read(4096))
                        if self.busy:
                            self._interrupt(proc)
                        elif not self._ready:
                            self._ctrl_c = True
                    try:
                        os.write(self._in_w, data)
                    except BlockingIOError:
                        pass  # the VM is not reading and its FIFO is full: bytes lost, as on a UART
            if proc.stdout in ready:
                data = proc.stdout.read(4096)
                if data:
                    self._to_pty(data)
                else:
                    self._reboot(proc)

    def _state(self, proc, st):
        """What the VM says on stderr: B, running code; I, waiting for input."""
        if not st:
            return
        self.busy = st[-1:] == b"B"
        if b"I" in st:
            self._ready, self._ctrl_c = True, False
        elif self._ctrl_c:
            self._ctrl_c = False
            self._interrupt(proc)

    def _interrupt(self, proc):
        try:
            os.kill(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass  # it just ended (a reset): the new VM starts clean

    def _reboot(self, proc):
        rc = proc.wait()
        if self._stop.is_set():
            return
        if rc not in (RC_FRIENDLY, RC_RAW, RC_HARD):
            # The VM died: a real board's watchdog or brown-out would reset it.
            self._to_pty(b"\r\nvboard: the VM exited (%d); resetting\r\n" % rc)
            time.sleep(0.5)
        self._spawn("raw" if rc == RC_RAW else "friendly")

    def power_cut(self):
        """Kill the VM mid-whatever (flash keeps what was written) and power on again."""
        self.proc.kill()

    def stop(self):
        self._stop.set()
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(5)
        for f in (self.proc.stdout, self.proc.stderr):
            f.close()
        for fd in (self.master, self._slave, self._in_r, self._in_w):
            os.close(fd)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)


def add_arguments(p):
    p.add_argument("--image", help="LittleFS flash image to use (kept; created if missing)")
    p.add_argument("--blockdev", metavar="MODULE:CLASS",
                   help="flash block device class on the device's import path (default: the NOR-flash emulator on the image)")
    p.add_argument("--uart", action="append", default=[], metavar="NAME=FILE",
                   help="a capture the board replays on UART NAME (default pm=<bundled SDS011 capture>)")
    p.add_argument("--link", metavar="PATH",
                   help="also make PATH a symlink to the port, for `-p PATH` (removed when the board stops)")


def main(args):
    uarts = dict(u.split("=", 1) for u in args.uart) or None
    with VirtualBoard(image=args.image, uarts=uarts, blockdev=args.blockdev) as vb:
        if args.link:
            if os.path.islink(args.link):
                os.remove(args.link)  # a board stopped without clean-up left it
            os.symlink(vb.device, args.link)
        print(vb.device, flush=True)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))  # `kill %1` stops it cleanly too
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            if args.link and os.path.islink(args.link):
                os.remove(args.link)
