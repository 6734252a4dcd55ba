"""A USB link to a node through the real mpremote, with plain-language errors.

`Link(port)` checks the port first (so "no such port", "no permission"
and "busy" each get their own advice), then enters the raw REPL with
mpremote's SerialTransport, interrupting whatever the node was running.
DEVICE_HELPERS are small functions the tools define on the node.
"""
import ast
import errno
import os
import sys
import time

import serial

from mpremote.transport import TransportError
from mpremote.transport_serial import SerialTransport

from . import paths


def _boot_helpers():
    """_exists, _rmtree and _finish_deploy exactly as boot.py has them (one copy of that code)."""
    text = (paths.FIRMWARE / "boot.py").read_text()
    return text[text.index("def _exists"):text.index("\ntry:\n    _finish_deploy()")]


DEVICE_HELPERS = _boot_helpers() + r"""
import os, sys, hashlib, binascii
_smartnode_link = 1  # what a cut-off session leaves behind: the next one starts afresh (Link)
# Our Ctrl-C may have hit boot.py and cut it short: finish a committed deploy and set the
# import path, as boot.py would have.
if _exists('/swap'):
    _finish_deploy()
if '/cur' not in sys.path:
    sys.path[1:1] = ['/cur', '/cur/lib']
def _sha(p):
    h = hashlib.sha256()
    b = bytearray(512)
    m = memoryview(b)
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(b)
            if not n:
                break
            h.update(m[:n])
    return binascii.hexlify(h.digest()).decode()
def _walk(p, rel, out):
    for e in os.ilistdir(p):
        q = p + '/' + e[0]
        if e[1] == 0x4000:
            _walk(q, rel + e[0] + '/', out)
        else:
            out[rel + e[0]] = _sha(q)
    return out
def _digests(p):
    try:
        return _walk(p, '', {})
    except OSError:
        return {}
def _mkdirs(p):
    d = ''
    for part in p.split('/')[1:-1]:
        d += '/' + part
        try:
            os.mkdir(d)
        except OSError:
            pass
def _copy(a, b):
    _mkdirs(b)
    buf = bytearray(512)
    m = memoryview(buf)
    with open(a, 'rb') as s, open(b, 'wb') as d:
        while True:
            n = s.readinto(buf)
            if not n:
                break
            d.write(m[:n])
"""


class LinkError(RuntimeError):
    pass


def check_port(port):
    """Open and close the port once, turning OS errors into advice."""
    if not port.startswith(("socket://", "rfc2217://")) and not os.path.exists(port):
        raise LinkError("no serial port %s: plug the board in with a data USB cable and check the name "
                        "(`python -m serial.tools.list_ports` lists them; on Linux usually /dev/ttyUSB0 "
                        "or /dev/ttyACM0)" % port)
    try:
        s = serial.Serial(port, 115200, exclusive=True, timeout=0)
    except serial.SerialException as e:
        text = str(e)
        if getattr(e, "errno", None) == errno.EACCES or "Permission denied" in text:
            raise LinkError("no permission to open %s: add yourself to the serial group "
                            "(`sudo usermod -aG dialout $USER`, then log in again)" % port)
        if "lock" in text or getattr(e, "errno", None) == errno.EBUSY or "busy" in text:
            raise LinkError("%s is busy: another program has it open (a serial monitor, Thonny, "
                            "another mpremote); close it and try again" % port)
        raise LinkError("cannot open %s: %s" % (port, text))
    s.close()


STEP_S = 60  # the longest a tool step may take on the node (hashing a bundle on a chip: seconds)
RAW_PROMPT = b"raw REPL; CTRL-B to exit\r\n"  # its ">" is left for mpremote's exec
# Ways back to the raw REPL from whatever a node was left in, tried in turn until it answers.
# Ctrl-C stops a running program (the node's loop, a tool step) and, on a chip, ends a raw
# paste cut off midway and clears a raw-REPL line; Ctrl-D ends a paste that took Ctrl-C as
# data (its partial code fails to compile) or soft-resets; Ctrl-B leaves the raw REPL.
KICKS = (b"\r\x03\x03", b"\r\x03\x03", b"\x04", b"\r\x03\x03", b"\r\x02\x03\x03", b"\r\x03\x03")


