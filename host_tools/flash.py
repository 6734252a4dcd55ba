"""`flash`: MicroPython and smartnode's partition table onto an ESP32, with esptool.

Everything that can refuse is checked before the board is touched: the board
profile, the MicroPython image (the variant the profile names, for the right
chip, undamaged, laid out as MicroPython's makeimg.py lays it out) and that
its app fits our app partition. Then the chip and its flash size are read
from the board. Then ONE `esptool write-flash` writes three parts that do not
overlap: MicroPython's bootloader (at 0x1000 on the ESP32, 0x0 on the S3 and
C3), our partition table at 0x8000 (host_tools/partitions.py: the "smartlog"
log partition and "vfs"), and MicroPython's app at 0x10000, with the flash
size of the board profile written into the bootloader header (ESP32_GENERIC's
says 4 MB; an 8 MB board would otherwise not reach its log and filesystem).

By default `--erase-all` empties the whole flash first: a board that ran stock
MicroPython keeps its old filesystem where our log and vfs begin, and an
erased vfs is formatted afresh by MicroPython at first boot (its _boot.py).
esptool does that erase inside write-flash, after its own argument, image and
size checks, so a refusal never leaves a blank board. With --no-erase a board
that already has smartnode's table keeps its config and log; any other board
is erased all the same (nothing on it is where we keep data), and flash says so.
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from . import boards, espimage, partitions, paths

MICROPYTHON = "v1.25.0"
RELEASE = "20250415"  # the date in the 1.25.0 download names
PARTITION_TABLE_OFFSET = partitions.TABLE_OFFSET
DEFAULT_BAUD = 460800


class FlashError(RuntimeError):
    pass


def offset(chip):
    return espimage.BOOTLOADER_OFFSET[chip]


def image_name(profile):
    """The file MicroPython's download page has for this board, e.g.
    ESP32_GENERIC_S3-SPIRAM_OCT-20250415-v1.25.0.bin."""
    mp = profile["micropython"]
    return "-".join(filter(None, (mp["board"], mp.get("variant"), RELEASE, MICROPYTHON))) + ".bin"


def esptool(args):
    """Run esptool quietly -> CompletedProcess (wide lines: its error boxes are not wrapped)."""
    return subprocess.run([sys.executable, "-m", "esptool"] + args, capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="300"))


def esptool_shown(args):
    """Run esptool with its output (progress bars) on the terminal; -> (returncode, output)."""
    proc = subprocess.Popen([sys.executable, "-m", "esptool"] + args,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = bytearray()
    while True:
        chunk = proc.stdout.read1(4096)
        if not chunk:
            break
        out += chunk
        sys.stdout.buffer.write(chunk)
        sys.stdout.flush()
    return proc.wait(), out.decode(errors="replace")


def explain(port, output):
    """esptool's failure output (of the command that failed) -> what the technician should do."""
    if "No such file or directory" in output:
        return "no serial port %s: plug the board in with a data USB cable and check the port name" % port
    if "Permission denied" in output:
        return "no permission to open %s: `sudo usermod -aG dialout $USER`, then log in again" % port
    if "busy" in output or "Could not exclusively lock" in output:
        return "%s is busy: close the other program using it (serial monitor, mpremote, Thonny)" % port
    if "Failed to connect" in output or "No serial data received" in output or "Wrong boot mode" in output:
        return ("no ESP32 bootloader answered on %s: hold the BOOT button, press and release EN/RST, "
                "release BOOT, and run flash again" % port)
    rev = re.search(r"requires chip revision (.+?) \(this chip is revision (.+?)\)", output)
    if rev:
        return ("the chip on %s is revision %s; this MicroPython build requires revision %s: use a board "
                "with a matching chip (MicroPython 1.25's ESP32_GENERIC_C3 needs an ESP32-C3 v0.3 or later)"
                % (port, rev.group(2), rev.group(1)))
    fatal = re.findall(r"(?:A fatal error occurred|Error): *(.+)", output)
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    return "esptool failed on %s: %s" % (port, fatal[-1] if fatal else lines[-1] if lines else "no output")


def detect(port):
    """-> (chip, flash size in MB or None) of the board in its ROM bootloader on `port`."""
    # ROM only and no reset after: a board put into its bootloader by hand (BOOT + EN) stays
    # there for the write that follows.
    proc = esptool(["--port", port, "--connect-attempts", "3", "--no-stub", "--after", "no-reset", "flash-id"])
    out = proc.stdout + proc.stderr
    m = re.search(r"Connected to (ESP32\S*) on", out)  # esptool's CHIP_NAME, e.g. ESP32-S3
    if proc.returncode != 0 or not m:
        raise FlashError(explain(port, out))
    size = re.search(r"Detected flash size:\s+(\d+)MB", out)
    return m.group(1).lower().replace("-", ""), int(size.group(1)) if size else None


def detect_chip(port):
    return detect(port)[0]


def firmware_image(profile, given):
    """The MicroPython image file to flash: `given`, or the one cached under its download name."""
    want = image_name(profile)
    path = Path(given) if given else paths.cache_dir() / "firmware" / want
    if not path.exists():
        raise FlashError("no MicroPython image %s: download %s (micropython.org, board %s) and pass it "
                         "with --firmware FILE (it is then cached for next time)"
                         % (path, want, profile["micropython"]["board"]))
    return path


