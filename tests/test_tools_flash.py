"""`flash` against the real esptool 5.6.0, with MicroPython images at real size.

The images are built here the way MicroPython 1.25 builds its downloads:
esptool's own image writer makes the bootloader and the app (magic 0xE9, the
chip id, segments, checksum, SHA-256), and they are laid out as
ports/esp32/makeimg.py lays them out (bootloader at the chip's offset, 0xFF
up to the stock partition table at 0x8000, 0xFF up to the app at 0x10000).
esptool then checks them (image-info), merges what `flash` writes (merge-bin:
the flash exactly as the board would get it) and parses `flash`'s write-flash
command line against a serial port nobody answers on (a pty), where it stops
at connect, past every argument, overlap and file check. Whole flashes go
through the real esptool (stub upload, erase, compressed writes, MD5 checks)
into tests/esprom.py, an ESP32 serial bootloader emulated behind a pty, so the
tests see what lands in the flash and in which order.
"""
import functools
import hashlib
import os
import pty
import random
import struct
import subprocess
import sys
import threading

import pytest
from esptool.bin_image import (ELFSection, ESP32C3FirmwareImage, ESP32FirmwareImage, ESP32S3FirmwareImage,
                               LoadFirmwareImage)

from host_tools import boards, flash, partitions
from host_tools.vboard import VirtualBoard
from tests.esprom import Esp32Rom

BOARDS = ["esp32-devkitc", "esp32-s3-devkitc", "esp32-c3-devkitm", "heltec-wifi-lora-32-v2"]
# MicroPython's ports/esp32/boards/*/board.json "flash_offset": where the download goes
DOWNLOAD_OFFSET = {"esp32": 0x1000, "esp32s3": 0x0, "esp32c3": 0x0}
IMAGE = {"esp32": ESP32FirmwareImage, "esp32s3": ESP32S3FirmwareImage, "esp32c3": ESP32C3FirmwareImage}
# Load addresses in each chip's memory map (esptool targets/*.py): the bootloader's
# DRAM and IRAM; the app's DROM, DRAM, IRAM and IROM (flash-mapped ones 64 KB aligned by esptool).
BOOT_SEGMENTS = {"esp32": (0x3FFF0030, 0x40078000, 0x40080400),
                 "esp32s3": (0x3FCE3808, 0x403C9700, 0x403CC710),
                 "esp32c3": (0x3FCD5820, 0x403CC710, 0x403CE710)}
APP_SEGMENTS = {"esp32": (0x3F400020, 0x3FFB0000, 0x40080000, 0x400D0020),
                "esp32s3": (0x3C000020, 0x3FC88000, 0x40374000, 0x42000020),
                "esp32c3": (0x3C000020, 0x3FC8C000, 0x40380000, 0x42000020)}
APP_BYTES = {"esp32": 1_750_000, "esp32s3": 1_850_000, "esp32c3": 1_650_000}  # about 1.25.0's
# MicroPython 1.25 partitions-4MiB.csv (ESP32_GENERIC, ESP32_GENERIC_C3) and
# partitions-8MiB.csv (ESP32_GENERIC_S3): nvs, phy_init, factory, vfs
STOCK = {4: [(1, 2, 0x9000, 0x6000, b"nvs"), (1, 1, 0xF000, 0x1000, b"phy_init"),
             (0, 0, 0x10000, 0x1F0000, b"factory"), (1, 0x81, 0x200000, 0x200000, b"vfs")],
         8: [(1, 2, 0x9000, 0x6000, b"nvs"), (1, 1, 0xF000, 0x1000, b"phy_init"),
             (0, 0, 0x10000, 0x1F0000, b"factory"), (1, 0x81, 0x200000, 0x600000, b"vfs")]}
# the machine names MicroPython 1.25 builds report (mpconfigboard.h / mpconfigvariant_*.cmake)
PLAIN_S3 = "Generic ESP32S3 module with ESP32S3"


