"""ESP32 partition tables with a data partition for the flash log.

The layout keeps what MicroPython's ESP32 firmware expects (nvs, phy_init, one
factory app at 0x10000, the filesystem partition labelled "vfs" that it mounts
at /) and adds "smartlog", the raw region the store-and-forward log uses
(firmware/app/flashlog.py). `table_csv(flash_mb)` gives the CSV that ESP-IDF's
gen_esp32part.py reads; `table_bin(flash_mb)` the binary it writes (32-byte
entries, an MD5 entry, 0xFF padding to 0xC00), flashed at TABLE_OFFSET.

Boards whose table cannot change (vendor-locked, or flashed by someone else)
keep working: the firmware then finds no "smartlog" partition and keeps the log
in a file on / in a lower-endurance mode that it reports at boot.
"""
import hashlib
import struct

TABLE_OFFSET = 0x8000
TABLE_MAX = 0xC00
ENTRY = struct.Struct("<2sBBII16sI")
MAGIC = b"\xaa\x50"
MD5_ENTRY = b"\xeb\xeb" + b"\xff" * 14

APP, DATA = 0x00, 0x01
SUBTYPES = {
    APP: {"factory": 0x00},
    DATA: {"phy": 0x01, "nvs": 0x02, "undefined": 0x06, "fat": 0x81},
}
TYPES = {"app": APP, "data": DATA}

LOG_LABEL = "smartlog"
K = 1024
M = 1024 * 1024
BLOCK = 4096  # LittleFS block on the ESP32 port = flash sector = a log sector
# flash size (MiB) -> app partition size (MicroPython's own: 0x1F0000 on 4 MB).
APP_SIZES = {4: 0x1F0000, 8: 0x300000, 16: 0x300000, 32: 0x300000}

# The filesystem ("vfs", LittleFS) gets what it needs; the log gets the rest of the flash.
# It needs, in 4 KiB blocks:
BUNDLE_BLOCKS = 87  # one application bundle from `smartnode build` for a chip when this was
                    # sized (2026-11-29, with OTA and power; 81 before them): .mpy files, and
                    # LittleFS gives each file its own blocks; tests/test_partitions.py measures it again
BUNDLES = 2  # the running version and a staged update: whoever stages /next drops /prev first
             # (host_tools/deploy.py, firmware/boot.py)
FILES_BLOCKS = 12  # boot.py, main.py, board.json, config.json and its .last/.good copies,
                   # baselines.json, keys.json, TLS ca/cert/key, one temp file of a rewrite
SPARE = 0.10  # free: half for the bundle's growth (a table that changes costs a reflash and
              # the log), half that LittleFS always keeps for copy-on-write and wear levelling
FS_MIN_FREE = 0.05
FS_BLOCKS = -(-(BUNDLES * BUNDLE_BLOCKS + FILES_BLOCKS) * 100 // int(100 - 100 * SPARE))


def layout(flash_mb):
    """-> [(label, type name, subtype name, offset, size)] for a flash of flash_mb MiB."""
    if flash_mb not in APP_SIZES:
        raise ValueError("no partition layout for %r MiB flash (have %s)"
                         % (flash_mb, ", ".join(str(s) for s in sorted(APP_SIZES))))
    app = APP_SIZES[flash_mb]
    log = flash_mb * M - 0x10000 - app - FS_BLOCKS * BLOCK
    parts = [("nvs", "data", "nvs", 0x9000, 0x6000),
             ("phy_init", "data", "phy", 0xF000, 0x1000),
             ("factory", "app", "factory", 0x10000, app)]
    off = 0x10000 + app
    parts.append((LOG_LABEL, "data", "undefined", off, log))
    off += log
    parts.append(("vfs", "data", "fat", off, flash_mb * M - off))
    return parts


def table_csv(flash_mb):
    rows = ["# ESP-IDF Partition Table (smartnode, %d MiB flash)" % flash_mb,
            "# Name, Type, SubType, Offset, Size, Flags"]
    for label, ptype, sub, off, size in layout(flash_mb):
        rows.append("%s,%s,%s,0x%x,0x%x," % (label, ptype, sub, off, size))
    return "\n".join(rows) + "\n"


def table_bin(flash_mb):
    entries = b"".join(ENTRY.pack(MAGIC, TYPES[ptype], SUBTYPES[TYPES[ptype]][sub], off, size,
                                  label.encode(), 0)
                       for label, ptype, sub, off, size in layout(flash_mb))
    out = entries + MD5_ENTRY + hashlib.md5(entries).digest()
    return out + b"\xff" * (TABLE_MAX - len(out))


def parse_bin(data):
    """A binary table (as read from 0x8000) -> [(label, type, subtype, offset, size)]; checks the MD5."""
    parts = []
    md5 = hashlib.md5()
    for o in range(0, len(data) - 31, 32):
        e = data[o:o + 32]
        if e == b"\xff" * 32:
            return parts
        if e[:2] == MD5_ENTRY[:2]:
            if e[16:] != md5.digest():
                raise ValueError("partition table MD5 mismatch")
            continue
        magic, ptype, sub, off, size, label, _flags = ENTRY.unpack(e)
        if magic != MAGIC:
            raise ValueError("bad partition entry magic at 0x%x" % o)
        md5.update(e)
        parts.append((label.rstrip(b"\0").decode(), ptype, sub, off, size))
    raise ValueError("partition table has no end marker")


def has_log_partition(data):
    return any(p[0] == LOG_LABEL for p in parse_bin(data))
