# An update over the air: the `update` command names a package made by
# `smartnode release sign` (host_tools/release.py has its format); the node
# streams it from an HTTP(S) server into /next in CHUNK-byte pieces, hashed as
# they go, after it has checked the manifest's signature (app.ecdsa) against
# ota.key from its config, the version (no downgrade unless forced), the
# board, the MicroPython version and boot.py/main.py (the recovery path is not
# updated over the air: `deploy` over USB does that). Then /swap "trial" is
# the commit point boot.py acts on; the new version confirms itself once it
# has published (app.otatrial), or the next boot puts this one back.
# Imported only while an update runs.
import hashlib
import json
import os
from binascii import hexlify, unhexlify

import asyncio
from app import otatrial
from app.otatrial import exists, put, running_version

MAGIC = b"SNUP1"
MAX_HEADER = 16384  # magic, manifest and signature lines
CHUNK = 1024
busy = False  # an update runs


class UpdateError(Exception):
    pass


def version_key(v):
    """'0.2.0+3f9a...' -> (0, 2, 0): the build hash after '+' does not order versions."""
    out = []
    for p in v.split("+")[0].split("."):
        try:
            out.append(int(p))
        except ValueError:
            out.append(-1)
    return tuple(out)


def rmtree(p):  # as boot.py's, which cannot import it
    try:
        entries = list(os.ilistdir(p))
    except OSError:
        return
    for e in entries:
        q = p + "/" + e[0]
        if e[1] == 0x4000:
            rmtree(q)
        else:
            os.remove(q)
    os.rmdir(p)