def stock_table(mb):
    """ESP-IDF gen_esp32part.py's binary: 32-byte entries, an MD5 entry, 0xFF to 0xC00."""
    rows = b"".join(struct.pack("<2sBBII16sI", b"\xaa\x50", t, s, off, size, name, 0)
                    for t, s, off, size, name in STOCK[mb])
    out = rows + b"\xeb\xeb" + b"\xff" * 14 + hashlib.md5(rows).digest()
    return out + b"\xff" * (0xC00 - len(out))


# machine code and constants compress to about 60 % (like MicroPython's app): 6 random bits a byte
CODE_LIKE = bytes(b & 0x3F for b in range(256))


# chip revisions an ESP-IDF 5.2 build accepts (min_rev, min_rev_full, max_rev_full); MicroPython
# 1.25's ESP32_GENERIC_C3 sets CONFIG_ESP32C3_REV_MIN_3 (its sdkconfig.c3usb)
REVISIONS = {"esp32": (0, 0, 399), "esp32s3": (0, 0, 99), "esp32c3": (3, 3, 199)}


def esp_image(chip, addrs, sizes, seed, text=b"", revisions=None):
    rnd = random.Random(seed)
    img = IMAGE[chip]()
    img.flash_mode, img.flash_size_freq, img.entrypoint = 2, 0x20, addrs[-1]  # DIO, 4 MB, 40 MHz
    img.min_rev, img.min_rev_full, img.max_rev_full = revisions or REVISIONS[chip]
    img.segments = [ELFSection(b".s%d" % i, a, (text if i == 0 else b"") + rnd.randbytes(n).translate(CODE_LIKE), 0)
                    for i, (a, n) in enumerate(zip(addrs, sizes))]
    return img.save(None)


