"""`record`: capture a node's raw sensor streams over USB into a recording.

The node's loop is interrupted and, for --seconds, the bytes arriving on
every UART its config's sensors use are printed with the node's own clock
(Unix seconds) and written here as JSON lines:
  {"format": "smartnode-rec", "version": 1, "device_id": ..., "config": {sections}, "uarts": [...]}
  {"t": <unix s>, "uart": "<name>", "hex": "<bytes>"}
which `replay` reads (host_tools/recordings/node.py). The node is soft-reset
afterwards, so it resumes its normal work.
"""
import json
import time

from . import paths, ports
from .link import Link, LinkError
from .progress import Progress

FORMAT = "smartnode-rec"
SECTIONS = ("air", "parking", "traffic")

CAPTURE = r"""
def _record(seconds):
    import json, time, binascii
    from app.board import Board
    b = Board(json.load(open('/board.json')))
    cfg = json.load(open('/config.json'))
    names = []
    for sec in %r:
        for spec in cfg.get(sec, {}).get('sensors', {}).values():
            if 'uart' in spec and spec['uart'] not in names:
                names.append(spec['uart'])
    print('U', ' '.join(names))
    uarts = [(n, b.uart(n)) for n in names]
    buf = bytearray(256)
    end = time.ticks_add(time.ticks_ms(), int(seconds * 1000))
    while time.ticks_diff(end, time.ticks_ms()) > 0:
        for n, u in uarts:
            k = u.readinto(buf)
            if k:
                print('R', repr(b.now()), n, binascii.hexlify(buf[:k]).decode())
        time.sleep_ms(20)
""" % (SECTIONS,)


def record(port, seconds, out):
    """Capture into the file object out; -> number of UART chunks recorded."""
    with Link(port) as link:
        cfg = json.loads(link.read_file("/config.json") or b"{}")
        link.exec(CAPTURE)
        lines = []
        pending = bytearray()
        start = time.monotonic()
        bar = Progress(int(seconds) or 1, "record")

        def consume(b):
            pending.extend(b)
            while b"\n" in pending:
                i = pending.index(b"\n")
                lines.append(bytes(pending[:i]).decode().strip())
                del pending[:i + 1]
                bar.advance(min(int(time.monotonic() - start), bar.total) - bar.done, "%d s" % bar.done)
        link.t.exec_raw_no_follow("_record(%r)" % float(seconds))
        with bar:
            _, err = link.t.follow(timeout=max(10, seconds + 10), data_consumer=consume)
        if err:
            raise LinkError("the node could not record:\n%s" % err.decode().strip())
        link.soft_reset()
    head = {"format": FORMAT, "version": 1, "device_id": cfg.get("device_id"),
            "config": {s: cfg[s] for s in SECTIONS if s in cfg}, "uarts": []}
    n = 0
    events = []
    for line in lines:
        parts = line.split()
        if parts and parts[0] == "U":
            head["uarts"] = parts[1:]
        elif parts and parts[0] == "R" and len(parts) == 4:
            events.append({"t": float(parts[1]), "uart": parts[2], "hex": parts[3]})
            n += 1
    out.write(json.dumps(head) + "\n")
    for ev in events:
        out.write(json.dumps(ev, separators=(",", ":")) + "\n")
    return n


def add_arguments(p):
    ports.add(p)
    p.add_argument("--seconds", type=float, default=60, help="how long to record")
    p.add_argument("--out", required=True, help="recording file to write (JSON lines)")


def main(args):
    args.port = ports.resolve(args.port, "record")
    try:
        f = open(args.out, "w")  # before the node is stopped: a bad path costs nothing
    except OSError as e:
        raise SystemExit("record: cannot write %s" % paths.unwritable(args.out, e))
    try:
        with f:
            n = record(args.port, args.seconds, f)
    except LinkError as e:
        raise SystemExit("record: %s" % e)
    print("record: %d chunks in %s; replay it with `smartnode replay %s --samples`" % (n, args.out, args.out))