def _sha_file(p):
    h = hashlib.sha256()
    buf = bytearray(256)
    try:
        with open(p, "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                h.update(memoryview(buf)[:n])
    except OSError:
        return None
    return hexlify(h.digest()).decode()


def key_id(key):
    return hexlify(hashlib.sha256(key).digest()[:8]).decode()


def check_signature(key, line, sig_hex):
    """ValueError unless sig_hex signs line under key (65 bytes)."""
    from app import ecdsa

    try:
        sig = unhexlify(sig_hex)
    except ValueError:
        sig = b""
    if not ecdsa.verify_raw(key, hashlib.sha256(line).digest(), sig):
        raise ValueError("bad signature")


class Stager:
    """Takes a package's bytes in order (feed), writes nothing before the signature
    checks out, then streams each file into /next, checking its sha256."""

    def __init__(self, key_hex, running, board, force=False, mp_version=None):
        try:
            self.key = unhexlify(key_hex)
        except (ValueError, TypeError):
            raise UpdateError("ota.key in the config is not hex: provision the node's key again")
        self.running = running
        self.board = board
        self.force = force
        if mp_version is None:
            import sys

            mp_version = sys.implementation.version[:3]
        self.mp_version = tuple(mp_version)
        self.manifest = None
        self.total = None
        self.received = 0
        self._head = bytearray()
        self._i = -1
        self._left = 0
        self._f = None
        self._h = None

    def feed(self, data):
        mv = memoryview(data)
        self.received += len(mv)
        while len(mv):
            mv = self._body(mv) if self.manifest is not None else self._header(mv)

    def _header(self, mv):
        head = self._head
        head.extend(mv)
        if head.count(b"\n") < 3:
            if len(head) > MAX_HEADER:
                raise UpdateError("not an update package (no manifest in the first %d bytes)" % MAX_HEADER)
            return mv[len(mv):]
        a = head.find(b"\n")
        b = head.find(b"\n", a + 1)
        c = head.find(b"\n", b + 1)
        if bytes(head[:a]) != MAGIC:
            raise UpdateError("not an update package (made by `smartnode release sign`)")
        line, sig, rest = bytes(head[a + 1:b]), bytes(head[b + 1:c]), bytes(head[c + 1:])
        self._head = head = None  # the manifest's text is not kept twice while it is parsed
        self._accept(line, sig)
        return memoryview(rest)

    def _accept(self, line, sig):
        try:
            m = json.loads(line)
            files = m["files"]
        except (ValueError, KeyError, TypeError):
            raise UpdateError("the package's manifest is not readable")
        try:
            check_signature(self.key, line, sig)
        except ValueError:
            if m.get("key") != key_id(self.key):
                raise UpdateError("signed with key %s, this node trusts key %s only"
                                  % (str(m.get("key"))[:16], key_id(self.key)))
            raise UpdateError("bad signature: the package was changed after it was signed")
        # From here on the manifest is the municipality's.
        v = m.get("version", "")
        if version_key(v) <= version_key(self.running) and not self.force:
            raise UpdateError("%s is not newer than the running %s (force to install it anyway)"
                              % (v, self.running))
        if self.board not in m.get("boards", ()):
            raise UpdateError("built for %s, this node is a %s" % (", ".join(m.get("boards", ())), self.board))
        if version_key(m.get("micropython", "0")) > self.mp_version:
            raise UpdateError("needs MicroPython %s, this node has %s"
                              % (m["micropython"], ".".join(str(x) for x in self.mp_version)))
        for name, sha in m.get("root", {}).items():
            if _sha_file(otatrial.ROOT + "/" + name) != sha:
                raise UpdateError("its %s differs from this node's: update over USB (smartnode deploy)" % name)
        for path, size, sha in files:
            if path.startswith("/") or ".." in path or not (0 <= size):
                raise UpdateError("bad path in the manifest: %s" % path)
        self.total = sum(f[1] for f in files)
        # At most two versions fit: the running one stays, the one before goes.
        rmtree(otatrial.ROOT + "/prev")
        rmtree(otatrial.ROOT + "/next")
        os.mkdir(otatrial.ROOT + "/next")
        self.manifest = m

    def _open_next(self):
        self._i += 1
        files = self.manifest["files"]
        if self._i >= len(files):
            raise UpdateError("the package is longer than its manifest says")
        path, self._left, _ = files[self._i]
        d = otatrial.ROOT + "/next"
        for part in path.split("/")[:-1]:
            d += "/" + part
            if not exists(d):
                os.mkdir(d)
        self._f = open(otatrial.ROOT + "/next/" + path, "wb")
        self._h = hashlib.sha256()

    def _body(self, mv):
        if self._f is None:
            self._open_next()
        n = min(self._left, len(mv))
        if n:
            self._f.write(mv[:n])
            self._h.update(mv[:n])
            self._left -= n
        if not self._left:
            self._close_file()
        return mv[n:]

    def _close_file(self):
        self._f.close()
        self._f = None
        path, _, sha = self.manifest["files"][self._i]
        if hexlify(self._h.digest()).decode() != sha:
            raise UpdateError("%s: sha256 does not match the manifest (corrupted in transit?)" % path)

    def finish(self):
        """The whole package arrived and checked out: /next is ready for /swap."""
        if self.manifest is None:
            raise UpdateError("the download ended inside the package's header")
        if self._f is not None or self._i + 1 < len(self.manifest["files"]):
            raise UpdateError("the package is cut short: %d of %d bytes"
                              % (self.received, self.total + len(MAGIC)))
        put(otatrial.ROOT + "/next/manifest.json", json.dumps({"version": self.manifest["version"]}))

    def abort(self):
        if self._f is not None:
            self._f.close()
            self._f = None
        rmtree(otatrial.ROOT + "/next")


def parse_url(url):
    """-> (tls?, host, port, path) of an http:// or https:// URL."""
    for scheme, port in (("https://", 443), ("http://", 80)):
        if url.startswith(scheme):
            hostport, _, path = url[len(scheme):].partition("/")
            host, _, p = hostport.rpartition(":")
            if host and p.isdigit():
                return port == 443, host, int(p), "/" + path
            return port == 443, hostport, port, "/" + path
    raise UpdateError("url: http:// or https:// only")


async def download(url, ota_cfg, broker, sink, progress, timeout=10):
    """GET url, each chunk to sink.feed() as it arrives; other tasks run in between."""
    import socket

    tls, host, port, path = parse_url(url)
    ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(ai[0], socket.SOCK_STREAM)
    try:
        s.settimeout(timeout)
        s.connect(ai[-1])
        if tls:  # the certificate is checked as the broker's is (app.mqtt.tls_context)
            from app.mqtt import tls_context

            sec = {"tls": True, "ca": ota_cfg.get("ca") or broker.get("ca"),
                   "tls_insecure_skip_verify": broker.get("tls_insecure_skip_verify")}
            if not sec["ca"] and sec["tls_insecure_skip_verify"] is not True:
                raise UpdateError("https needs the update server's CA: ota.ca (or broker.ca) in the config")
            s = tls_context(sec).wrap_socket(s, server_hostname=host)
        s.write(b"GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" % (path.encode(), host.encode()))
        status = s.readline().split()
        if len(status) < 2 or status[1] != b"200":
            raise UpdateError("the server answered %s for %s" % (b" ".join(status[1:]).decode(), url))
        length = None
        while True:
            line = s.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        buf = bytearray(CHUNK)
        got = 0
        while length is None or got < length:
            n = s.readinto(buf)
            if not n:
                break
            sink.feed(memoryview(buf)[:n])
            got += n
            progress(got, length)
            await asyncio.sleep_ms(0)
        if length is not None and got < length:
            raise UpdateError("the download was cut short: %d of %d bytes" % (got, length))
    finally:
        s.close()


def record(frm, to, result):
    otatrial.save({"from": frm, "to": to, "result": result})


def prepare(params, cfg, board):
    """-> a Stager for this node; UpdateError if no update can start."""
    ota = cfg.get("ota") or {}
    if exists(otatrial.ROOT + "/trial"):  # its fallback, /prev, must stay until it is confirmed
        raise UpdateError("the running %s is still on trial: update once it has published" % running_version())
    if not ota.get("key"):
        raise UpdateError("no ota.key in the config: provision the municipality's public key")
    return Stager(ota["key"], running_version(), board.profile.get("name"), params.get("force") is True)


def commit(stager):
    """The package is whole and checked: /swap "trial", the commit point (boot.py). -> version."""
    stager.finish()
    to = stager.manifest["version"]
    record(stager.running, to, None)
    put(otatrial.ROOT + "/swap", "trial")
    return to


def failed(stager, e, answer):
    """A bad package, a dead server, a full flash: this version runs on. -> the answer."""
    if stager is not None:
        try:
            stager.abort()
        except OSError:
            pass
    why = e.args[0] if isinstance(e, UpdateError) and e.args else repr(e)
    result = "ERROR %s" % why
    record(stager.running if stager else running_version(),
           stager.manifest["version"] if stager and stager.manifest else None, result)
    answer(result)
    return result


async def run(params, cfg, board, answer):
    """An update from an HTTP(S) server; answer(text) reports on cmdexe. -> version or ERROR."""
    stager = None
    ota = cfg.get("ota") or {}
    try:
        stager = prepare(params, cfg, board)
        answer("downloading %s" % params["url"])
        said = [0]

        def progress(got, length):
            if length and got * 4 // length > said[0]:  # at each quarter
                said[0] = got * 4 // length
                if said[0] < 4:
                    answer("%d%% of %d bytes" % (said[0] * 25, length))

        await download(params["url"], ota, cfg.get("broker") or {}, stager, progress, ota.get("timeout", 10))
        return commit(stager)
    except Exception as e:
        return failed(stager, e, answer)


ACK_EVERY = 4096  # bytes between `have` answers of an update in chunks
chunks = None  # [Stager, announced size] while an update comes in chunks over MQTT


def start(shell, kind, params):
    """`update` (from a server: in its own task, sensing and delivery go on meanwhile;
    {"size": N}: in chunks that follow) or `chunk` (one piece of it)."""
    global busy, chunks
    link = shell.link

    def answer(text):
        link.answers.append(("update", text))

    def done(result):
        global busy, chunks
        chunks = None
        if result.startswith("ERROR"):
            busy = False
            link.last_error = "update: " + result
            shell.last_update = result
            release()
            return
        answer("%s verified; rebooting into it" % result)
        link.reboot_due = True  # once the answer is out

        async def later():  # without a broker the link never gets there
            await asyncio.sleep_ms(5000)
            shell.board.reboot()

        asyncio.create_task(later())

    if kind == "chunk":
        if chunks is None:
            answer('ERROR no update in chunks under way: send {"update": {"size": N}} first')
        else:
            take(chunks, params, answer, done)
        return
    if busy:
        answer("ERROR an update is already running")
        return
    busy = True
    if "size" in params:
        try:
            chunks = [prepare(params, shell.cfg, shell.board), params["size"]]
            answer("ready for %d bytes in chunks" % params["size"])
        except Exception as e:
            done(failed(None, e, answer))
        return

    async def task():
        done(await run(params, shell.cfg, shell.board, answer))

    asyncio.create_task(task())


def take(session, params, answer, done):
    stager, size = session
    at = stager.received
    if params["at"] != at:  # a piece lost or repeated: the sender goes on from here
        answer("want %d" % at)
        return
    try:
        from binascii import a2b_base64

        stager.feed(a2b_base64(params["b64"]))
        if stager.received > size:
            raise UpdateError("more bytes than the %d announced" % size)
        if stager.received == size:
            done(commit(stager))
        elif stager.received // ACK_EVERY != at // ACK_EVERY:
            answer("have %d" % stager.received)
    except Exception as e:
        done(failed(stager, e, answer))


def release():
    """Give the heap back: the modules are imported again by the next update."""
    import sys

    import app

    for name in ("ota", "ecdsa"):
        sys.modules.pop("app." + name, None)
        if name in app.__dict__:
            del app.__dict__[name]
