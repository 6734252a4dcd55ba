# Virtual-time shell: runs the node's core on a recorded event stream as fast
# as it can and prints what it would publish, one JSON line per message.
#
# Input (JSON lines): first {"config": {...}, "board": {...}}, then events
#   {"t": <unix s>, "ms": <0..999>, "uart": "<name>", "hex": "<bytes>"}  bytes on a UART
#   {"t": <unix s>, "ms": <0..999>, ...}  any other event, offered to the pipelines (Node.event)
#   (whole seconds plus milliseconds, "ms" 0 when left out: never a float, which on
#   the ESP32 holds a Unix time only to 128 s)
#   an event with "node": "<id>" goes to a node of that device id (created on
#   first use with the same config), so one recording can hold several nodes
# Output (JSON lines): {"t": "<iso>", "topic": "...", "payload": <json>}
#   and, when sampling is on, {"t": "<iso>", "sample": {...}}.
import json
import sys
from binascii import unhexlify

from app.board_unix import Board
from app.isotime import iso
from app.memlog import MemLog
from app.node import Node
from app.uplink import Uplink

out = sys.stdout


class Clock:
    t = 0


class PrintTransport:
    def __init__(self, clock):
        self.clock = clock

    def publish(self, topic, payload):
        out.write('{"t":"%s","topic":"%s","payload":' % (iso(self.clock.t), topic))
        out.write(payload)
        out.write("}\n")

    def close(self):
        pass


def run(lines, samples=False):
    clock = Clock()
    head = json.loads(next(lines))
    cfg = head["config"]
    board = Board(head["board"], feed=True)
    log = MemLog(capacity=1 << 30)

    def on_sample(t, s):
        out.write('{"t":"%s","sample":%s}\n' % (iso(t), json.dumps(s)))

    hook = on_sample if samples else None
    node = Node(cfg, board, log, hook)
    nodes = {}
    uplink = Uplink(cfg, log, PrintTransport(clock))
    n = 0
    t_first = None
    for line in lines:
        ev = json.loads(line)
        t = ev["t"]  # whole Unix seconds; "ms" the milliseconds within it
        if t_first is None:
            t_first = t
        # The node's millisecond tick, wrapping as time.ticks_ms() does.
        ms = ((t - t_first) * 1000 + ev.get("ms", 0)) & 0x3FFFFFFF
        clock.t = t
        target = node
        if "node" in ev:
            target = nodes.get(ev["node"])
            if target is None:
                sub = dict(cfg)
                sub["device_id"] = str(ev["node"])
                target = nodes[ev["node"]] = Node(sub, board, log, hook)
        if "uart" in ev:
            board.uart(ev["uart"]).feed(unhexlify(ev["hex"]))
        else:
            target.event(t, ev, ms)
        target.poll(t, ms)
        uplink.pump()
        n += 1
    for nd in [node] + [nodes[k] for k in sorted(nodes)]:
        nd.close(clock.t)
    uplink.pump()
    return n


def main(argv):
    samples = "--samples" in argv
    path = [a for a in argv if not a.startswith("--")][0]
    with open(path) as f:
        run(iter(f), samples)


if __name__ == "__main__":
    main(sys.argv[1:])
