"""`demo`: a virtual node replays a real SDS011 recording in real time and
publishes to a private local Mosquitto; every message the broker receives is shown."""
import json
import time

from .broker import Mosquitto
from .virtualnode import VirtualNode


def add_arguments(p):
    p.add_argument("--seconds", type=float, default=60, help="stop after this long (0: until Ctrl-C)")
    p.add_argument("--interval", type=int, default=10, help="the node's reporting interval in seconds")


def show(topic, payload):
    try:
        body = json.dumps(json.loads(payload))
    except ValueError:
        body = payload.decode("utf-8", "replace")
    print("%s  %s" % (topic, body), flush=True)


def main(args):
    import paho.mqtt.client as mqtt

    with Mosquitto() as broker:
        print("demo: Mosquitto listening on 127.0.0.1:%d" % broker.port, flush=True)
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-viewer")
        sub.on_connect = lambda c, u, f, rc, p: c.subscribe("#", qos=1)
        sub.on_message = lambda c, u, m: show(m.topic, m.payload)
        sub.connect("127.0.0.1", broker.port)
        sub.loop_start()
        with VirtualNode(broker.port, interval=args.interval) as node:
            print("demo: virtual node %s replaying a real SDS011 capture; a message every %d s"
                  % ("demo-1", args.interval), flush=True)
            deadline = time.monotonic() + args.seconds if args.seconds else None
            try:
                while deadline is None or time.monotonic() < deadline:
                    if node.proc.poll() is not None:
                        raise SystemExit("demo: the virtual node stopped (exit %s)" % node.proc.returncode)
                    time.sleep(0.2)
            except KeyboardInterrupt:
                pass
        sub.loop_stop()
        sub.disconnect()