@functools.lru_cache(maxsize=None)
def micropython_image(chip, machine, table_mb=4, app_bytes=None, revisions=None):
    """A MicroPython 1.25 download for `chip` as makeimg.py writes it."""
    n = app_bytes or APP_BYTES[chip]
    boot = esp_image(chip, BOOT_SEGMENTS[chip], (0x2800, 0x3800, 0xC00), 1, revisions=revisions)
    app = esp_image(chip, APP_SEGMENTS[chip], (n // 5, 0x5000, 0x14000, n - n // 5 - 0x19000), 2,
                    text=b"MicroPython v1.25.0 on 2025-04-15; " + machine.encode() + b"\0")
    start = DOWNLOAD_OFFSET[chip]
    out = bytearray(boot)
    out += b"\xff" * (0x8000 - start - len(out)) + stock_table(table_mb)
    out += b"\xff" * (0x10000 - start - len(out)) + app
    return bytes(out)


def image_for(board, tmp_path, **kw):
    p = boards.load(board)
    path = tmp_path / flash.image_name(p)
    path.write_bytes(micropython_image(p["chip"], p["micropython"]["machine"],
                                      8 if p["chip"] == "esp32s3" else 4, **kw))
    return p, path


def esptool(*args):
    proc = subprocess.run([sys.executable, "-m", "esptool"] + [str(a) for a in args],
                          capture_output=True, text=True, env=dict(os.environ, COLUMNS="300"))
    return proc.returncode, proc.stdout + proc.stderr


class SilentPort:
    """A serial port (pty) where nothing answers; counts the bytes anyone sends to it."""

    def __enter__(self):
        self.master, self.slave = pty.openpty()
        self.device = os.ttyname(self.slave)
        self.received = bytearray()
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()
        return self

    def _drain(self):
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            if not data:
                return
            self.received += data

    def __exit__(self, *exc):
        os.close(self.slave)
        os.close(self.master)


@pytest.mark.parametrize("chip", ["esp32", "esp32s3", "esp32c3"])
def test_the_generated_images_pass_esptools_own_image_check(chip, tmp_path):
    machine = "x"
    data = micropython_image(chip, machine)
    boot, app = tmp_path / "boot.bin", tmp_path / "app.bin"
    boot.write_bytes(data[:0x8000 - DOWNLOAD_OFFSET[chip]])
    app.write_bytes(data[0x10000 - DOWNLOAD_OFFSET[chip]:])
    assert 1_600_000 < app.stat().st_size < 1_900_000
    for f in (boot, app):
        rc, out = esptool("--chip", chip, "image-info", f)
        assert rc == 0, out
        chip_id = {"esp32": 0, "esp32s3": 9, "esp32c3": 5}[chip]  # ESP-IDF esp_app_format.h
        assert "Chip ID: %d" % chip_id in out and "Checksum:" in out and "(valid)" in out
        assert "invalid" not in out


def test_the_old_single_write_with_our_table_over_micropythons_is_refused_by_esptool(tmp_path):
    # What flash used to run: the whole download at 0x1000 and our table at 0x8000 in one call.
    p, image = image_for("esp32-devkitc", tmp_path)
    table = tmp_path / "table.bin"
    table.write_bytes(partitions.table_bin(4))
    with SilentPort() as port:
        rc, out = esptool("--chip", "esp32", "--port", port.device, "--connect-attempts", "1", "write-flash",
                          "--erase-all", "0x1000", image, "0x8000", table)
    assert rc != 0 and "Detected overlap at address: 0x8000" in out
    assert port.received == b""  # refused while parsing arguments: before connecting, before erasing


@pytest.mark.parametrize("board", BOARDS)
def test_what_flash_writes_is_micropython_with_our_table_and_the_boards_flash_size(board, tmp_path):
    p, image = image_for(board, tmp_path)
    chip, mb = p["chip"], p["flash_mb"]
    pieces = flash.parts(p, image)
    files = []
    for addr, data, what in pieces:
        f = tmp_path / ("%x.bin" % addr)
        f.write_bytes(data)
        files += [hex(addr), f]
    merged = tmp_path / "flash.bin"
    # The same addresses, files and --flash-size as flash's write-flash, merged by esptool into
    # the flash contents the board gets (from address 0).
    rc, out = esptool("--chip", chip, "merge-bin", "-o", merged, "--flash-size", "%dMB" % mb, *files)
    assert rc == 0, out
    got = merged.read_bytes()
    original = micropython_image(chip, p["micropython"]["machine"], 8 if chip == "esp32s3" else 4)
    start = DOWNLOAD_OFFSET[chip]
    boot = LoadFirmwareImage(chip, got[start:])  # esptool's parser: checksum and SHA-256 verified
    assert boot.flash_size_freq >> 4 == {4: 2, 8: 3}[mb]  # esptool docs: 2 = 4MB, 3 = 8MB
    end = boot.data_length  # the SHA-256 after it changes with the header
    assert got[start:start + 3] + got[start + 4:start + end] == original[:3] + original[4:end]
    assert got[start + end + 32:0x8000] == original[end + 32:0x8000 - start]  # else MicroPython's bootloader
    table = partitions.parse_bin(got[0x8000:0x8C00])
    labels = [t[0] for t in table]
    assert labels == ["nvs", "phy_init", "factory", "smartlog", "vfs"]
    assert table[-1][3] + table[-1][4] == mb * 1024 * 1024  # vfs ends at the end of the flash
    assert table[2][3] == 0x10000
    app = original[0x10000 - start:]
    assert got[0x10000:0x10000 + len(app)] == app and len(app) <= table[2][4]
    LoadFirmwareImage(chip, got[0x10000:])
    assert got[0x8C00:0x10000] == b"\xff" * (0x10000 - 0x8C00)  # nothing of MicroPython's table


@pytest.mark.parametrize("board", BOARDS)
def test_the_write_command_passes_every_esptool_check_and_stops_only_at_connect(board, tmp_path):
    p, image = image_for(board, tmp_path)
    files = []
    for addr, data, what in flash.parts(p, image):
        f = tmp_path / ("%x.bin" % addr)
        f.write_bytes(data)
        files.append((addr, f))
    with SilentPort() as port:
        args = flash.write_args(port.device, p, files, erase=True, baud=115200)
        assert args[args.index("write-flash"):args.index("write-flash") + 4] == [
            "write-flash", "--erase-all", "--flash-size", "%dMB" % p["flash_mb"]]  # one call: erase inside it
        rc, out = esptool(*args[:4], "--connect-attempts", "1", *args[4:])
    assert rc != 0 and "Connecting" in out and "No serial data received" in out, out
    assert "overlap" not in out and "Invalid value" not in out
    assert "hold the BOOT button" in flash.explain(port.device, out)


@pytest.mark.parametrize("board, image_chip, machine, expect", [
    ("esp32-devkitc", "esp32c3", "ESP32C3 module with ESP32C3", "for an ESP32-C3, not an ESP32.*"
     "ESP32_GENERIC-20250415-v1.25.0.bin"),
    ("esp32-c3-devkitm", "esp32", "Generic ESP32 module with ESP32", "for an ESP32, not an ESP32-C3"),
    ("esp32-s3-devkitc", "esp32s3", PLAIN_S3, "does not call itself 'Generic ESP32S3 module with Octal-SPIRAM"
     ".*download ESP32_GENERIC_S3-SPIRAM_OCT-20250415-v1.25.0.bin"),
])
def test_a_wrong_image_is_refused_before_the_board_is_touched(board, image_chip, machine, expect, tmp_path):
    image = tmp_path / "firmware.bin"
    image.write_bytes(micropython_image(image_chip, machine, 8 if image_chip == "esp32s3" else 4))
    with SilentPort() as port:
        with pytest.raises(flash.FlashError, match=expect):
            flash.flash(port.device, board, image)
    assert port.received == b""


def test_a_damaged_or_missing_image_is_refused_with_what_to_download(tmp_path, monkeypatch):
    p, image = image_for("heltec-wifi-lora-32-v2", tmp_path)
    image.write_bytes(image.read_bytes()[:1_000_000])
    with SilentPort() as port:
        with pytest.raises(flash.FlashError, match="app truncated.*download it again"):
            flash.flash(port.device, "heltec-wifi-lora-32-v2", image)
        monkeypatch.setenv("SMARTNODE_CACHE", str(tmp_path / "cache"))
        with pytest.raises(flash.FlashError, match="download ESP32_GENERIC-20250415-v1.25.0.bin"):
            flash.flash(port.device, "heltec-wifi-lora-32-v2")
    assert port.received == b""


def test_an_app_too_big_for_our_app_partition_is_refused(tmp_path):
    p, image = image_for("esp32-devkitc", tmp_path, app_bytes=0x1F0000 + 4096)
    with pytest.raises(flash.FlashError, match="the app partition holds 2031616"):
        flash.parts(p, image)


def test_an_8mb_profile_on_a_4mb_board_is_refused_before_anything_is_written(tmp_path):
    p, image = image_for("heltec-wifi-lora-32-v2", tmp_path)
    before = b"\x5a" * 0x400000
    with Esp32Rom(4, before) as rom:
        with pytest.raises(flash.FlashError, match="has 4 MB of flash, profile heltec-wifi-lora-32-v2 expects 8 MB"):
            flash.flash(rom.device, "heltec-wifi-lora-32-v2", image, say=lambda *a: None)
    assert rom.did == [] and rom.flash == before


def test_a_heltec_that_ran_stock_micropython_gets_micropython_our_table_8mb_and_a_clean_log_and_vfs(
        tmp_path, monkeypatch):
    # The whole path through the real esptool into an emulated ESP32 ROM with 8 MB of flash that
    # holds a stock MicroPython (its filesystem from 0x200000 on, here all 0x00).
    monkeypatch.setenv("SMARTNODE_CACHE", str(tmp_path / "cache"))
    p, image = image_for("heltec-wifi-lora-32-v2", tmp_path)
    stock = b"\xff" * 0x1000 + micropython_image("esp32", "Generic ESP32 module with ESP32")
    said = []
    with Esp32Rom(8, stock.ljust(0x200000, b"\xff").ljust(0x400000, b"\0")) as rom:
        assert flash.flash(rom.device, "heltec-wifi-lora-32-v2", image, say=said.append) == "esp32"
    assert rom.did[0] == "erase" and [d[1] for d in rom.did[1:]] == [0x1000, 0x8000, 0x10000]
    got = bytes(rom.flash)
    boot = LoadFirmwareImage("esp32", got[0x1000:])
    assert boot.flash_size_freq >> 4 == 3  # 8MB
    table = {t[0]: t for t in partitions.parse_bin(got[0x8000:0x8C00])}
    assert table == {t[0]: t for t in partitions.parse_bin(partitions.table_bin(8))}
    app = image.read_bytes()[0x10000 - 0x1000:]
    assert got[0x10000:0x10000 + len(app)] == app
    log_at = table["smartlog"][3]
    assert got[log_at:] == b"\xff" * (len(got) - log_at)  # log and vfs empty: MicroPython formats vfs
    assert (tmp_path / "cache" / "firmware" / "ESP32_GENERIC-20250415-v1.25.0.bin").read_bytes() == image.read_bytes()


def test_esptools_own_refusal_inside_the_write_comes_before_its_erase(tmp_path):
    # An image for chip revision v3.0 and later (CONFIG_ESP32_REV_MIN_3); the emulated chip is v0.0.
    p = boards.load("esp32-devkitc")
    image = tmp_path / flash.image_name(p)
    image.write_bytes(micropython_image("esp32", p["micropython"]["machine"], revisions=(3, 300, 399)))
    before = b"\x5a" * 0x400000
    with Esp32Rom(4, before) as rom:
        with pytest.raises(flash.FlashError, match="is revision v0.0; this MicroPython build requires revision in range v3.0"):
            flash.flash(rom.device, "esp32-devkitc", image, say=lambda *a: None)
    assert rom.did == [] and rom.flash == before


def test_no_erase_keeps_a_smartnode_board_and_erases_any_other(tmp_path, monkeypatch):
    monkeypatch.setenv("SMARTNODE_CACHE", str(tmp_path / "cache"))
    p, image = image_for("esp32-devkitc", tmp_path, app_bytes=300_000)  # small: two writes
    ours = bytearray(b"\x5a" * 0x400000)
    ours[0x8000:0x8C00] = partitions.table_bin(4)
    for board_has, kept in ((bytes(ours), True), (b"\x5a" * 0x400000, False)):
        said = []
        with Esp32Rom(4, board_has) as rom:
            flash.flash(rom.device, "esp32-devkitc", image, erase=False, say=said.append)
        assert (rom.did[0] != "erase") == kept and (rom.flash[0x300000] == 0x5A) == kept
        assert any(("keeping config and log" if kept else "is not smartnode's") in s for s in said)


def test_the_virtual_board_has_nothing_to_flash():
    with pytest.raises(flash.FlashError, match="unix-sim is not an ESP32"):
        flash.flash("/dev/ttyNOPE0", "unix-sim")


def test_wrong_port_is_named_with_what_to_do(tmp_path):
    p, image = image_for("esp32-devkitc", tmp_path)
    with pytest.raises(flash.FlashError, match="no serial port /dev/ttyNOPE0: plug the board in"):
        flash.flash("/dev/ttyNOPE0", "esp32-devkitc", image)


def test_a_board_that_is_not_in_its_bootloader_gets_the_boot_button_advice():
    with VirtualBoard() as vb:  # MicroPython answers, the ROM bootloader does not
        with pytest.raises(flash.FlashError, match="no ESP32 bootloader answered.*hold the BOOT button"):
            flash.detect(vb.device)


def test_baud_is_an_option():
    import argparse
    ap = argparse.ArgumentParser()
    flash.add_arguments(ap)
    args = ap.parse_args(["--port", "/dev/ttyUSB0", "--baud", "115200"])
    assert args.baud == 115200 and not args.no_erase
