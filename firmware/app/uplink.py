# Delivery from the log to the broker: oldest first, consecutive readings of
# one device (same apikey/device id) batched into one measures message, acknowledged in the log only
# after the transport confirms (QoS 1 PUBACK).
from app import fiware, record


class Uplink:
    def __init__(self, cfg, log, transport, max_batch=20, max_bytes=4096):
        self.log = log
        self.transport = transport
        self.max_batch = max_batch
        self.max_bytes = max_bytes
        self._recs = []
        self.sent = 0

    def pump(self):
        """Publish what the log holds; returns the number of readings delivered."""
        recs = self._recs
        delivered = 0
        while True:
            del recs[:]
            self.log.read(0, recs, self.max_batch, self.max_bytes)
            if not recs:
                return delivered
            key, _ = record.split(recs[0][1])
            objs = []
            last = 0
            for seq, rec in recs:
                d, obj = record.split(rec)
                if d != key:
                    break
                objs.append(obj)
                last = seq
            self.transport.publish(fiware.attrs_topic(key.decode()), fiware.batch(objs))
            self.log.ack(last)
            delivered += len(objs)
            self.sent += len(objs)


class MQTTTransport:
    """umqtt.simple underneath; connects lazily, drops the connection on any error."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.client = None

    def publish(self, topic, payload):
        if self.client is None:
            from umqtt.simple import MQTTClient
            b = self.cfg["broker"]
            c = MQTTClient(self.cfg["device_id"], b["host"], b.get("port", 1883),
                           user=b.get("user"), password=b.get("password"), keepalive=60)
            c.connect()
            self.client = c
        try:
            self.client.publish(topic, payload, qos=1)
        except Exception:
            self.close()
            raise

    def close(self):
        if self.client is not None:
            try:
                self.client.sock.close()
            except Exception:
                pass
            self.client = None
