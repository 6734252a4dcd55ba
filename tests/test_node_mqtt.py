"""The firmware under the unix port in real time, publishing to a real Mosquitto."""
import json

from host_tools.virtualnode import VirtualNode


def test_virtual_node_publishes_sds011_measures_to_mosquitto(broker, subscriber):
    with VirtualNode(broker.port, interval=1, period_ms=50, device_id="vn-1", apikey="k1"):
        msgs = subscriber.collect(3, timeout=20, match=lambda t: t.endswith("-aq/attrs"))  # not the Device (health)
    assert len(msgs) == 3
    for topic, payload, qos, retain in msgs:
        assert topic == "/json/k1/vn-1-aq/attrs"
        assert qos == 1 and not retain
        body = json.loads(payload)
        objs = body if isinstance(body, list) else [body]
        for o in objs:
            assert o["TimeInstant"].endswith("Z")
            # The capture holds PM2.5 3.1-3.4 and PM10 3.4-4.4 ug/m3 (SOURCES.md).
            assert 3.1 <= o["pm25"] <= 3.4 and 3.4 <= o["pm10"] <= 4.4
