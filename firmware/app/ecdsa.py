# ECDSA P-256 signature verification (FIPS 186-4 section 6.4.2; curve from
# SEC 2 / FIPS 186-4 D.1.2.3) in plain Python integers, for update packages.
# MicroPython's hashlib has SHA-256 on every port but no SHA-512 (Ed25519
# would need it) and no public-key primitive, so this is the node's verifier.
# Verification only: no secret is involved, so constant time does not matter.
# Points are Jacobian (X, Y, Z), x = X/Z^2, y = Y/Z^3; Z = 0 is infinity.
# Cost: one 256-step double-and-add with u1*G + u2*Q done together (Shamir).
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def _inv(a, m):
    """a^-1 mod m (m prime, a not 0 mod m), extended Euclid: no 3-argument pow needed."""
    lm, hm = 1, 0
    low, high = a % m, m
    while low > 1:
        q = high // low
        lm, low, hm, high = hm - lm * q, high - low * q, lm, low
    return lm % m


def _double(X, Y, Z):
    # dbl-2001-b (a = -3), Explicit-Formulas Database
    if not Z or not Y:
        return 1, 1, 0
    p = P
    zz = Z * Z % p
    yy = Y * Y % p
    m = 3 * (X - zz) * (X + zz) % p
    s = 4 * X * yy % p
    x3 = (m * m - 2 * s) % p
    return x3, (m * (s - x3) - 8 * yy * yy) % p, 2 * Y * Z % p


def _add_affine(X1, Y1, Z1, x2, y2):
    # madd-2004-hmv: (X1, Y1, Z1) + (x2, y2, 1)
    if not Z1:
        return x2, y2, 1
    p = P
    z1z1 = Z1 * Z1 % p
    h = (x2 * z1z1 - X1) % p
    r = (y2 * Z1 * z1z1 - Y1) % p
    if not h:
        return _double(X1, Y1, Z1) if not r else (1, 1, 0)
    hh = h * h % p
    hhh = h * hh % p
    v = X1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    return x3, (r * (v - x3) - Y1 * hhh) % p, Z1 * h % p


def _affine(X, Y, Z):
    zi = _inv(Z, P)
    zi2 = zi * zi % P
    return X * zi2 % P, Y * zi2 * zi % P


def on_curve(x, y):
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x - 3 * x + B)) % P == 0


def public_key(raw):
    """65 bytes 04||x||y (SEC 1 uncompressed) -> (x, y); ValueError if not a point of P-256."""
    if len(raw) != 65 or raw[0] != 4:
        raise ValueError("public key: expected 65 bytes, uncompressed (04 || x || y)")
    x = int.from_bytes(raw[1:33], "big")
    y = int.from_bytes(raw[33:], "big")
    if not on_curve(x, y):
        raise ValueError("public key: not a point on P-256")
    return x, y


def verify(q, digest, r, s):
    """True if (r, s) signs the 32-byte SHA-256 digest under the public key q = (x, y)."""
    if not (0 < r < N and 0 < s < N) or not on_curve(q[0], q[1]):
        return False
    e = int.from_bytes(digest, "big")
    w = _inv(s, N)
    u1 = e * w % N
    u2 = r * w % N
    gq = _double(G[0], G[1], 1) if q == G else _add_affine(G[0], G[1], 1, q[0], q[1])
    table = (None, q, G, _affine(*gq) if gq[2] else None)
    X, Y, Z = 1, 1, 0
    b1 = u1.to_bytes(32, "big")  # bits by small-int arithmetic: no big int per step
    b2 = u2.to_bytes(32, "big")
    for i in range(256):
        X, Y, Z = _double(X, Y, Z)
        m = 0x80 >> (i & 7)
        t = table[(2 if b1[i >> 3] & m else 0) | (1 if b2[i >> 3] & m else 0)]
        if t is not None:
            X, Y, Z = _add_affine(X, Y, Z, t[0], t[1])  # None: 0, or G + Q = infinity
    if not Z:
        return False
    return _affine(X, Y, Z)[0] % N == r


def verify_raw(key65, digest, sig64):
    """verify() with the key as 65 bytes and the signature as r || s, 32 bytes each."""
    if len(sig64) != 64:
        return False
    return verify(public_key(key65), digest, int.from_bytes(sig64[:32], "big"),
                  int.from_bytes(sig64[32:], "big"))
