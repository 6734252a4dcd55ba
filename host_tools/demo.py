"""`demo`: a virtual node replays a real SDS011 recording in real time and
publishes to a private local Mosquitto; every message the broker receives is
shown. Midway the broker goes away for a while: the node keeps sampling into
its flash log and delivers the backlog, oldest first, when the broker is back.
With --seconds 0 it runs until Ctrl-C, the outage 20 s in. It ends with a
summary: messages and readings received, and whether any reading is missing.
"""
import datetime as dt
import json
import subprocess
import sys
import threading
import time

from .broker import Mosquitto
from .virtualnode import VirtualNode

UNTIL_CTRL_C_OUTAGE_AT = 20  # seconds in, when the demo runs until Ctrl-C
PROGRESS_EVERY = 10  # seconds between progress lines


def schedule(seconds, outage):
    """(down, up): seconds after the start when the broker stops and starts again; (None, None)."""
    if not outage:
        return None, None
    down = seconds / 3 if seconds else UNTIL_CTRL_C_OUTAGE_AT
    return down, down + outage


def add_arguments(p):
    p.add_argument("--seconds", type=float, default=60, help="stop after this long (0: until Ctrl-C)")
    p.add_argument("--interval", type=int, default=5, help="the node's reporting interval in seconds")
    p.add_argument("--outage", type=float, default=15,
                   help="seconds the broker is down, starting a third of the way in (0: no outage)")


class Tally:
    """What the broker delivered: messages, each reading's seq, readings that waited out the outage."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = 0
        self.seqs = set()
        self.repeats = 0
        self.up_again = None  # UTC time the broker came back
        self.waited = 0  # readings made before that but delivered after it

    def add(self, topic, payload):
        try:
            body = json.loads(payload)
        except ValueError:
            return
        with self.lock:
            self.messages += 1
            for obj in body if isinstance(body, list) else [body]:
                if not isinstance(obj, dict) or "seq" not in obj:
                    continue
                self.repeats += obj["seq"] in self.seqs
                self.seqs.add(obj["seq"])
                made = obj.get("TimeInstant")
                if self.up_again and made and dt.datetime.fromisoformat(made.replace("Z", "+00:00")) < self.up_again:
                    self.waited += 1

    def summary(self, outage):
        with self.lock:
            seqs = self.seqs
            missing = sorted(set(range(1, max(seqs) + 1)) - seqs) if seqs else []
            text = "%d messages, %d readings (seq 1..%d), %s" % (
                self.messages, len(seqs), max(seqs) if seqs else 0,
                "none missing" if not missing else "MISSING seq %s" % missing[:10])
            if outage:
                text += "; broker outage of %d s survived: %d readings waited in the flash log" % (
                    outage, self.waited)
            return text


_out = threading.Lock()


def line(text):
    """One whole line on stdout: the broker's thread, the node's and ours never mix inside one."""
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
    """The virtual node's console lines, as `node: ...`."""
    for raw in iter(stream.readline, b""):
        text = raw.decode("utf-8", "replace").rstrip()
        if text:
            line("node: " + text)


def main(args):
    import paho.mqtt.client as mqtt

    # The viewer's session must outlive the outage (as the IoT Agent's does not:
    # see the FIWARE contract), so the broker keeps sessions across its restart.
    with Mosquitto(persistence=True) as broker:
        say("Mosquitto listening on 127.0.0.1:%d" % broker.port)
        sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="demo-viewer", clean_session=False)
        sub.on_connect = lambda c, u, f, rc, p: c.subscribe("#", qos=1)
        tally = Tally()

        def on_message(c, u, m):
            show(m.topic, m.payload)
            tally.add(m.topic, m.payload)
        sub.on_message = on_message
        sub.reconnect_delay_set(1, 2)
        sub.connect("127.0.0.1", broker.port)
        sub.loop_start()
        # A short backoff cap so the node is back soon after the broker.
        node = VirtualNode(broker.port, interval=args.interval, config={"broker": {"backoff_cap": 3}})
        node.start(stdout=subprocess.PIPE)
        threading.Thread(target=relay, args=(node.proc.stdout,), daemon=True).start()
        try:
            say("virtual node demo-1 replays a real SDS011 capture; a reading every %d s" % args.interval)
            t0 = time.monotonic()
            down_at, up_at = schedule(args.seconds, args.outage)
            outage = None
            next_note = PROGRESS_EVERY
            try:
                while not args.seconds or time.monotonic() - t0 < args.seconds:
                    if time.monotonic() - t0 >= next_note:  # progress, between the messages
                        say("%d s%s: %s" % (next_note, " of %d" % args.seconds if args.seconds else "",
                                            tally.summary(None)))
                        next_note += PROGRESS_EVERY
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
                        tally.up_again = dt.datetime.now(dt.timezone.utc)
                        outage = args.outage
                        say("broker UP again: the backlog arrives oldest first (see \"seq\")")
                    time.sleep(0.2)
            except KeyboardInterrupt:
                pass
            time.sleep(1)  # what is in flight still arrives
        finally:
            node.stop()
        sub.loop_stop()
        sub.disconnect()
        say("summary: " + tally.summary(outage))
