# The node's P-256 verifier against published vectors (NIST CAVP SigVer, FIPS 186-3:
# tests/data/crypto, SOURCES.md), never against its own output.
import hashlib
from binascii import unhexlify

from app import ecdsa

VECTORS = "tests/data/crypto/nist_p256_sha256_sigver.rsp"


def nist_vectors():
    out = []
    v = {}
    with open(VECTORS) as f:
        for line in f:
            if " = " not in line or line.startswith("#"):
                continue
            k, val = line.strip().split(" = ", 1)
            v[k] = val
            if k == "Result":
                out.append(v)
                v = {}
    return out


def test_nist_sigver_p256_sha256_every_verdict_matches():
    vectors = nist_vectors()
    assert len(vectors) == 15
    passed = 0
    for v in vectors:
        digest = hashlib.sha256(unhexlify(v["Msg"])).digest()
        q = (int(v["Qx"], 16), int(v["Qy"], 16))
        want = v["Result"].startswith("P")
        try:
            ecdsa.public_key(b"\x04" + unhexlify(v["Qx"]) + unhexlify(v["Qy"]))
            on_curve = True
        except ValueError:
            on_curve = False
        got = on_curve and ecdsa.verify(q, digest, int(v["R"], 16), int(v["S"], 16))
        assert got == want, (v["Result"], v["Msg"][:16])
        passed += want
    assert passed == 3  # the file: 3 valid; 12 with the message, R, S or Q changed


def test_out_of_range_signatures_and_keys_are_refused():
    v = [x for x in nist_vectors() if x["Result"].startswith("P")][0]
    digest = hashlib.sha256(unhexlify(v["Msg"])).digest()
    q = (int(v["Qx"], 16), int(v["Qy"], 16))
    r, s = int(v["R"], 16), int(v["S"], 16)
    assert ecdsa.verify(q, digest, r, s)
    for rr, ss in ((0, s), (r, 0), (r + ecdsa.N, s), (r, s + ecdsa.N), (ecdsa.N, s)):
        assert not ecdsa.verify(q, digest, rr, ss)
    assert not ecdsa.verify((q[0], q[1] ^ 1), digest, r, s)  # not on the curve
    for bad in (b"", b"\x02" + bytes(32), b"\x04" + bytes(64)):
        try:
            ecdsa.public_key(bad)
            raise AssertionError("accepted %r" % bad)
        except ValueError:
            pass
    assert not ecdsa.verify_raw(b"\x04" + unhexlify(v["Qx"]) + unhexlify(v["Qy"]), digest, b"\x01" * 63)