class Link:
    """The raw REPL of a node, entered from whatever state it is in. Leaving the `with`
    block (normally, on an error or on Ctrl-C) resumes the node: a soft reset, so
    boot.py and main.py run as on power-up."""

    def __init__(self, port, listen=0, resume=True, say=None):
        check_port(port)
        try:
            # A read timeout, so a port where nothing answers ends in an error, not a hang.
            self.t = SerialTransport(port, baudrate=115200, timeout=2)
        except TransportError as e:
            raise LinkError("cannot open %s: %s" % (port, e))
        self.port = port
        self.say = say or (lambda text: sys.stderr.write(text + "\n"))
        self.resumed = not resume  # True: nothing left to do on close
        self.recovered = False
        try:
            self.console = self.read_console(listen) if listen else b""
            self._enter()
            self._afresh()
            self.exec(DEVICE_HELPERS)
        except BaseException:
            self.close()
            raise

    def _enter(self):
        """Stop the node and enter the raw REPL, recovering a REPL left stuck by a command
        that was cut off (raw mode, mid raw-paste)."""
        ser = self.t.serial
        heard = b""
        for i, kick in enumerate(KICKS):
            ser.write(kick)
            heard += self.read_console(0.3 if i < 2 else 1.0)  # what it says on the way
            ser.write(b"\r\x01")
            data = self.t.read_until(1, RAW_PROMPT, timeout=1, timeout_overall=2 + i)
            heard += data
            if data.endswith(RAW_PROMPT):
                self.t.in_raw_repl = True
                if i >= 2:
                    self.recovered = True
                    self.say("link: the node on %s was stuck in its REPL (a command cut off "
                             "midway?); recovered it" % self.port)
                return
        if not heard.strip(b"\r\n\x00"):
            raise LinkError("nothing answers on %s: is it the board's port, and is MicroPython on "
                            "it? Press its reset button (EN/RST) and retry; a blank board needs "
                            "MicroPython first (`smartnode flash --port %s`)" % (self.port, self.port))
        if b"MicroPython" in heard or b">>>" in heard or b"raw REPL" in heard:
            raise LinkError("the node on %s runs MicroPython but does not take commands (it ignores "
                            "Ctrl-C): press its reset button (EN/RST) and retry" % self.port)
        raise LinkError("the board on %s does not answer like MicroPython: press its reset button "
                        "(EN/RST) and retry; if it still does not answer, put MicroPython on it "
                        "(`smartnode flash --port %s`)" % (self.port, self.port))

    def _afresh(self):
        """A session that ended normally soft-reset the node. If another tool's helpers are still
        defined, that command was cut off (killed, the cable pulled) with its files still open on
        the node, where LittleFS must not meet them again: restart the interpreter first."""
        left = self.eval("('_smartnode_link' in globals(), '_exists' in globals() and _exists('/next'))")
        if not left[0]:
            return
        self.t.serial.write(b"\x04")  # at the raw prompt: soft reset; boot.py, then the raw REPL
        data = self.t.read_until(1, b"soft reboot\r\n", timeout=10)
        data += self.t.read_until(1, RAW_PROMPT, timeout=30)
        if not data.endswith(RAW_PROMPT):
            raise LinkError("the node on %s did not come back from a soft reset: press its reset "
                            "button (EN/RST) and retry" % self.port)
        self.recovered = True
        self.say("link: the command before this one was cut off midway on %s; restarted the "
                 "node's interpreter (a soft reset) before going on.%s" % (self.port, (
                     " It was a deploy: the node still runs the previous version (the half-staged "
                     "one is thrown away); a deploy puts the new one on." if left[1] else "")))

    def exec(self, code, timeout=STEP_S):
        """Run code on the node; -> what it printed. mpremote's own exec waits as long as
        bytes keep coming: a node that restarted mid-step and runs its app would hold the
        tool for ever. Here each answer has an overall deadline."""
        try:
            self.t.exec_raw_no_follow(code)
            answer = self._answer(timeout)
        except (TransportError, serial.SerialException) as e:
            raise LinkError("lost the link to the node on %s: %s" % (self.port, e))
        out, _, err = answer.partition(b"\x04")
        if answer.count(b"\x04") < 2:
            tail = answer.replace(b"\x04", b"").decode("utf-8", "replace").strip().splitlines()[-3:]
            raise LinkError("the node on %s did not finish a tool step within %d s (it restarted, or "
                            "hangs; it said: %s): run the command again; if it keeps happening, press "
                            "the board's reset button (EN/RST)" % (self.port, timeout, " / ".join(tail) or "nothing"))
        if err[:-1]:
            raise LinkError("the node failed running a tool step:\n%s" % err[:-1].decode("utf-8", "replace").strip())
        return out

    def _answer(self, timeout):
        """A step's output and error output, each ended by Ctrl-D, read up to the second one
        (the raw prompt after it is left for the next step) or until the deadline."""
        ser = self.t.serial
        old, ser.timeout = ser.timeout, 0.1
        data = bytearray()
        ends = 0
        deadline = time.monotonic() + timeout
        try:
            while ends < 2 and time.monotonic() < deadline:
                b = ser.read(1)
                if b:
                    data += b
                    ends += b == b"\x04"
        finally:
            ser.timeout = old
        return bytes(data)

    def eval(self, expr):
        return ast.literal_eval(self.exec("print(repr(%s))" % expr).decode().strip())

    def write_file(self, path, data, chunk=512):
        """Write a file through exec, each chunk a bytes literal (as mpremote's fs cp does)."""
        self.exec("_mkdirs(%r)\n_f=open(%r,'wb')" % (path, path))
        for i in range(0, len(data), chunk):
            self.exec("_f.write(%r)" % bytes(data[i:i + chunk]))
        self.exec("_f.close()")

    def write_file_atomic(self, path, data):
        self.write_file(path + ".tmp", data)
        self.exec("os.rename(%r, %r)" % (path + ".tmp", path))

    def read_file(self, path):
        """bytes, or None if the file does not exist."""
        return self.eval("open(%r,'rb').read() if _exists(%r) else None" % (path, path))

    def soft_reset(self):
        """Resume the node: stop what the link started (Ctrl-C, which also ends a raw paste
        cut off midway), leave the raw REPL (Ctrl-B) and soft-reset (Ctrl-D): boot.py, then
        main.py run as on power-up."""
        self.resumed = True
        ser = self.t.serial
        for b in (b"\r\x03", b"\r\x02", b"\x04"):
            if b == b"\x04":
                ser.reset_input_buffer()  # the REPL's banner: what follows is the node's boot
            ser.write(b)
            ser.flush()
            time.sleep(0.05)
        self.t.in_raw_repl = False

    def read_console(self, timeout):
        """What the node printed within timeout seconds."""
        ser = self.t.serial
        old, ser.timeout = ser.timeout, 0.1
        out = b""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                out += ser.read(4096)
        finally:
            ser.timeout = old
        return out

    def close(self):
        """Resume the node (unless it already was) and let go of the port."""
        try:
            if not self.resumed:
                self.soft_reset()
        except (OSError, serial.SerialException):
            pass  # the cable is gone: the node resumes on its own power-up
        finally:
            try:
                self.t.close()
            except OSError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

