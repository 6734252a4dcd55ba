"""The platform's side of the simulated fleet: what reached the IoT Agent, by device and
sequence number ("seq", the node's log sequence number: a redelivery repeats it).

- MqttAgent: the agent's MQTT login on Mosquitto, a persistent session (clean session
  off, QoS 1): what the broker acknowledged while the agent was away waits for it;
- drain_queue: the agent's durable AMQP queue on a RabbitMQ member, read at the end.
"""
import json
import threading
import time


def add_readings(seen, device, payload):
    """Record the seqs of one measures message (an object or an array of them)."""
    try:
        body = json.loads(payload)
    except ValueError:
        return
    for o in body if isinstance(body, list) else [body]:
        if isinstance(o, dict) and "seq" in o:
            seen.setdefault(device, []).append(o["seq"])


class MqttAgent:
    def __init__(self, port, user, password, topic="/json/+/+/attrs"):
        import paho.mqtt.client as mqtt
        self.seen = {}
        self.last = time.monotonic()
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        c = self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user, clean_session=False)
        c.username_pw_set(user, password)
        c.reconnect_delay_set(1, 1)
        c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(topic, qos=1)
        c.on_subscribe = lambda *a: self._subscribed.set()
        c.on_message = self._message
        c.connect("127.0.0.1", port)
        c.loop_start()
        if not self._subscribed.wait(15):
            raise RuntimeError("the agent's subscription on port %d was not acknowledged" % port)

    def _message(self, client, userdata, m):
        with self._lock:
            add_readings(self.seen, m.topic.split("/")[-2], m.payload)
            self.last = time.monotonic()

    def quiet(self, seconds=2.0, limit=60):
        """Wait until nothing has arrived for `seconds`."""
        deadline = time.monotonic() + limit
        while time.monotonic() - self.last < seconds and time.monotonic() < deadline:
            time.sleep(0.2)

    def readings(self):
        with self._lock:
            return {d: list(s) for d, s in self.seen.items()}

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def drain_queue(amqp_port, user, password, queue="iotaqueue", idle_s=2.0, limit=120):
    """-> {device: [seq, ...]}: every message in the agent's durable queue (consumed)."""
    import pika
    seen = {}
    conn = pika.BlockingConnection(pika.ConnectionParameters(
        "127.0.0.1", amqp_port, credentials=pika.PlainCredentials(user, password)))
    try:
        ch = conn.channel()
        ch.basic_qos(prefetch_count=2000)
        deadline = time.monotonic() + limit
        for method, props, body in ch.consume(queue, auto_ack=True, inactivity_timeout=idle_s):
            if method is None or time.monotonic() > deadline:
                break
            parts = method.routing_key.split(".")  # .<apikey>.<entity>.attrs
            if len(parts) >= 4:
                add_readings(seen, parts[2], body)
        ch.cancel()
    finally:
        conn.close()
    return seen
