"""An ESP32 in its serial bootloader, behind a pty, just enough for esptool's write-flash.

It speaks esptool's serial protocol (SLIP frames; request 0x00, op, length,
checksum, data; response 0x01, op, length, value, data + status bytes: 4 from
the ROM, 2 from the flasher stub): SYNC, READ_REG (the chip-detect magic, the
SPI flash's JEDEC id in SPI_W0), MEM_* (the stub upload, answered with
"OHAI"), ERASE_FLASH, FLASH_* and FLASH_DEFL_* (zlib-compressed) writes,
READ_FLASH_SLOW and SPI_FLASH_MD5
into a bytearray that is the flash. Every other command succeeds and does
nothing. It records the order of what it did ("erase", ("write", address,
bytes)) so a test can say what reached the flash and when.
"""
import hashlib
import os
import pty
import struct
import threading
import zlib

SYNC, READ_REG, MEM_END, ERASE_FLASH, SECURITY_INFO = 0x08, 0x0A, 0x06, 0xD0, 0x14
FLASH_BEGIN, FLASH_DATA, DEFL_BEGIN, DEFL_DATA, MD5, READ_SLOW = 0x02, 0x03, 0x10, 0x11, 0x13, 0x0E
ESP32_MAGIC_REG, ESP32_MAGIC = 0x40001000, 0x00F01D83  # esptool targets/esp32.py
ESP32_SPI_W0 = 0x3FF42000 + 0x80  # SPI1 base + W0 (esptool targets/esp32.py SPI_REG_BASE, SPI_W0_OFFS)
JEDEC = {4: 0x1640EF, 8: 0x1740EF, 16: 0x1840EF}  # Winbond W25Q: capacity byte = log2(size)


def slip(frame):
    return b"\xc0" + frame.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


class Esp32Rom:
    """An ESP32 with `flash_mb` of flash, first filled with `contents` (0xFF if none)."""

    def __init__(self, flash_mb, contents=b""):
        self.flash = bytearray(contents.ljust(flash_mb << 20, b"\xff"))
        self.jedec = JEDEC[flash_mb]
        self.stub = False
        self.did = []

    def __enter__(self):
        self.master, self.slave = pty.openpty()
        self.device = os.ttyname(self.slave)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        os.close(self.slave)
        os.close(self.master)

    def _frames(self):
        buf = b""
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            *frames, buf = (buf + data).split(b"\xc0")
            for f in frames:
                if f:
                    yield f.replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb")

    def _reply(self, op, value=0, data=b"", error=0):
        status = bytes([1 if error else 0, error]) + (b"" if self.stub else b"\0\0")
        body = data + status
        os.write(self.master, slip(struct.pack("<BBHI", 1, op, len(body), value) + body))

    def _serve(self):
        for frame in self._frames():
            if len(frame) < 8 or frame[0] != 0:
                continue
            _, op, _, _ = struct.unpack_from("<BBHI", frame)
            data = frame[8:]
            try:
                self._command(op, data)
            except OSError:
                return

    def _command(self, op, data):
        if op == SYNC:
            for _ in range(8):
                self._reply(op, 0 if self.stub else 0x20120707)
        elif op == READ_REG:
            addr, = struct.unpack_from("<I", data)
            self._reply(op, {ESP32_MAGIC_REG: ESP32_MAGIC, ESP32_SPI_W0: self.jedec}.get(addr, 0))
        elif op == SECURITY_INFO and not self.stub:
            self._reply(op, error=5)  # the ESP32's ROM does not have it
        elif op == MEM_END:
            self._reply(op)
            self.stub = True
            os.write(self.master, slip(b"OHAI"))
        elif op == ERASE_FLASH:
            self.flash[:] = b"\xff" * len(self.flash)
            self.did.append("erase")
            self._reply(op)
        elif op in (FLASH_BEGIN, DEFL_BEGIN):
            size, _blocks, _bs, offset = struct.unpack_from("<IIII", data)
            self.flash[offset:offset + size] = b"\xff" * size  # the stub erases what it will write
            self.at, self.inflate = offset, zlib.decompressobj() if op == DEFL_BEGIN else None
            self.did.append(("write", offset, size))
            self._reply(op)
        elif op in (FLASH_DATA, DEFL_DATA):
            n, = struct.unpack_from("<I", data)
            out = self.inflate.decompress(data[16:16 + n]) if self.inflate else data[16:16 + n]
            out = out[:len(self.flash) - self.at]  # FLASH_DATA pads its last block with 0xFF
            self.flash[self.at:self.at + len(out)] = out
            self.at += len(out)
            self._reply(op)
        elif op == READ_SLOW:  # the ROM's read: 64 bytes a command
            addr, n = struct.unpack_from("<II", data)
            self._reply(op, data=bytes(self.flash[addr:addr + n]).ljust(64, b"\xff"))
        elif op == MD5:
            addr, size = struct.unpack_from("<II", data)
            digest = hashlib.md5(self.flash[addr:addr + size]).digest()
            self._reply(op, data=digest if self.stub else digest.hex().encode())
        else:
            self._reply(op)
