"""The virtual node's flash log (emulated NOR in a file) across a restart, with a real Mosquitto."""
import calendar
import json
import time

from host_tools.broker import free_port
from host_tools.virtualnode import VirtualNode


def instants(msgs):
    out = []
    for _, payload, _, _ in msgs:
        body = json.loads(payload)
        for o in body if isinstance(body, list) else [body]:
            out.append(calendar.timegm(time.strptime(o["TimeInstant"], "%Y-%m-%dT%H:%M:%SZ")))
    return out


def test_readings_made_while_the_broker_was_down_are_delivered_after_a_restart(broker, subscriber, tmp_path):
    opts = dict(interval=1, period_ms=50, device_id="vn-log", apikey="k1", workdir=str(tmp_path))
    with VirtualNode(free_port(), **opts):  # nobody listens there: the broker is down
        time.sleep(4)
    # The process was killed, as a power cut would; the log image stayed in workdir.
    assert (tmp_path / "smartlog.img").stat().st_size == 128 * 4096
    restart = int(time.time())
    with VirtualNode(broker.port, **opts):
        seen = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len([t for t in seen if t < restart]) < 2:
            seen += instants(subscriber.collect(1, timeout=2, match=lambda t: t.endswith("-aq/attrs")))
    early = [t for t in seen if t < restart]
    assert len(early) >= 2, (restart, seen)
    assert seen == sorted(seen)  # oldest first
