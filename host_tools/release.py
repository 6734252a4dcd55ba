"""`release`: a signed update package from a `build` bundle, and the keys that sign it.

  smartnode release keygen keys/ljubljana        # once: keys/ljubljana.pem (secret) + .pub
  smartnode release sign --key keys/ljubljana.pem --board esp32-devkitc
  smartnode release rotate --key keys/ljubljana.pem --to keys/ljubljana-2027.pem

A package (.snup) is one file a node can read front to back with little RAM:
  line 1  b"SNUP1"
  line 2  the manifest, one line of JSON: version, minimum MicroPython, target
          boards, signing key id, every file of the application as
          [path under /cur, size, sha256], the sha256 of boot.py and main.py
  line 3  the ECDSA P-256 signature of line 2 (SHA-256), r || s in hex
  then    the files' bytes, back to back, in the manifest's order.
The node checks the signature before it writes anything, then each file's hash
as it streams it into /next (firmware/app/ota.py). P-256 because the node can
verify it: MicroPython has SHA-256 but no SHA-512, which Ed25519 needs.

The private key stays on the technician's machine (mode 0600; encrypted when
SMARTNODE_KEY_PASSPHRASE is set). A node trusts the public key in its config
(`ota.key`); `rotate` writes a statement, signed by the current key, that
makes a node trust a new one (the `otakey` command).
"""
import hashlib
import json
import os
import sys
from pathlib import Path

from . import paths

MAGIC = b"SNUP1"
MICROPYTHON = "1.25.0"  # the bundle's .mpy files are v6.3 (host_tools/build.py)


class ReleaseError(RuntimeError):
    pass


def _ec():
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, utils
    except ImportError:
        raise ReleaseError("the `cryptography` package is missing: run `make setup`")
    return hashes, serialization, ec, utils


def _passphrase():
    p = os.environ.get("SMARTNODE_KEY_PASSPHRASE")
    return p.encode() if p else None


def public_bytes(key):
    """65 bytes, 04 || x || y: what a node's ota.key holds (in hex)."""
    _, serialization, _, _ = _ec()
    return key.public_key().public_bytes(serialization.Encoding.X962,
                                         serialization.PublicFormat.UncompressedPoint)


def key_id(pub65):
    return hashlib.sha256(pub65).hexdigest()[:16]


def keygen(base):
    """Write BASE.pem (private) and BASE.pub (public, hex); -> the public key hex."""
    _, serialization, ec, _ = _ec()
    base = Path(base)
    pem, pub = base.with_suffix(".pem"), base.with_suffix(".pub")
    if pem.exists():
        raise ReleaseError("%s exists: a new key would orphan every node that trusts it; "
                           "choose another name, then `release rotate` to it" % pem)
    key = ec.generate_private_key(ec.SECP256R1())
    pw = _passphrase()
    enc = serialization.BestAvailableEncryption(pw) if pw else serialization.NoEncryption()
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(pem), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        pub.write_text(public_bytes(key).hex() + "\n")
    except OSError as e:
        raise ReleaseError("cannot write %s" % paths.unwritable(e.filename or str(pem), e))
    return public_bytes(key).hex()


def load_key(path):
    _, serialization, ec, _ = _ec()
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ReleaseError("cannot read the signing key %s (%s): make one with "
                           "`smartnode release keygen NAME`" % (path, e.strerror))
    try:
        key = serialization.load_pem_private_key(data, _passphrase())
    except TypeError:
        raise ReleaseError("%s is encrypted: set SMARTNODE_KEY_PASSPHRASE" % path)
    except ValueError as e:
        raise ReleaseError("%s is not a readable private key (%s); wrong passphrase?" % (path, e))
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ReleaseError("%s is not a P-256 (secp256r1) key" % path)
    return key


