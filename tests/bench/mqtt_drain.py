# Run under the MicroPython unix port by host_mqtt.py: argv = port, mode, count
# [, user, password, topic prefix, devices] (host_rabbitmq.py: a broker with logins,
# the topic form of the AMQP path, readings of `devices` devices interleaved).
# mode "drain": the node's uplink drains a backlog of `count` readings from the log;
# mode "naive": umqtt.simple publishes `count` readings one per QoS 1 publish.
# Prints "<acknowledged readings> <seconds> <bytes on the wire>".
import sys
import time

from app import record
from app.isotime import iso
from app.memlog import MemLog

port = int(sys.argv[1])
mode = sys.argv[2]
count = int(sys.argv[3])
user, password, prefix = (sys.argv[4:7] + [None, None, "/json"])[:3] if len(sys.argv) > 4 else (None, None, "/json")
devices = int(sys.argv[7]) if len(sys.argv) > 7 else 1
T0 = 1795298400  # 2026-11-21T22:00:00Z


def reading(i):
    ts = iso(T0 + 300 * i)
    return ('{"TimeInstant":"%s","dateObserved":"%s","pm25":%.2f,"pm10":%.2f}'
            % (ts, ts, 3.1 + (i % 7) / 10, 3.9 + (i % 5) / 10)).encode()


log = MemLog(capacity=count)
for i in range(count):
    log.append(record.pack("bench/bench-%d-aq" % (1 + i % devices), reading(i)))

if mode == "drain":
    from app.mqtt import Session
    from app.uplink import Uplink

    up = Uplink({"broker": {"topic_prefix": prefix}}, log)
    s = Session(user or "bench-1", "127.0.0.1", port, user=user, password=password, keepalive=60)
    t0 = time.ticks_us()
    s.connect()
    up.attach(s)
    while log.pending:
        up.step()
        s.poll(2)
    dt = time.ticks_diff(time.ticks_us(), t0) / 1e6
    s.disconnect()
    print(up.acked, dt, up.wire_bytes)
else:
    from umqtt.simple import MQTTClient

    c = MQTTClient("bench-naive", "127.0.0.1", port, keepalive=60)
    recs = []
    log.read(0, recs, count, 1 << 30)
    t0 = time.ticks_us()
    c.connect()
    wire = 0
    for seq, rec in recs:
        key, obj = record.split(rec)
        topic = "/json/%s/attrs" % key.decode()
        c.publish(topic, obj, qos=1)
        log.ack(seq)
        wire += 2 + 2 + len(topic) + 2 + len(obj) + 4
    dt = time.ticks_diff(time.ticks_us(), t0) / 1e6
    c.disconnect()
    print(len(recs), dt, wire)
