"""The network task never holds sensing up (real Mosquitto with TLS, the real unix port,
a link that delays every packet 300 ms each way), and the node's NTP exchange against a
real UDP responder: garbage, silence and a missing server."""
import time

from host_tools import mp
from host_tools.broker import Mosquitto, free_port
from tests.netdelay import DelayProxy, NtpResponder, ntp_answer, stall_node
from tests.pki import CA
from tests.test_uplink_tls import listener

DELAY_S = 0.3


def slow_link_node(tmp_path, trust_other_ca=False, seconds=40):
    """A node under the unix port against a TLS Mosquitto and an NTP responder, both behind
    DELAY_S each way. -> (longest tick gap ms, ticks, acked, time-sync state, connects,
    proxy connections, NTP requests)."""
    ca = CA(str(tmp_path), "municipality-ca")
    trusted = CA(str(tmp_path), "other-ca").cert if trust_other_ca else ca.cert
    port = free_port()
    with Mosquitto(extra=listener(port, ca.cert, *ca.issue("broker", "localhost"))):
        with DelayProxy(port, DELAY_S) as proxy, NtpResponder(DELAY_S) as ntp:
            work = tmp_path / "node"
            work.mkdir()
            got = stall_node(str(work), proxy.port, trusted, ntp.port, seconds=seconds)
    return got + (proxy.connections, ntp.requests)


def test_sensing_ticks_keep_flowing_while_the_node_syncs_connects_and_publishes(tmp_path):
    gap, ticks, acked, state, connects, tcp, ntp = slow_link_node(tmp_path)
    assert state == "ntp" and acked >= 3 and connects == 1
    assert ntp >= 1 and tcp == 1
    # The connect takes several round trips (TCP, TLS, CONNECT, NTP alongside): the blocking
    # path held the 50 Hz tick for seconds.  No tick may wait for even one round trip.
    assert gap < 2 * DELAY_S * 1000, gap


def test_a_node_with_a_wrong_ca_keeps_sensing_and_never_connects(tmp_path):
    gap, ticks, acked, state, connects, tcp, ntp = slow_link_node(tmp_path, True, seconds=6)
    assert connects == 0 and acked == 0 and tcp >= 1
    assert state == "ntp"
    assert ticks > 100 and gap < 2 * DELAY_S * 1000, (ticks, gap)


EXCHANGE = r"""
import socket, sys, time
from app.ntp import Exchange
q = Exchange(socket.getaddrinfo("127.0.0.1", int(sys.argv[1]))[0][-1], int(sys.argv[2]))
while True:
    try:
        got = q.poll()
    except OSError as e:
        print("error", repr(e))
        break
    if got:
        print("time", got[0], got[1])
        break
    time.sleep_ms(5)
q.close()
"""


def exchange(port, timeout_ms=3000):
    out = mp.run(["-c", EXCHANGE, str(port), str(timeout_ms)], capture_output=True, text=True,
                 timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_ntp_answer_after_garbage_gives_the_host_time():
    junk = [b"hello", b"\xff" * 48, ntp_answer(b"\0" * 48, time.time() - 9999, time.time() - 9999)]
    with NtpResponder(DELAY_S, garbage_first=junk) as ntp:
        out = exchange(ntp.port)
    assert out[0] == "time", out
    t = int(out[1]) + int(out[2]) / 1000
    assert 0 <= int(out[2]) < 1000
    assert abs(t - time.time()) < 1.0


def test_ntp_silence_is_a_timeout_and_no_server_an_error():
    with NtpResponder(DELAY_S, ignore_first=100) as ntp:
        t0 = time.monotonic()
        out = exchange(ntp.port, timeout_ms=800)
        took = time.monotonic() - t0
    assert out[0] == "error" and "no NTP answer" in " ".join(out), out
    assert took >= 0.8
    out = exchange(free_port(), timeout_ms=800)  # nothing listens: refused (or silence)
    assert out[0] == "error", out
