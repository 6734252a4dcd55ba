# Where the log lives: the board's flash region, the file fallback, or RAM.
import os

import vfs
from mptest import scratch

from app.board_unix import Board
from app.fileblocks import FileBlocks
from app.flashlog import FlashLog, open_log
from app.norflash import NorFlash


def fresh(path):
    try:
        os.remove(path)
    except OSError:
        pass
    return path


def test_unix_board_log_survives_a_restart_in_its_image_file():
    path = fresh(scratch("log.img"))
    cfg = {"file": path, "sectors": 8}
    log = open_log(Board({}), cfg)
    assert log.mode == "emulated" and log.n == 8
    log.append(b"kept")
    log.dev.close()
    again = open_log(Board({}), cfg)
    assert again.read(0, [], 10, 1000) == [(1, b"kept")]
    again.dev.close()


class NoFlashBoard:
    def log_device(self, cfg):
        raise OSError(19)


def test_without_usable_flash_the_node_keeps_running_on_ram():
    log = open_log(NoFlashBoard(), {})
    assert log.mode == "ram"
    assert log.append(b"x") == 1 and log.pending == 1


def test_file_fallback_on_littlefs_keeps_the_log_semantics():
    # The fallback's real stack: a file on LittleFS (here on the NOR emulator).
    dev = NorFlash(64)
    vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev), "/lfsfallback")
    try:
        blocks = FileBlocks("/lfsfallback/smartlog.bin", 4)
        log = FlashLog(blocks)
        for i in range(300):
            log.append(b"reading %d" % i)
        log.ack(250)
        again = FlashLog(FileBlocks("/lfsfallback/smartlog.bin", 4))
        assert (again.next_seq, again.acked, again.dropped) == (301, 250, 0)
        assert again.read(0, [], 100, 10000) == [(s, b"reading %d" % (s - 1)) for s in range(251, 301)]
    finally:
        vfs.umount("/lfsfallback")
