"""MicroPython's downloadable ESP32 image, taken apart before anything touches a board.

MicroPython 1.25 builds `<BOARD>[-<VARIANT>]-<date>-v1.25.0.bin` with
ports/esp32/makeimg.py: the second-stage bootloader from the chip's bootloader
offset, 0xFF up to the partition table at 0x8000, 0xFF up to the first app
partition (0x10000), then the app. Bootloader and app are ESP images (esptool's
"Firmware Image Format"): a 24-byte header (magic 0xE9, segment count, flash
mode, flash size << 4 | frequency, entry point, then the extended header with
the chip id at byte 12 and "SHA-256 appended" at byte 23), the segments (each
address, length, data), 0 padding to one byte short of a 16-byte multiple, an
XOR checksum seeded with 0xEF, and the SHA-256 of all that if appended.
"""
import hashlib
import struct

from . import partitions

MAGIC = 0xE9
# ESP-IDF esp_app_format.h, esp_chip_id_t
CHIP_IDS = {"esp32": 0x0000, "esp32s2": 0x0002, "esp32c3": 0x0005, "esp32s3": 0x0009,
            "esp32c2": 0x000C, "esp32c6": 0x000D, "esp32h2": 0x0010, "esp32p4": 0x0012}
CHIP_NAMES = {"esp32": "ESP32", "esp32s2": "ESP32-S2", "esp32c3": "ESP32-C3", "esp32s3": "ESP32-S3",
              "esp32c2": "ESP32-C2", "esp32c6": "ESP32-C6", "esp32h2": "ESP32-H2", "esp32p4": "ESP32-P4"}
# header byte 3, high nibble -> MB (esptool's firmware image format)
FLASH_MB = {0: 1, 1: 2, 2: 4, 3: 8, 4: 16, 5: 32, 6: 64, 7: 128}
BOOTLOADER_OFFSET = {"esp32": 0x1000, "esp32s2": 0x1000, "esp32s3": 0x0, "esp32c3": 0x0}
APP_OFFSET = 0x10000


class ImageError(ValueError):
    pass


def _xor(data):
    """XOR of all bytes, folded as one big integer (fast for megabytes)."""
    x, width = int.from_bytes(data, "little"), len(data)
    while width > 1:
        half = (width + 1) // 2
        x = (x & ((1 << 8 * half) - 1)) ^ (x >> 8 * half)
        width = half
    return x & 0xFF


def chip_of(chip_id):
    for name, cid in CHIP_IDS.items():
        if cid == chip_id:
            return name
    return "chip id %d" % chip_id


def parse(data, at, what):
    """The ESP image at data[at:] -> (chip name, flash MB in its header, length); ImageError if broken."""
    if len(data) < at + 24 or data[at] != MAGIC:
        raise ImageError("no %s at 0x%x (an ESP image starts with 0xE9)" % (what, at))
    nseg, size_code = data[at + 1], data[at + 3] >> 4
    chip_id, = struct.unpack_from("<H", data, at + 12)
    pos, csum = at + 24, 0xEF
    for i in range(nseg):
        if pos + 8 > len(data):
            raise ImageError("%s truncated in segment %d: the file is incomplete, download it again" % (what, i))
        _addr, n = struct.unpack_from("<II", data, pos)
        pos += 8
        if pos + n > len(data):
            raise ImageError("%s truncated in segment %d: the file is incomplete, download it again" % (what, i))
        csum ^= _xor(data[pos:pos + n])
        pos += n
    pos += 15 - (pos - at) % 16
    if pos >= len(data) or data[pos] != csum:
        raise ImageError("%s checksum is wrong: the file is damaged, download it again" % what)
    pos += 1
    if data[at + 23] == 1:
        if hashlib.sha256(data[at:pos]).digest() != data[pos:pos + 32]:
            raise ImageError("%s SHA-256 is wrong: the file is damaged, download it again" % what)
        pos += 32
    return chip_of(chip_id), FLASH_MB.get(size_code), pos - at


def split(data, chip):
    """MicroPython's image for `chip` -> (bootloader, app): bootloader as the bytes up to the
    partition table (written at the chip's bootloader offset), app as written at 0x10000.

    Refuses an image for another chip, a damaged one, or one not laid out as makeimg.py lays it."""
    boot = BOOTLOADER_OFFSET[chip]
    image_chip, _mb, boot_len = parse(data, 0, "bootloader")
    if image_chip != chip:
        raise ImageError("this image is for an %s, not an %s" % (CHIP_NAMES.get(image_chip, image_chip),
                                                                 CHIP_NAMES[chip]))
    table_at = partitions.TABLE_OFFSET - boot
    if boot_len > table_at:
        raise ImageError("bootloader runs into the partition table: not a MicroPython image for %s"
                         % CHIP_NAMES[chip])
    try:
        table = partitions.parse_bin(data[table_at:table_at + partitions.TABLE_MAX])
    except ValueError as e:
        raise ImageError("no partition table at 0x%x of the file (%s): not a MicroPython "
                         "downloadable image (use the .bin, not the .app-bin or .uf2)" % (table_at, e))
    apps = [p for p in table if p[1] == partitions.APP]
    if not apps or apps[0][3] != APP_OFFSET:
        raise ImageError("the image's app is not at 0x%x: not a MicroPython 1.25 image" % APP_OFFSET)
    app = data[APP_OFFSET - boot:]
    app_chip, _mb, app_len = parse(app, 0, "app")
    if app_chip != chip:
        raise ImageError("the app in this image is for an %s, not an %s"
                         % (CHIP_NAMES.get(app_chip, app_chip), CHIP_NAMES[chip]))
    return data[:table_at], app[:app_len]
