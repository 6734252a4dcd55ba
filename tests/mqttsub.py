"""A CPython MQTT subscriber that collects messages for tests."""
import queue
import time

import paho.mqtt.client as mqtt


class Subscriber:
    def __init__(self, port, topic="#", client_id="test-subscriber", **auth):
        self.messages = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if auth:
            self.client.username_pw_set(auth.get("username"), auth.get("password"))
        ready = queue.Queue()
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: ready.put(True)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.qos, m.retain))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        ready.get(timeout=10)

    def collect(self, count, timeout, match=lambda topic: True):
        """Messages (topic, payload, qos, retain) until `count` matched or the timeout."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                m = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if match(m[0]):
                out.append(m)
        return out

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()
