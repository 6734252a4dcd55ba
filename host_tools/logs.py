"""`logs`: follow a node: its console over USB and, with --broker, what it publishes.

The console is only read, never written: the node keeps running (unlike inspect,
which stops it for a moment). Every line gets this computer's clock:
  10:31:02.123 node  reading lj-0007-aq #12 pm10=5 pm25=3.2
  10:31:02.150 mqtt  lj-0007-aq: 1 reading pm10=5 pm25=3.2
Ctrl-C ends it. A port that goes away (the board unplugged or reset over USB)
is waited for.
"""
import json
import os
import queue
import threading
import time

import serial

from . import ports

STATS = ("Min", "Max", "Count")


def stamp(t=None):
    t = time.time() if t is None else t
    return time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % (int(t * 1000) % 1000)


def describe(topic, payload):
    """A broker message as one short line: which device, how many readings, their values."""
    parts = topic.split("/")
    device = parts[3] if len(parts) > 3 else topic
    if topic.endswith("/deviceState"):
        return "%s: %s" % (device, payload.decode("utf-8", "replace"))
    if topic.endswith("/cmdexe") or topic.endswith("/cmd"):
        return "%s: %s %s" % (device, parts[-1], payload.decode("utf-8", "replace"))
    try:
        data = json.loads(payload)
    except ValueError:
        return "%s: %r (not JSON)" % (device, payload[:60])
    readings = data if isinstance(data, list) else [data]
    last = readings[-1] if readings and isinstance(readings[-1], dict) else {}
    values = sorted("%s=%s" % (k, v) for k, v in last.items()
                    if k == "status" or (isinstance(v, (int, float)) and not isinstance(v, bool)
                                         and not k.endswith(STATS) and k != "seq"))
    if "seq" in last:
        values.insert(0, "#%s" % last["seq"])
    flags = last.get("dataQuality")
    text = "%s: %d reading%s %s" % (device, len(readings), "" if len(readings) == 1 else "s",
                                    " ".join(values[:6]))
    return text + (" [%s]" % ",".join(flags) if isinstance(flags, list) and flags else "")


def console_lines(port, out, stop, s=None):
    """Put (time, 'node', line) for each line the node prints on out, until stop is set.
    s: the port already open (run hands over the one it deployed through)."""
    if s is not None:
        s.timeout = 0.2
    pending = b""
    waiting = False
    while not stop.is_set():
        if s is None:
            try:
                s = serial.Serial(port, 115200, timeout=0.2, exclusive=True)
                if waiting:
                    out.put((time.time(), "port", "%s is back" % port))
                waiting = False
            except (serial.SerialException, OSError) as e:
                if not waiting:
                    out.put((time.time(), "port", "%s: %s; waiting for it" % (port, e)))
                waiting = True
                time.sleep(1)
                continue
        try:
            data = s.read(1024)
        except (serial.SerialException, OSError):
            s.close()
            s, waiting = None, True
            out.put((time.time(), "port", "%s went away (unplugged or reset?); waiting for it" % port))
            continue
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("utf-8", "replace")
            if line.strip():
                out.put((time.time(), "node", line))
    if s is not None:
        s.close()


def broker_client(address, device, out, user=None, password=None, ca=None):
    """A paho client that puts (time, 'mqtt', line) for the node's messages; started."""
    import paho.mqtt.client as mqtt
    host, _, port = address.rpartition(":")
    if not host:
        host, port = address, "8883" if ca else "1883"
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="smartnode-logs-%d" % os.getpid())
    if user:
        c.username_pw_set(user, password)
    if ca:
        c.tls_set(ca_certs=ca)

    def on_connect(cl, u, flags, rc, props):
        if rc.is_failure:
            out.put((time.time(), "mqtt", "the broker refused us: %s (check --user/--password)" % rc))
            return
        for t in ("/json/+/+/attrs", "/json/+/+/attrs/deviceState", "/+/+/cmd", "/json/+/+/cmdexe"):
            cl.subscribe(t, qos=1)
        out.put((time.time(), "mqtt", "following %s" % address))

    def on_message(cl, u, m):
        parts = m.topic.split("/")
        dev = parts[3] if m.topic.startswith("/json/") else (parts[2] if len(parts) > 2 else "")
        if device and not (dev == device or dev.startswith(device + "-")):
            return
        out.put((time.time(), "mqtt", describe(m.topic, m.payload)))

    c.on_connect = on_connect
    c.on_message = on_message
    try:
        c.connect(host, int(port), keepalive=30)
    except (OSError, ValueError) as e:
        raise SystemExit("logs: broker unreachable at %s (%s): check the address (host:port) and "
                         "this computer's network" % (address, e))
    c.loop_start()
    return c


def follow(port=None, broker=None, device=None, seconds=0, write=None, user=None, password=None, ca=None,
           serial_port=None):
    """Print the node's console lines (port) and messages (broker) as they come, stamped.
    serial_port: port already open on the node (it is left to its owner to close)."""
    write = write or (lambda text: print(text, flush=True))
    lines = queue.Queue()
    stop = threading.Event()
    reader = None
    if port:
        reader = threading.Thread(target=console_lines, args=(port, lines, stop, serial_port), daemon=True)
        reader.start()
    client = broker_client(broker, device, lines, user, password, ca) if broker else None
    end = time.monotonic() + seconds if seconds else None
    try:
        while end is None or time.monotonic() < end:
            try:
                t, source, text = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            write("%s %-4s  %s" % (stamp(t), source, text))
    finally:
        stop.set()
        if client is not None:
            client.loop_stop()
            client.disconnect()
        if reader is not None:
            reader.join(2)


def add_arguments(p, console_only=True):
    ports.add(p)
    p.add_argument("--broker", metavar="HOST:PORT", help="also show what the node publishes, from this broker")
    p.add_argument("--device", help="only this node's messages from the broker (default: every node)")
    p.add_argument("--user", help="broker login (e.g. the agent's: it may read every measure)")
    p.add_argument("--password", default=os.environ.get("SMARTNODE_BROKER_PASSWORD"),
                   help="broker password (default: $SMARTNODE_BROKER_PASSWORD)")
    p.add_argument("--ca", help="CA certificate (PEM) of a TLS broker")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (default: until Ctrl-C)")
    if console_only:
        p.add_argument("--no-console", action="store_true", help="only the broker's messages (no USB port)")


def main(args):
    port = None if args.no_console else ports.resolve(args.port, "logs")
    if port is None and not args.broker:
        raise SystemExit("logs: nothing to follow: give a port (-p) or a broker (--broker HOST:PORT)")
    try:
        follow(port, args.broker, args.device, args.seconds, user=args.user, password=args.password,
               ca=args.ca)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how one stops following
