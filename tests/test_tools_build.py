"""`build`: a bundle of .mpy files with a sha256 manifest; same inputs, same bytes."""
import hashlib
import json
import subprocess

from host_tools import build, mp


def tree(d):
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_same_inputs_give_the_same_bytes_and_the_manifest_is_true(tmp_path):
    a = build.build("esp32-devkitc", tmp_path / "a")
    b = build.build("esp32-devkitc", tmp_path / "b")
    ta, tb = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert ta == tb and a == b
    assert set(a["files"]) == set(ta) - {"manifest.json"}
    for rel, sha in a["files"].items():
        assert hashlib.sha256(ta[rel]).hexdigest() == sha
    assert ta["root/boot.py"].startswith(b"#")  # boot.py and main.py stay source
    assert "code/app/node.mpy" in ta and "code/lib/sds011.mpy" in ta and "code/lib/umqtt/simple.mpy" in ta
    # A chip never imports the unix board, the NOR emulator or replay: they stay out of its bundle.
    assert "code/app/board_esp32.mpy" in ta
    assert not {"code/app/board_unix.mpy", "code/app/norflash.mpy", "code/app/replay.mpy"} & set(ta)
    assert json.loads(ta["manifest.json"])["version"] == a["version"]


def test_the_unix_port_imports_the_compiled_bundle(tmp_path):
    m = build.build("unix-sim", tmp_path)
    assert {"code/app/board_unix.mpy", "code/app/norflash.mpy", "code/app/replay.mpy"} <= set(m["files"])
    # Only the bundle on the path (no source tree): .mpy header and bytecode must suit MicroPython 1.25.
    code = ("import sys; sys.path[:] = ['%s/code', '%s/code/lib']\n"
            "import app, app.isotime, sds011\nprint(app.isotime.iso(1234567890), app.__file__)" % (tmp_path, tmp_path))
    out = subprocess.run([mp.binary(), "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "2009-02-13T23:31:30Z" and out[1].endswith("__init__.mpy")
