# CRC-32 (IEEE 802.3, the one binascii.crc32 computes) for ports built without
# binascii.crc32; same call form crc32(data, value=0).
from array import array

_TABLE = array("I", [0] * 256)
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0xEDB88320 if _c & 1 else _c >> 1
    _TABLE[_i] = _c


def crc32(data, value=0):
    c = value ^ 0xFFFFFFFF
    t = _TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF
