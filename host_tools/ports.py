"""The serial-port argument every command shares: `-p/--port`, found by itself when
exactly one ESP32 board is plugged in (pyserial's list_ports, by the USB ids of the
bridges ESP32 boards carry)."""
import sys

from serial.tools import list_ports

# (USB vendor id, product id) -> bridge, as the boards' USB chips report them.
BRIDGES = {
    (0x10C4, 0xEA60): "CP210x",
    (0x1A86, 0x7523): "CH340",
    (0x1A86, 0x55D4): "CH9102",
    (0x0403, 0x6001): "FTDI FT232R",
    (0x0403, 0x6010): "FTDI FT2232",
    (0x0403, 0x6014): "FTDI FT232H",
    (0x0403, 0x6015): "FTDI FT231X",
    (0x303A, 0x1001): "ESP32-S3/C3 USB-JTAG",
    (0x303A, 0x4001): "ESP32-S2/S3 USB CDC",
}


class PortError(RuntimeError):
    pass


def add(p, help_="serial port of the node", auto=True):
    """-p/--port on parser p; auto: absent means the one ESP32 board plugged in."""
    p.add_argument("-p", "--port", required=False,
                   help=help_ + (" (default: the one ESP32 board plugged in over USB)" if auto else ""))


def candidates(ports=None):
    """[(device, what)] of the plugged-in ports that look like an ESP32 board."""
    found = []
    for info in (list_ports.comports() if ports is None else ports):
        bridge = BRIDGES.get((info.vid, info.pid))
        if bridge:
            found.append((info.device, "%s%s" % (bridge, ", " + info.description
                                                   if info.description and info.description != "n/a" else "")))
    return sorted(found)


def find(port, ports=None):
    """The port given, or the only ESP32 board plugged in; PortError says what to do otherwise."""
    if port:
        return port
    found = candidates(ports)
    if len(found) == 1:
        sys.stderr.write("using %s (%s)\n" % found[0])
        return found[0][0]
    if not found:
        raise PortError("no ESP32 board found on USB: plug it in with a data USB cable (charge-only "
                        "cables carry no data), or give its port with -p PORT "
                        "(`python -m serial.tools.list_ports -v` lists them)")
    raise PortError("%d boards are plugged in; say which with -p PORT:\n%s"
                    % (len(found), "\n".join("  %s  (%s)" % f for f in found)))


def resolve(port, command):
    """find() for a command's main: its error ends the command with the advice."""
    try:
        return find(port)
    except PortError as e:
        raise SystemExit("%s: %s" % (command, e))
