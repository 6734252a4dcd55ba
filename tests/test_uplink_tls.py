"""TLS to a real Mosquitto listener with a CA generated at test time: the node's
session (under MicroPython) verifies the certificate chain, its dates and the host name."""
import json
import os
import subprocess
import tempfile

from host_tools import mp
from host_tools.broker import Mosquitto, free_port
from tests.pki import CA

PROBE = r"""
import json, sys
from app.mqtt import Session, tls_context
port = int(sys.argv[1])
with open(sys.argv[2]) as f:
    broker = json.load(f)
try:
    s = Session("tls-probe", "127.0.0.1", port, user=broker.get("user"), password=broker.get("password"),
                ssl_context=tls_context(broker), server_hostname=broker.get("server_hostname"), timeout=5)
    s.connect()
    s.publish("/json/k/tls-probe/attrs", '{"a":1}', qos=1)
    while s.outstanding:
        s.poll(1000)
    s.disconnect()
    print("connected")
except Exception as e:
    print("refused", repr(e))
"""


def probe(port, **broker):
    broker.setdefault("tls", True)
    # A file, not argv: the 1.25 unix port aborts on an argument over 255 bytes.
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(broker, f)
    proc = mp.run(["-c", PROBE, str(port), f.name], stdout=subprocess.PIPE,
                  stderr=subprocess.STDOUT, text=True, timeout=60)
    os.unlink(f.name)
    return proc.stdout.strip().splitlines()[-1]


def listener(port, ca, cert, key, require_client=False):
    lines = ["listener %d 127.0.0.1" % port, "cafile " + ca, "certfile " + cert, "keyfile " + key]
    if require_client:
        lines.append("require_certificate true")
    return "\n".join(lines) + "\n"


def test_tls_verifies_ca_dates_and_host_name(tmp_path):
    ca = CA(str(tmp_path), "municipality-ca")
    other = CA(str(tmp_path), "other-ca")
    good = ca.issue("broker", "localhost")
    expired = ca.issue("expired", "localhost", start="20240101000000Z", end="20240201000000Z")
    client = ca.issue("node", "tls-probe", ext="client")
    p_good, p_expired, p_mutual = free_port(), free_port(), free_port()
    extra = (listener(p_good, ca.cert, *good) + listener(p_expired, ca.cert, *expired)
             + listener(p_mutual, ca.cert, *good, require_client=True))
    with Mosquitto(extra=extra):
        assert probe(p_good, ca=ca.cert, server_hostname="localhost") == "connected"
        # Refused by mbedTLS's certificate checks during the non-blocking handshake, for
        # the reason given (its x509 verify messages), not by a timeout.
        out = probe(p_good, ca=other.cert, server_hostname="localhost")
        assert out.startswith("refused") and "not correctly signed by the trusted CA" in out, out
        out = probe(p_expired, ca=ca.cert, server_hostname="localhost")
        assert out.startswith("refused") and "validity has expired" in out, out
        out = probe(p_good, ca=ca.cert, server_hostname="broker.example")
        assert out.startswith("refused") and "does not match with the expected CN" in out, out
        # The loud switch turns verification off (for bench set-ups only).
        assert probe(p_good, ca=other.cert, server_hostname="broker.example",
                     tls_insecure_skip_verify=True) == "connected"
        # A listener that wants a client certificate gets the node's.
        assert probe(p_mutual, ca=ca.cert, server_hostname="localhost").startswith("refused")
        assert probe(p_mutual, ca=ca.cert, server_hostname="localhost",
                     cert=client[0], key=client[1]) == "connected"


def test_tls_without_a_ca_is_a_config_error():
    out = probe(free_port(), server_hostname="localhost")
    assert out.startswith("refused") and "broker.ca" in out


def test_a_node_delivers_over_tls_with_its_municipality_ca(tmp_path):
    from host_tools.virtualnode import VirtualNode
    from tests.uplinkhelp import Collector, readings

    ca = CA(str(tmp_path), "municipality-ca")
    good = ca.issue("broker", "localhost")
    port = free_port()
    with Mosquitto(extra=listener(port, ca.cert, *good)) as plain:
        col = Collector(plain.port, topic="/json/#")
        cfg = {"broker": {"port": port, "tls": True, "ca": ca.cert, "server_hostname": "localhost"}}
        with VirtualNode(port, interval=1, period_ms=100, device_id="tls-1", apikey="k", config=cfg):
            msgs = col.drain(lambda m: len([o for t, o in readings(m) if t.endswith("-aq/attrs")]) >= 2,
                             timeout=20)
        col.close()
    aq = [o for t, o in readings(msgs) if t == "/json/k/tls-1-aq/attrs"]
    assert len(aq) >= 2 and [o["seq"] for o in aq] == sorted(o["seq"] for o in aq)
