"""`demo`: a virtual node replays a real SDS011 recording in real time and
publishes to a private local Mosquitto; every message the broker receives is
shown. Midway the broker goes away for a while: the node keeps sampling into
its flash log and delivers the backlog, oldest first, when the broker is back.
"""
import json
import subprocess
import sys
import threading
import time

from .broker import Mosquitto
from .virtualnode import VirtualNode


def add_arguments(p):
    p.add_argument("--seconds", type=float, default=60, help="stop after this long (0: until Ctrl-C)")
    p.add_argument("--interval", type=int, default=5, help="the node's reporting interval in seconds")
    p.add_argument("--outage", type=float, default=15,
                   help="seconds the broker is down, starting a third of the way in (0: no outage)")


_out = threading.Lock()


def line(text):
    """One whole line on stdout: the viewer's thread, the node's relay and the demo
    itself all write here, and a line never lands inside another."""
    with _out:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def show(topic, payload):
    try:
        body = json.dumps(json.loads(payload))
    except ValueError:
        body = payload.decode("utf-8", "replace")
    line("%s  %s" % (topic, body))


def say(text):
    line("demo: " + text)


def relay(stream):
    """The node's own messages, line by line."""
    for raw in stream:
        line(raw.decode("utf-8", "replace").rstrip("\n"))


def main(args):
    import paho.mqtt.client as mqtt

    # The viewer's session must outlive the outage (as the IoT Agent's does not:
    # see the FIWARE contract), so the broker keeps sessions across its restart.
    with Mosquitto(persistence=True) as broker:
        say("Mosquitto listening on 127.0.0.1:%d" % broker.port)
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-viewer", clean_session=False)
        sub.on_connect = lambda c, u, f, rc, p: c.subscribe("#", qos=1)
        sub.on_message = lambda c, u, m: show(m.topic, m.payload)
        sub.reconnect_delay_set(1, 2)
        sub.connect("127.0.0.1", broker.port)
        sub.loop_start()
        # A short backoff cap so the node is back soon after the broker.
        node = VirtualNode(broker.port, interval=args.interval, config={"broker": {"backoff_cap": 3}})
        node.start(stdout=subprocess.PIPE)
        try:
            threading.Thread(target=relay, args=(node.proc.stdout,), daemon=True).start()
            say("virtual node demo-1 replays a real SDS011 capture; a reading every %d s" % args.interval)
            t0 = time.monotonic()
            down_at = args.seconds / 3 if args.outage and args.seconds else None
            up_at = down_at + args.outage if down_at is not None else None
            try:
                while not args.seconds or time.monotonic() - t0 < args.seconds:
                    if node.proc.poll() is not None:
                        raise SystemExit("demo: the virtual node stopped (exit %s)" % node.proc.returncode)
                    now = time.monotonic() - t0
                    if down_at is not None and now >= down_at:
                        down_at = None
                        broker.stop()
                        say("broker DOWN for %d s: the node keeps every reading in its flash log"
                            % args.outage)
                    if up_at is not None and down_at is None and now >= up_at:
                        up_at = None
                        broker.start()
                        say("broker UP again: the backlog arrives oldest first (see \"seq\")")
                    time.sleep(0.2)
            except KeyboardInterrupt:
                pass
        finally:
            node.__exit__(None, None, None)  # stopped, its directory removed
        sub.loop_stop()
        sub.disconnect()
