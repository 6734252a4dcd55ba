"""The unix port we build is the one the firmware needs: 1.25.0, mbedTLS, LittleFS, frozen asyncio."""
import subprocess

from host_tools import mp, paths


def test_make_micropython_prints_the_binary_path_last():
    out = subprocess.run(["make", "-s", "micropython"], cwd=paths.ROOT, capture_output=True,
                         text=True, check=True).stdout
    path = out.strip().splitlines()[-1]
    assert path.startswith("/")
    ver = subprocess.run([path, "-c", "import sys; print(sys.implementation.version[:3])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert ver == "(1, 25, 0)"


def test_port_has_the_modules_the_firmware_uses():
    code = ("import tls, asyncio, vfs, framebuf, select, socket, mip\n"
            "assert hasattr(vfs, 'VfsLfs2') and hasattr(tls, 'SSLContext')\n"
            "assert tls.CERT_REQUIRED == 2\n"
            "try:\n import ssl\n print('ssl present')\nexcept ImportError:\n print('no ssl')\n")
    out = mp.run(["-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "no ssl"
