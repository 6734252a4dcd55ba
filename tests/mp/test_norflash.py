# The NOR-flash emulator behaves like NOR flash behind esp32.Partition's block interface.
from mptest import raises, scratch

from app.norflash import NorFlash, PowerCut


def test_block_interface_like_esp32_partition():
    f = NorFlash(8)
    assert f.ioctl(4, 0) == 8 and f.ioctl(5, 0) == 4096
    buf = bytearray(4)
    f.readblocks(2, buf, 10)
    assert buf == b"\xff\xff\xff\xff"
    f.writeblocks(2, b"abcd", 10)
    f.readblocks(2, buf, 10)
    assert buf == b"abcd"
    assert f.ioctl(6, 2) == 0
    f.readblocks(2, buf, 10)
    assert buf == b"\xff\xff\xff\xff"
    # Without an offset, writeblocks erases the blocks first (as esp32.Partition does).
    f.writeblocks(3, b"\x0f" * 4096, 0)
    f.writeblocks(3, b"\xf0" * 4096)
    f.readblocks(3, buf, 0)
    assert buf == b"\xf0\xf0\xf0\xf0"
    raises(OSError, f.readblocks, 7, bytearray(8), 4090)


def test_programming_only_clears_bits():
    f = NorFlash(2)
    f.writeblocks(0, b"\xf0", 0)
    f.writeblocks(0, b"\x3c", 0)
    b = bytearray(1)
    f.readblocks(0, b, 0)
    assert b[0] == 0x30
    assert f.overwrites == 1  # asked to set bits back to 1: NOR cannot


def test_counts_erases_and_programmed_bytes_per_sector():
    f = NorFlash(4)
    f.ioctl(6, 1)
    f.ioctl(6, 1)
    f.writeblocks(0, b"x" * 4100, 4090)  # 6 bytes in sector 0, 4094 in sector 1... and 0 in 2
    assert list(f.erases) == [0, 2, 0, 0]
    assert list(f.programmed) == [6, 4094, 0, 0]
    assert f.total_programmed() == 4100 and f.ops == 3


def test_power_cut_mid_program_lands_a_prefix_then_refuses_everything():
    f = NorFlash(2)
    f.cut(1, 0.5)
    f.writeblocks(0, b"\x00" * 10, 0)  # op 0 completes
    raises(PowerCut, f.writeblocks, 0, b"\x00" * 100, 100)
    raises(PowerCut, f.readblocks, 0, bytearray(1), 0)
    f.power_on()
    b = bytearray(100)
    f.readblocks(0, b, 100)
    assert b[:50] == b"\x00" * 50 and b[51:] == b"\xff" * 49


def test_power_cut_mid_erase_leaves_the_sector_undefined():
    f = NorFlash(2)
    f.writeblocks(1, b"\x00" * 4096, 0)
    f.cut(0, 0.25)
    raises(PowerCut, f.ioctl, 6, 1)
    f.power_on()
    b = bytearray(4096)
    f.readblocks(1, b, 0)
    assert b[:1024] == b"\xff" * 1024
    assert b[1024:] != b"\xff" * 3072 and b[1024:] != b"\x00" * 3072


def test_file_backed_flash_survives_a_restart():
    path = scratch("norflash.img")
    try:
        import os
        os.remove(path)
    except OSError:
        pass
    f = NorFlash(3, path=path)
    f.writeblocks(2, b"kept", 7)
    f.close()
    g = NorFlash(3, path=path)
    b = bytearray(4)
    g.readblocks(2, b, 7)
    assert b == b"kept"
    g.close()
