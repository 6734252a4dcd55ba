"""The node downloads a package over HTTPS only from a server whose certificate chains to
the CA in its config (ota.ca, else broker.ca), as for its broker: the firmware's own
download (app.ota.download) under the ESP32-model unix port, against a local HTTPS server
with a CA made at test time."""
import hashlib
import http.server
import json
import os
import ssl
import tempfile
import threading

import pytest

from host_tools import mp
from tests.pki import CA

NODE = r"""
import sys, json, hashlib, asyncio
from binascii import hexlify
from app import ota
with open(sys.argv[1]) as f:
    args = json.load(f)

class Sink:
    def __init__(self):
        self.h = hashlib.sha256()
        self.n = 0
    def feed(self, mv):
        self.h.update(mv)
        self.n += len(mv)

sink = Sink()
try:
    asyncio.run(ota.download(args["url"], args["ota"], args["broker"], sink, lambda got, length: None))
    print(json.dumps({"bytes": sink.n, "sha": hexlify(sink.h.digest()).decode()}))
except Exception as e:
    print(json.dumps({"refused": repr(e)}))
"""


@pytest.fixture(scope="module")
def https(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    town, other = CA(str(d), "town-ca"), CA(str(d), "other-ca")
    cert, key = town.issue("updates", "localhost")
    www = d / "www"
    www.mkdir()
    data = os.urandom(5000)
    (www / "p.snup").write_bytes(data)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a, **k: Quiet(*a, directory=str(www), **k))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"port": httpd.server_address[1], "town": town.cert, "other": other.cert,
           "sha": hashlib.sha256(data).hexdigest()}
    httpd.shutdown()
    httpd.server_close()


def fetch(url, ota_cfg, broker=None):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"url": url, "ota": ota_cfg, "broker": broker or {}}, f)
    try:
        proc = mp.run(["-c", NODE, f.name], build="esp32", capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(f.name)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_https_download_checks_the_servers_certificate(https):
    url = "https://localhost:%d/p.snup" % https["port"]
    assert fetch(url, {"ca": https["town"]}) == {"bytes": 5000, "sha": https["sha"]}
    assert fetch(url, {}, {"ca": https["town"]})["sha"] == https["sha"]  # the broker's CA by default
    assert "refused" in fetch(url, {"ca": https["other"]})  # another CA's server: no bytes taken
    # The certificate names localhost, not 127.0.0.1: the host name is checked too.
    assert "refused" in fetch("https://127.0.0.1:%d/p.snup" % https["port"], {"ca": https["town"]})
    no_ca = fetch(url, {})
    assert "https needs the update server's CA: ota.ca" in no_ca["refused"]  # never unverified by default
