"""A USB link to a node through the real mpremote, with plain-language errors.

`Link(port)` checks the port first (so "no such port", "no permission"
and "busy" each get their own advice), then enters the raw REPL with
mpremote's SerialTransport, interrupting whatever the node was running.
DEVICE_HELPERS are small functions the tools define on the node.
"""
import ast
import errno
import os

from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport

from . import paths


def _boot_helpers():
    """_exists and _rmtree exactly as boot.py has them (one copy of that code)."""
    text = (paths.FIRMWARE / "boot.py").read_text()
    return text[text.index("def _exists"):text.index("def _finish_deploy")]


DEVICE_HELPERS = _boot_helpers() + r"""
import os, hashlib, binascii
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
    import serial
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


class Link:
    def __init__(self, port, listen=0):
        check_port(port)
        try:
            # A read timeout, so a port where nothing answers ends in an error, not a hang.
            self.t = SerialTransport(port, baudrate=115200, timeout=2)
        except TransportError as e:
            raise LinkError("cannot open %s: %s" % (port, e))
        self.port = port
        self.console = self.read_console(listen) if listen else b""
        try:
            self.t.enter_raw_repl(soft_reset=False, timeout_overall=5)
        except TransportError:
            self.t.close()
            raise LinkError("the board on %s does not answer like MicroPython: put MicroPython on it "
                            "first (`smartnode flash --port %s`), or press its reset button and retry"
                            % (port, port))
        self.exec(DEVICE_HELPERS)

    def exec(self, code):
        try:
            return self.t.exec(code)
        except TransportExecError as e:
            raise LinkError("the node failed running a tool step:\n%s" % e.error_output.strip())
        except TransportError as e:
            raise LinkError("lost the link to the node on %s: %s" % (self.port, e))

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
        """Leave the raw REPL and soft-reset: boot.py, then main.py run as on power-up."""
        self.t.exit_raw_repl()
        self.t.serial.write(b"\x04")

    def read_console(self, timeout):
        """What the node printed within timeout seconds."""
        import time
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
        try:
            self.t.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

