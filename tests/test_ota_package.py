"""Packages signed on the host (`smartnode release`, the `cryptography` package) checked by
the node's own code (app.ota, app.ecdsa) under the ESP32-model unix port, on a LittleFS in
RAM: a good one is staged file by file; a flipped byte, a wrong key, a cut-short download,
a downgrade, another board or another boot.py are refused with the reason and /next gone.
Key rotation: a statement signed by the trusted key is accepted, one by another key not."""
import hashlib
import json
import subprocess
import sys

import pytest

from host_tools import mp, release

NODE = r"""
import sys, os, json, vfs, hashlib
from binascii import hexlify
from app.norflash import NorFlash
from app import ota
dev = NorFlash(64)
vfs.VfsLfs2.mkfs(dev)
vfs.mount(vfs.VfsLfs2(dev), "/o")
ota.otatrial.ROOT = "/o"
os.mkdir("/o/cur")
os.mkdir("/o/prev")
with open("/o/cur/manifest.json", "w") as f:
    f.write(json.dumps({"version": RUNNING}))
for name, text in ROOTFILES.items():
    with open("/o/" + name, "w") as f:
        f.write(text)
pkg = open(PKG, "rb").read()
st = ota.Stager(KEY, RUNNING, BOARD, FORCE)
try:
    for i in range(0, len(pkg), 700):
        st.feed(pkg[i:i + 700])
    st.finish()
    out = {}
    for path, size, sha in st.manifest["files"]:
        with open("/o/next/" + path, "rb") as f:
            out[path] = hexlify(hashlib.sha256(f.read()).digest()).decode()
    print(json.dumps({"ok": out, "prev": "prev" in os.listdir("/o"),
                      "version": json.load(open("/o/next/manifest.json"))["version"]}))
except ota.UpdateError as e:
    st.abort()
    print(json.dumps({"error": e.args[0], "next": "next" in os.listdir("/o")}))
"""
ROOTFILES = {"boot.py": "# boot\n", "main.py": "# main\n"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    d = tmp_path_factory.mktemp("keys")
    for n in ("town", "other"):
        release.keygen(d / n)
    return {n: release.load_key(d / (n + ".pem")) for n in ("town", "other")}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """A small bundle in the layout `smartnode build` writes."""
    b = tmp_path_factory.mktemp("bundle")
    files = {"code/app/__init__.mpy": b"M\x06" + bytes(range(256)) * 9,
             "code/app/ota.mpy": bytes(3000),
             "code/lib/drv/bme.mpy": b"driver" * 300,
             "root/boot.py": ROOTFILES["boot.py"].encode(), "root/main.py": ROOTFILES["main.py"].encode()}
    for rel, data in files.items():
        (b / rel).parent.mkdir(parents=True, exist_ok=True)
        (b / rel).write_bytes(data)
    (b / "manifest.json").write_text(json.dumps({
        "board": "unix-sim", "chip": "unix", "mpy": "6.3", "version": "0.2.0+0123456789ab",
        "files": {rel: hashlib.sha256(d).hexdigest() for rel, d in files.items()}}))
    return b, files


def on_node(pkg, key, running="0.1.0+aaaaaaaaaaaa", board="unix-sim", force=False, rootfiles=ROOTFILES):
    code = ("PKG=%r\nKEY=%r\nRUNNING=%r\nBOARD=%r\nFORCE=%r\nROOTFILES=%r\n" % (
        str(pkg), release.public_bytes(key).hex(), running, board, force, rootfiles)) + NODE
    proc = mp.run(["-c", code], build="esp32", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_good_package_is_staged_file_by_file_and_prev_is_dropped(keys, bundle, tmp_path):
    b, files = bundle
    pkg = tmp_path / "p.snup"
    m = release.package(b, keys["town"], pkg)
    assert m["key"] == release.key_id(release.public_bytes(keys["town"]))
    got = on_node(pkg, keys["town"])
    # Hashes computed here from the bundle's bytes, not from the package.
    want = {rel[5:]: hashlib.sha256(d).hexdigest() for rel, d in files.items() if rel.startswith("code/")}
    assert got == {"ok": want, "prev": False, "version": "0.2.0+0123456789ab"}


def flipped(src, dst, at):
    data = bytearray(src.read_bytes())
    data[at] ^= 0x01
    dst.write_bytes(bytes(data))


def test_every_bad_package_is_refused_with_its_reason(keys, bundle, tmp_path):
    b, _ = bundle
    pkg = tmp_path / "p.snup"
    release.package(b, keys["town"], pkg)
    size = pkg.stat().st_size
    cases = []
    body = tmp_path / "body.snup"
    flipped(pkg, body, size - 100)  # a byte of the last file
    cases.append((body, keys["town"], {}, "bme.mpy: sha256 does not match"))
    head = tmp_path / "head.snup"
    flipped(pkg, head, pkg.read_bytes().index(b'"version"') + 12)  # in the signed manifest
    cases.append((head, keys["town"], {}, "bad signature"))
    cases.append((pkg, keys["other"], {}, "this node trusts key %s only" % release.key_id(
        release.public_bytes(keys["other"]))))
    cut = tmp_path / "cut.snup"
    cut.write_bytes(pkg.read_bytes()[:size - 1000])
    cases.append((cut, keys["town"], {}, "the package is cut short"))
    cases.append((pkg, keys["town"], {"running": "0.2.0+ffffffffffff"}, "is not newer than the running 0.2.0"))
    cases.append((pkg, keys["town"], {"running": "0.10.0+ffffffffffff"}, "is not newer"))
    cases.append((pkg, keys["town"], {"board": "esp32-devkitc"}, "built for unix-sim, this node is a esp32-devkitc"))
    cases.append((pkg, keys["town"], {"rootfiles": dict(ROOTFILES, **{"boot.py": "# older boot\n"})},
                  "its boot.py differs from this node's: update over USB"))
    for p, key, kw, why in cases:
        got = on_node(p, key, **kw)
        assert why in got.get("error", ""), (why, got)
        assert got["next"] is False  # nothing staged is left behind


def test_a_downgrade_goes_in_only_when_forced(keys, bundle, tmp_path):
    b, _ = bundle
    pkg = tmp_path / "p.snup"
    release.package(b, keys["town"], pkg)
    assert on_node(pkg, keys["town"], running="0.3.0+0", force=True)["version"] == "0.2.0+0123456789ab"


def test_key_rotation_is_accepted_only_from_the_trusted_key(keys, tmp_path):
    code = r"""
import json
from app.commands import Commands
cfg = {"device_id": "n1", "apikey": "k", "ota": {"key": %r}}
c = Commands(cfg, None)
for stmt in %r:
    print(json.dumps(c.handle(json.dumps({"otakey": stmt}).encode())[0][1]))
print(cfg["ota"]["key"])
"""
    new = release.public_bytes(keys["other"])
    good = release.rotation(keys["town"], new)
    forged = release.rotation(keys["other"], new)  # the new key vouching for itself
    assert len(json.dumps({"otakey": good})) < 1024  # fits one command message
    proc = mp.run(["-c", code % (release.public_bytes(keys["town"]).hex(), [forged, good])],
                  build="esp32", capture_output=True, text=True, timeout=60)
    out = proc.stdout.strip().splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(out[0]).startswith("ERROR otakey: refused (bad signature)")
    assert json.loads(out[1]) == "OK trusting key %s" % release.key_id(new)
    assert out[2] == new.hex()


def test_cli_keygen_sign_and_rotate(tmp_path, bundle):
    b, _ = bundle
    run = lambda *a: subprocess.run([sys.executable, "-m", "host_tools", "release", *a],
                                    capture_output=True, text=True)
    k = run("keygen", str(tmp_path / "keys" / "town"))
    assert k.returncode == 0, k.stderr
    pub = (tmp_path / "keys" / "town.pub").read_text().strip()
    assert pub in k.stdout and len(bytes.fromhex(pub)) == 65
    assert (tmp_path / "keys" / "town.pem").stat().st_mode & 0o077 == 0  # private to its owner
    again = run("keygen", str(tmp_path / "keys" / "town"))
    assert again.returncode != 0 and "exists" in again.stderr
    s = run("sign", "--key", str(tmp_path / "keys" / "town.pem"), "--bundle", str(b), "--out", str(tmp_path / "x.snup"))
    assert s.returncode == 0, s.stderr
    m, line, sig = release.read_header(tmp_path / "x.snup")
    assert m["version"] == "0.2.0+0123456789ab" and m["boards"] == ["unix-sim"] and m["micropython"] == "1.25.0"
    # The signature checks out with the published public key, in the host library too.
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    q = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(pub))
    q.verify(utils.encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")),
             line, ec.ECDSA(hashes.SHA256()))
    missing = run("sign", "--key", str(tmp_path / "nokey.pem"), "--bundle", str(b))
    assert missing.returncode != 0 and "release keygen" in missing.stderr
