"""`flash`: MicroPython and the partition table onto a blank ESP32, with esptool.

The chip is detected first and must match the board profile; the image goes
to the chip family's bootloader offset (0x1000 on the ESP32, 0x0 on the S3
and C3), then the partition table with the store-and-forward log partition
("smartlog", host_tools/partitions.py) at 0x8000. The MicroPython image is
one the technician supplies (--firmware) or the one cached in
~/.cache/smartnode/firmware/<chip>.bin.
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from . import boards, paths

PARTITION_TABLE_OFFSET = 0x8000
CHIP_NAMES = {"ESP32": "esp32", "ESP32-S3": "esp32s3", "ESP32-C3": "esp32c3"}


class FlashError(RuntimeError):
    pass


def offset(chip):
    return boards.CHIPS[chip]["flash_offset"]


def esptool(args, capture=True):
    return subprocess.run([sys.executable, "-m", "esptool"] + args, capture_output=capture, text=True)


def explain(port, output):
    """esptool's failure output -> what the technician should do."""
    if "No such file or directory" in output:
        return "no serial port %s: plug the board in with a data USB cable and check the port name" % port
    if "Permission denied" in output:
        return "no permission to open %s: `sudo usermod -aG dialout $USER`, then log in again" % port
    if "busy" in output or "Could not exclusively lock" in output:
        return "%s is busy: close the other program using it (serial monitor, mpremote, Thonny)" % port
    if "Failed to connect" in output or "No serial data received" in output or "Wrong boot mode" in output:
        return ("no ESP32 bootloader answered on %s: hold the BOOT button, press and release EN/RST, "
                "release BOOT, and run flash again" % port)
    lines = [ln for ln in output.strip().splitlines() if ln.strip()]
    return "esptool failed on %s: %s" % (port, lines[-1] if lines else "no output")


def detect_chip(port):
    proc = esptool(["--port", port, "--connect-attempts", "3", "chip-id"])
    out = proc.stdout + proc.stderr
    m = re.search(r"Chip is (ESP32(?:-S3|-C3)?)\b", out) or re.search(r"Chip type:\s+(ESP32(?:-S3|-C3)?)\b", out)
    if proc.returncode != 0 or not m:
        raise FlashError(explain(port, out))
    return CHIP_NAMES[m.group(1)]


def partition_table(flash_mb):
    try:
        from . import partitions
    except ImportError:
        raise FlashError("host_tools/partitions.py is missing: this checkout cannot write the "
                         "store-and-forward log partition table yet")
    return partitions.table_bin(flash_mb)


def firmware_image(chip, given):
    path = Path(given) if given else paths.cache_dir() / "firmware" / (chip + ".bin")
    if not path.exists():
        raise FlashError("no MicroPython image %s: download MicroPython 1.25 for %s and pass it with "
                         "--firmware FILE (it is then cached for next time)" % (path, chip))
    return path


def flash(port, board, image=None, erase=True):
    profile = boards.load(board)
    chip = detect_chip(port)
    if chip != profile["chip"]:
        raise FlashError("the board on %s is an %s, but profile %s is for an %s: pick the right --board"
                         % (port, chip, board, profile["chip"]))
    fw = firmware_image(chip, image)
    table = partition_table(profile["flash_mb"])
    with tempfile.NamedTemporaryFile(suffix=".bin") as pt:
        pt.write(table)
        pt.flush()
        steps = ([["--chip", chip, "--port", port, "erase-flash"]] if erase else []) + [
            ["--chip", chip, "--port", port, "--baud", "460800", "write-flash", "-z",
             hex(offset(chip)), str(fw), hex(PARTITION_TABLE_OFFSET), pt.name]]
        for step in steps:
            proc = esptool(step, capture=False)  # esptool draws its own progress bars
            if proc.returncode != 0:
                raise FlashError(explain(port, esptool(["--port", port, "--connect-attempts", "1", "chip-id"]).stderr))
    if image:
        cached = paths.cache_dir() / "firmware" / (chip + ".bin")
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(Path(image).read_bytes())
    return chip


def add_arguments(p):
    p.add_argument("--port", required=True, help="serial port of the board (e.g. /dev/ttyUSB0)")
    p.add_argument("--board", default="esp32-devkitc", help="board profile (boards/NAME.json)")
    p.add_argument("--firmware", help="MicroPython .bin for the chip (default: the cached one)")
    p.add_argument("--no-erase", action="store_true", help="keep the flash contents (no erase first)")


def main(args):
    try:
        chip = flash(args.port, args.board, args.firmware, erase=not args.no_erase)
    except (FlashError, boards.BoardError) as e:
        raise SystemExit("flash: %s" % e)
    print("flash: MicroPython is on the %s; next: smartnode provision ... --port %s" % (chip, args.port))
