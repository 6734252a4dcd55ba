"""ESP32 partition tables: checked against the format ESP-IDF documents, decoded here independently."""
import csv
import hashlib
import io
import struct

import pytest

from host_tools import partitions

# ESP-IDF "Partition Tables": type app = 0, data = 1; subtypes factory = 0x00,
# phy = 0x01, nvs = 0x02, undefined = 0x06, fat = 0x81.
IDF_TYPES = {"app": 0, "data": 1}
IDF_SUBTYPES = {"factory": 0x00, "phy": 0x01, "nvs": 0x02, "undefined": 0x06, "fat": 0x81}


def decode(blob):
    """Entries are 32 bytes: AA 50, type, subtype, offset u32, size u32, label[16], flags u32."""
    rows, body = [], b""
    for o in range(0, len(blob), 32):
        e = blob[o:o + 32]
        if e[:2] == b"\xeb\xeb":
            assert e[2:16] == b"\xff" * 14
            assert e[16:] == hashlib.md5(body).digest()
            rest = blob[o + 32:]
            assert rest == b"\xff" * len(rest)
            return rows
        assert e[:2] == b"\xaa\x50"
        body += e
        t, s = e[2], e[3]
        off, size = struct.unpack("<II", e[4:12])
        rows.append((e[12:28].rstrip(b"\0").decode(), t, s, off, size, struct.unpack("<I", e[28:])[0]))
    raise AssertionError("no MD5 entry")


@pytest.mark.parametrize("mb", [4, 8, 16])
def test_binary_table_matches_the_csv_and_the_idf_format(mb):
    blob = partitions.table_bin(mb)
    assert len(blob) == 0xC00
    rows = decode(blob)
    lines = [l for l in partitions.table_csv(mb).splitlines() if l and not l.startswith("#")]
    parsed = [r for r in csv.reader(io.StringIO("\n".join(lines)))]
    assert len(parsed) == len(rows)
    for (name, t, s, off, size, flags), r in zip(rows, parsed):
        assert r[0] == name
        assert IDF_TYPES[r[1]] == t and IDF_SUBTYPES[r[2]] == s
        assert int(r[3], 0) == off and int(r[4], 0) == size and flags == 0
    assert partitions.parse_bin(blob) == [r[:5] for r in rows]


@pytest.mark.parametrize("mb", [4, 8, 16])
def test_layout_fits_the_flash_and_keeps_micropython_partitions(mb):
    rows = decode(partitions.table_bin(mb))
    by = {r[0]: r for r in rows}
    assert set(by) == {"nvs", "phy_init", "factory", "smartlog", "vfs"}
    assert by["factory"][3] == 0x10000 and by["factory"][1] == 0
    end = 0x8000 + 0x1000  # the table's own sector
    for name, t, s, off, size, _ in sorted(rows, key=lambda r: r[3]):
        assert off >= end, name
        assert off % (0x10000 if t == 0 else 0x1000) == 0, name
        assert size % 0x1000 == 0, name
        end = off + size
    assert end == mb * 1024 * 1024
    log = by["smartlog"]
    assert log[1] == 1 and log[4] >= 512 * 1024
    assert by["vfs"][2] == 0x81 and by["vfs"][4] >= 2 * partitions.BUNDLE_BLOCKS * 4096  # two bundles
    assert partitions.has_log_partition(partitions.table_bin(mb))


def test_corrupt_tables_and_unknown_sizes_are_refused():
    blob = bytearray(partitions.table_bin(4))
    blob[40] ^= 0x01
    with pytest.raises(ValueError, match="MD5"):
        partitions.parse_bin(bytes(blob))
    with pytest.raises(ValueError, match="MiB"):
        partitions.table_csv(3)


def test_the_filesystem_keeps_room_for_two_bundles_and_the_log_gets_the_rest(tmp_path):
    """The bundle `smartnode build` makes, copied twice onto MicroPython's own LittleFS
    (as deploy stages an update), and the node's files leave LittleFS its free minimum
    in what partitions.py reserves; the log partition is the rest of the flash."""
    import json
    import subprocess
    from host_tools import build, mp, paths
    build.build("esp32-devkitc", tmp_path / "bundle")
    out = mp.run(["-X", "heapsize=16M", str(paths.ROOT / "tests" / "lfs_bundle.py"),
                  str(tmp_path / "bundle")], capture_output=True, text=True, check=True).stdout
    blocks = json.loads(out)
    per_bundle = blocks["next"] - blocks["cur"]
    fs = partitions.FS_BLOCKS
    need = blocks["next"] - blocks["empty"] + partitions.FILES_BLOCKS
    assert need <= fs * (1 - partitions.FS_MIN_FREE), (
        "the bundle now takes %d LittleFS blocks: two of them and the node's files leave less than "
        "%d%% of the %d-block filesystem free. Raise BUNDLE_BLOCKS in host_tools/partitions.py "
        "(the log partition shrinks) and the README's table" % (per_bundle, 100 * partitions.FS_MIN_FREE, fs))
    assert fs * (1 - partitions.SPARE) >= partitions.BUNDLES * partitions.BUNDLE_BLOCKS + partitions.FILES_BLOCKS
    for mb in (4, 8, 16, 32):
        by = {p[0]: p for p in partitions.layout(mb)}
        assert by["vfs"][4] == fs * 4096
        assert by["smartlog"][3] + by["smartlog"][4] == by["vfs"][3]
        assert by["vfs"][3] + by["vfs"][4] == mb * 1024 * 1024
        assert by["smartlog"][4] % 4096 == 0 and by["smartlog"][4] >= 1024 * 1024  # at least twice the 512 KiB of before


def test_the_virtual_board_has_the_filesystem_and_log_of_an_esp32_devkitc():
    """The vboard (host_tools/vboard_device.py, boards/unix-sim.json) models the real board:
    its LittleFS and its log region are the sizes of the devkitc's vfs and smartlog partitions."""
    import ast
    import json
    from host_tools import boards, paths
    by = {p[0]: p for p in partitions.layout(boards.load("esp32-devkitc")["flash_mb"])}
    tree = ast.parse((paths.ROOT / "host_tools" / "vboard_device.py").read_text())
    fs = [ast.literal_eval(n.value) for n in tree.body
          if isinstance(n, ast.Assign) and [t.id for t in n.targets] == ["FS_SECTORS"]]
    assert fs == [by["vfs"][4] // 4096]
    sim = json.loads((paths.BOARDS / "unix-sim.json").read_text())
    assert sim["log"]["sectors"] * 4096 == by[partitions.LOG_LABEL][4]
