"""Helpers for the uplink tests: a persistent collector, message flattening."""
import json
import queue
import time

import paho.mqtt.client as mqtt


class Collector:
    """A subscriber with a persistent session (clean_session False, QoS 1) that
    reconnects by itself: it misses nothing the broker accepted, even across a
    broker restart with persistence on."""

    def __init__(self, port, topic="#", client_id="collector", username=None, password=None):
        self.messages = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=False)
        if username:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(0.1, 0.5)
        ready = queue.Queue()
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: ready.put(rcs)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.retain))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.granted = ready.get(timeout=10)

    def drain(self, until, timeout):
        """Collect messages until until(list) is true or the timeout; -> list."""
        out = []
        deadline = time.monotonic() + timeout
        while not until(out):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                out.append(self.messages.get(timeout=min(left, 0.2)))
            except queue.Empty:
                pass
        return out

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def readings(msgs, suffix="/attrs"):
    """Measures messages -> [(topic, object)], array payloads flattened, in arrival order."""
    out = []
    for topic, payload, _ in msgs:
        if not topic.endswith(suffix):
            continue
        body = json.loads(payload)
        assert not (isinstance(body, list) and len(body) < 2), "a one-element array"
        for obj in body if isinstance(body, list) else [body]:
            out.append((topic, obj))
    return out