def parts(profile, path):
    """Check the image against the profile, offline -> [(flash address, bytes, what)], no overlap."""
    chip, want = profile["chip"], image_name(profile)
    data = Path(path).read_bytes()
    try:
        boot, app = espimage.split(data, chip)
    except espimage.ImageError as e:
        raise FlashError("%s: %s; board %s needs %s" % (path, e, profile["name"], want))
    machine = profile["micropython"]["machine"].encode()
    if machine + b"\0" not in app:
        raise FlashError("%s is not the MicroPython build board %s needs (it does not call itself %r): "
                         "download %s" % (path, profile["name"], machine.decode(), want))
    layout = {p[0]: p for p in partitions.layout(profile["flash_mb"])}
    app_room = layout["factory"][4]
    if len(app) > app_room:
        raise FlashError("%s: MicroPython's app is %d bytes, the app partition holds %d: use the plain %s"
                         % (path, len(app), app_room, want))
    return [(offset(chip), boot, "bootloader"),
            (PARTITION_TABLE_OFFSET, partitions.table_bin(profile["flash_mb"]), "partition table"),
            (espimage.APP_OFFSET, app, "MicroPython")]


def write_args(port, profile, files, erase, baud=DEFAULT_BAUD):
    """The one esptool command that writes [(address, file path)]."""
    return (["--chip", profile["chip"], "--port", port, "--baud", str(baud), "write-flash"]
            + (["--erase-all"] if erase else [])
            + ["--flash-size", "%dMB" % profile["flash_mb"], "-z"]
            + [s for addr, f in files for s in (hex(addr), str(f))])


def flash(port, board, image=None, erase=True, baud=DEFAULT_BAUD, say=print):
    profile = boards.load(board)
    if profile["chip"] not in espimage.BOOTLOADER_OFFSET:
        raise FlashError("board %s is not an ESP32 (chip %s): nothing to flash" % (board, profile["chip"]))
    fw = firmware_image(profile, image)
    pieces = parts(profile, fw)
    chip, flash_mb = detect(port)
    if chip != profile["chip"]:
        raise FlashError("the board on %s is an %s, but profile %s is for an %s: pick the right --board"
                         % (port, espimage.CHIP_NAMES.get(chip, chip), board,
                            espimage.CHIP_NAMES[profile["chip"]]))
    if flash_mb is not None and flash_mb < profile["flash_mb"]:
        raise FlashError("the board on %s has %d MB of flash, profile %s expects %d MB: pick the right --board"
                         % (port, flash_mb, board, profile["flash_mb"]))
    with tempfile.TemporaryDirectory(prefix="smartnode-flash-") as tmp:
        files = []
        for addr, data, what in pieces:
            f = Path(tmp) / ("%s-0x%x.bin" % (what.replace(" ", "-"), addr))
            f.write_bytes(data)
            files.append((addr, f))
        say("flash: %s: bootloader at 0x%x, smartnode's partition table at 0x%x, MicroPython at 0x%x, "
            "flash size %d MB" % (fw.name, pieces[0][0], PARTITION_TABLE_OFFSET, espimage.APP_OFFSET,
                                  profile["flash_mb"]))
        if not erase and board_table(port, profile, Path(tmp) / "board-table.bin") != pieces[1][1]:
            erase = True  # stock MicroPython or another layout: nothing on it is where we keep data
            say("flash: the board's partition table is not smartnode's, so there is no config or log to keep")
        say("flash: erasing the whole flash first, so no old filesystem sits where the log and vfs begin"
            if erase else "flash: keeping config and log (the board has smartnode's partition table)")
        rc, out = esptool_shown(write_args(port, profile, files, erase, baud))
        if rc != 0:
            raise FlashError(explain(port, out))
    if image:
        cached = paths.cache_dir() / "firmware" / image_name(profile)
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(Path(image).read_bytes())
    return chip


def board_table(port, profile, into):
    """The partition table the board has now (read-flash of 0x8000)."""
    proc = esptool(["--chip", profile["chip"], "--port", port, "--no-stub", "--after", "no-reset", "read-flash",
                    hex(PARTITION_TABLE_OFFSET), hex(partitions.TABLE_MAX), str(into)])
    if proc.returncode != 0:
        raise FlashError(explain(port, proc.stdout + proc.stderr))
    return into.read_bytes()


def add_arguments(p):
    p.add_argument("--port", required=True, help="serial port of the board (e.g. /dev/ttyUSB0)")
    p.add_argument("--board", default="esp32-devkitc", help="board profile (boards/NAME.json)")
    p.add_argument("--firmware", help="MicroPython .bin the profile names (default: the cached one)")
    p.add_argument("--baud", type=int, default=DEFAULT_BAUD, help="esptool's transfer baud rate (%d; "
                   "115200 for long or poor USB cables)" % DEFAULT_BAUD)
    p.add_argument("--no-erase", action="store_true",
                   help="keep config and log if the board already has smartnode's partition table")


def main(args):
    try:
        chip = flash(args.port, args.board, args.firmware, erase=not args.no_erase, baud=args.baud)
    except (FlashError, boards.BoardError) as e:
        raise SystemExit("flash: %s" % e)
    print("flash: MicroPython is on the %s; next: smartnode build --board %s, then provision and deploy"
          % (espimage.CHIP_NAMES[chip], args.board))
