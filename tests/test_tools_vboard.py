"""The virtual board speaks the REPL as a USB ESP32 does: the real mpremote CLI works on it."""
import hashlib
import subprocess
import time
import sys
from pathlib import Path

import pytest

from host_tools import partitions
from host_tools.vboard import VirtualBoard

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = str(Path(sys.executable).parent / "mpremote")


def mpremote(device, *args):
    return subprocess.run([MPREMOTE, "connect", device, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def vboard():
    with VirtualBoard() as vb:
        yield vb


def test_mpremote_exec_cp_sha256sum_ls_and_run(vboard, tmp_path):
    data = bytes(range(256)) * 41 + b"tail"  # several raw-paste windows and write chunks
    src = tmp_path / "blob.bin"
    src.write_bytes(data)
    assert mpremote(vboard.device, "fs", "cp", str(src), ":blob.bin").returncode == 0
    p = mpremote(vboard.device, "fs", "sha256sum", ":blob.bin")
    assert hashlib.sha256(data).hexdigest() in p.stdout
    p = mpremote(vboard.device, "exec", "import os; print(os.stat('/blob.bin')[6], 6 * 7)")
    assert p.stdout.split() == [str(len(data)), "42"]
    assert "blob.bin" in mpremote(vboard.device, "resume", "fs", "ls", ":").stdout
    script = tmp_path / "hello.py"
    script.write_text("import sys\nprint('from', sys.platform)\n")
    assert mpremote(vboard.device, "run", str(script)).stdout.strip() == "from linux"


def test_files_survive_a_power_cut_and_errors_come_back_as_tracebacks(vboard):
    assert mpremote(vboard.device, "exec", "with open('/keep.txt', 'w') as f: f.write('kept')").returncode == 0
    boots = vboard.boots
    vboard.power_cut()
    p = mpremote(vboard.device, "exec", "print(open('/keep.txt').read())")
    assert p.stdout.strip() == "kept" and vboard.boots > boots
    p = mpremote(vboard.device, "exec", "1/0")
    assert p.returncode != 0 and "ZeroDivisionError" in p.stdout + p.stderr


def test_ctrl_c_interrupts_a_running_program(vboard):
    # main.py that never returns: mpremote must still get in, as on a board running its loop.
    assert mpremote(vboard.device, "exec", "with open('/main.py','w') as f: f.write('while True:\\n  pass\\n')").returncode == 0
    vboard.power_cut()  # boots into the endless main.py
    p = mpremote(vboard.device, "resume", "exec", "print('got in')")
    assert p.stdout.strip() == "got in"


def test_the_vboard_command_prints_the_port_mpremote_takes_first():
    import signal
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "vboard"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        device = proc.stdout.readline().strip()
        assert device.startswith("/dev/pts/")
        assert mpremote(device, "exec", "print(6 * 7)").stdout.strip() == "42"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0  # it stops its VM first: seconds on a loaded machine


def test_the_filesystem_lives_on_emulated_nor_flash_and_survives_a_restart(tmp_path):
    image = tmp_path / "flash.img"
    with VirtualBoard(image=str(image)) as vb:
        # 18 kB: beyond what LittleFS inlines in its metadata, so it takes (and erases) fresh blocks.
        p = mpremote(vb.device, "exec", "with open('/x', 'w') as f: f.write('on flash ' * 2000)\n"
                     "import __main__; d = __main__.flash\n"
                     "print(type(d).__name__, d.total_erases() > 0, d.total_programmed() > 0, d.overwrites)")
        # LittleFS erased before it programmed: not one 0 -> 1 bit change asked of the NOR flash.
        assert p.stdout.split() == ["NorFlash", "True", "True", "0"], p.stdout + p.stderr
    vfs = {p[0]: p[4] for p in partitions.layout(4)}["vfs"]  # an esp32-devkitc's filesystem
    assert image.stat().st_size == vfs and b"on flash" in image.read_bytes()
    # A new virtual board on the same image: another VM, the same flash.
    with VirtualBoard(image=str(image)) as vb:
        assert mpremote(vb.device, "exec", "print(open('/x').read() == 'on flash ' * 2000)").stdout.strip() == "True"


def test_link_gives_the_port_a_fixed_name_that_goes_with_the_board(tmp_path):
    import os
    import signal
    link = tmp_path / "vboard.tty"
    proc = subprocess.Popen([sys.executable, "-m", "host_tools", "vboard", "--link", str(link)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        device = proc.stdout.readline().strip()
        assert os.path.realpath(link) == os.path.realpath(device)
        assert mpremote(str(link), "exec", "print(6 * 7)").stdout.strip() == "42"
    finally:
        proc.send_signal(signal.SIGTERM)  # as `kill %1` from the shell that started it
        assert proc.wait(30) == 0  # it stops its VM first: seconds on a loaded machine
    assert not os.path.lexists(link)


WRITE_LOOP = """
import os
try:
    os.mkdir('/x')
except OSError:
    pass
i = 0
while True:
    n = '/x/f%d' % (i % 7)
    with open(n, 'wb') as f:
        f.write(b'z' * (100 + (i * 37) % 3000))
    if i % 3 == 0:
        os.remove(n)
    i += 1
"""


def test_ctrl_c_in_the_middle_of_file_writes_stops_the_code_and_never_breaks_the_filesystem(vboard):
    # Ctrl-C lands as a chip takes it: between Python steps, never inside a flash operation
    # LittleFS has half done. (The unix port's own Ctrl-C, a longjmp out of its signal handler,
    # crashed the VM within a few dozen of these: SIGSEGV in lfs2_dir_orphaningcommit.)
    import random
    from host_tools.link import Link
    rnd = random.Random(7)
    with Link(vboard.device) as link:
        boots = vboard.boots
        for _ in range(80):
            link.t.exec_raw_no_follow(WRITE_LOOP)
            time.sleep(rnd.uniform(0.02, 0.2))
            link.t.serial.write(b"\x03")
            answer = link._answer(20)
            assert b"KeyboardInterrupt" in answer, answer[-300:]
        assert vboard.boots == boots  # the VM never died
        names = link.eval("sorted(os.listdir('/x'))")
        assert set(names) <= {"f%d" % i for i in range(7)} and len(names) >= 4
        link.exec("_rmtree('/x')")
        assert link.eval("'x' in os.listdir('/')") is False