def sign(key, message):
    """-> 64 bytes r || s, the signature of SHA-256(message)."""
    hashes, _, ec, utils = _ec()
    r, s = utils.decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def manifest_for(bundle, key):
    """The package manifest of a build bundle (dict) and the files' paths in order."""
    bundle = Path(bundle)
    try:
        built = json.loads((bundle / "manifest.json").read_text())
    except (OSError, ValueError):
        raise ReleaseError("no bundle in %s: run `smartnode build --board BOARD` first" % bundle)
    files, sources = [], []
    for rel in sorted(built["files"]):
        if rel.startswith("code/"):
            src = bundle / rel
            data = src.read_bytes()
            if hashlib.sha256(data).hexdigest() != built["files"][rel]:
                raise ReleaseError("%s does not match the bundle's manifest: build again" % src)
            files.append([rel[5:], len(data), built["files"][rel]])
            sources.append(src)
    root = {rel[5:]: sha for rel, sha in built["files"].items() if rel.startswith("root/")}
    m = {"format": 1, "version": built["version"], "micropython": MICROPYTHON,
         "boards": [built["board"]], "key": key_id(public_bytes(key)), "root": root,
         "files": files}
    return m, sources


def package(bundle, key, out):
    """Write the signed package; -> its manifest."""
    m, sources = manifest_for(bundle, key)
    line = json.dumps(m, sort_keys=True, separators=(",", ":")).encode()
    try:
        with open(out, "wb") as f:
            f.write(MAGIC + b"\n" + line + b"\n" + sign(key, line).hex().encode() + b"\n")
            for src in sources:
                f.write(src.read_bytes())
    except OSError as e:
        raise ReleaseError("cannot write %s" % paths.unwritable(e.filename or str(out), e))
    return m


def read_header(path):
    """-> (manifest dict, manifest line, signature bytes) of a package."""
    with open(path, "rb") as f:
        if f.readline() != MAGIC + b"\n":
            raise ReleaseError("%s is not an update package (made by `smartnode release sign`)" % path)
        line = f.readline().rstrip(b"\n")
        sig = bytes.fromhex(f.readline().decode().strip())
    return json.loads(line), line, sig


def rotation(old_key, new_pub65):
    """The `otakey` command's data: a statement that the node should trust new_pub65
    instead, signed by old_key."""
    stmt = json.dumps({"trust": new_pub65.hex(), "instead": key_id(public_bytes(old_key))},
                      sort_keys=True, separators=(",", ":"))
    return {"statement": stmt, "sig": sign(old_key, stmt.encode()).hex()}


def add_arguments(p):
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    k = sub.add_parser("keygen", help="a new signing key: NAME.pem (keep it secret) and NAME.pub")
    k.add_argument("name", help="path without extension, e.g. keys/ljubljana")
    s = sub.add_parser("sign", help="a signed update package from a build bundle")
    s.add_argument("--key", required=True, help="the private key (NAME.pem)")
    s.add_argument("--board", default="esp32-devkitc", help="board the bundle was built for")
    s.add_argument("--bundle", help="bundle directory (default build/bundle/BOARD)")
    s.add_argument("--out", help="package file (default build/release/BOARD-VERSION.snup)")
    r = sub.add_parser("rotate", help="a statement, signed by the current key, to trust a new key")
    r.add_argument("--key", required=True, help="the key the nodes trust now (NAME.pem)")
    r.add_argument("--to", required=True, help="the new key (NAME.pem from `release keygen`)")
    r.add_argument("--out", help="where to write the `otakey` command's JSON (default: stdout)")


def main(args):
    try:
        if args.action == "keygen":
            pub = keygen(args.name)
            print("release: key %s written to %s.pem (keep it secret, back it up offline); "
                  "put this in each node's config as ota.key:\n%s" % (
                      key_id(bytes.fromhex(pub)), args.name, pub))
        elif args.action == "sign":
            key = load_key(args.key)
            bundle = Path(args.bundle or paths.BUILD / "bundle" / args.board)
            m, _ = manifest_for(bundle, key)
            out = Path(args.out or paths.BUILD / "release" / ("%s-%s.snup" % (m["boards"][0], m["version"])))
            out.parent.mkdir(parents=True, exist_ok=True)
            package(bundle, key, out)
            print("release: %s: version %s for %s, %d files, signed by key %s"
                  % (out, m["version"], ", ".join(m["boards"]), len(m["files"]), m["key"]))
        else:
            old, new = load_key(args.key), load_key(args.to)
            text = json.dumps({"otakey": rotation(old, public_bytes(new))})
            if args.out:
                Path(args.out).write_text(text + "\n")
            else:
                sys.stdout.write(text + "\n")
    except ReleaseError as e:
        raise SystemExit("release: %s" % e)
