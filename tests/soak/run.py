"""Fault replay: the node's firmware (tests/soak/node.py under a unix-port build) on
days of recorded sensing, once without faults (offline: the reference readings)
and once with the plan's faults against a real Mosquitto (stopped and started for
the outages: a broker has nothing that depends on time, so virtual days of outage
are real seconds of it).

Checked: every reading the node reported durable is at the broker exactly as
logged (a repeat only with the same seq and content), nothing else is, the log
ends empty with nothing dropped; and every reading not near a fault
(plan.windows) is the same as in the fault-free run (made offline: readings do
not depend on the network; health's, which do, are not compared).

    python -m tests.soak.run [--days 7] [--seed 1] [--build std|esp32]
"""
import argparse
import datetime as dt
import json
import queue
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from host_tools import mp, recordings
from host_tools.broker import Mosquitto, free_port

from . import plan

NODE = Path(__file__).resolve().parent / "node.py"
APIKEY = "soak"
DEVICE = "soak-1"


class Broker:
    """Mosquitto, stopped and started on the node's word. The subscriber's session is
    persistent and so is the broker (its database written at the stop): a message the
    broker accepted but had not yet passed on is passed on after the restart."""

    def __init__(self, port, workdir):
        self.port = port
        self.workdir = workdir
        self.mosq = None
        self.sub = None
        self.messages = queue.Queue()

    def up(self):
        import paho.mqtt.client as mqtt
        self.mosq = Mosquitto(self.port, workdir=self.workdir, persistence=True).start()
        ready = queue.Queue()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-sub", clean_session=False)
        c.on_connect = lambda c, u, f, rc, p: c.subscribe("#", qos=1)
        c.on_subscribe = lambda c, u, mid, rcs, p: ready.put(True)
        c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload, m.qos, m.retain))
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        ready.get(timeout=30)
        self.sub = c

    def down(self, quiet=0.3):
        self._drain(quiet)
        self.sub.loop_stop()
        self.sub.disconnect()
        self.mosq.stop()
        self.sub = self.mosq = None

    def _drain(self, quiet):
        """Until nothing has come for `quiet` s."""
        n = -1
        while n != self.messages.qsize():
            n = self.messages.qsize()
            time.sleep(quiet)

    def received(self):
        out = []
        while not self.messages.empty():
            out.append(self.messages.get())
        return out


def run_node(build, head, events, port):
    """-> the node's output lines; the broker follows its @broker requests."""
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        stream = Path(tmp) / "stream.jsonl"
        with open(stream, "w") as f:
            recordings.write_stream(f, {}, {}, events)
        lines = stream.read_text().splitlines(True)
        lines[0] = json.dumps(head) + "\n"
        stream.write_text("".join(lines))
        broker = Broker(port, tmp)
        broker.up()
        proc = subprocess.Popen([mp.binary(build), "-X", "heapsize=8M", str(NODE), str(stream)],
                                env=mp.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        out = []
        try:
            for line in proc.stdout:
                line = line.rstrip("\n")
                if line.startswith("@broker "):
                    broker.up() if line.endswith("up") else broker.down()
                    proc.stdin.write("ok\n")
                    proc.stdin.flush()
                else:
                    out.append(line)
            proc.wait()
            if broker.sub is not None:
                broker.down(quiet=1.0)
        finally:
            if proc.poll() is None:
                proc.kill()
            if broker.mosq is not None:
                broker.mosq.stop()
        if proc.returncode != 0:
            raise AssertionError("the node failed under the %s build:\n%s" % (build, "\n".join(out[-30:])))
        return out, broker.received()


def readings(lines):
    """D lines -> {seq: (key, obj)}."""
    durable = {}
    for ln in lines:
        if ln.startswith("D "):
            _, seq, key, text = ln.split(" ", 3)
            assert int(seq) not in durable, "seq %s made durable twice" % seq
            durable[int(seq)] = (key, json.loads(text))
    return durable


def check_delivery(lines, messages):
    """Every durable reading at the broker exactly as logged, and nothing else. -> stats."""
    durable = readings(lines)
    result = json.loads([ln for ln in lines if ln.startswith("R ")][-1][2:])
    seen = {}
    repeats = 0
    for topic, payload, qos, retain in messages:
        if not topic.endswith("/attrs"):
            continue
        key = "/".join(topic.split("/")[2:4])
        body = json.loads(payload)
        for obj in body if isinstance(body, list) else [body]:
            seq = obj.pop("seq")
            assert seq in durable, "seq %d at the broker was never durable: %s" % (seq, obj)
            assert (key, obj) == durable[seq], (seq, key, obj, durable[seq])
            if seq in seen:
                repeats += 1
            seen[seq] = True
    missing = sorted(set(durable) - set(seen))
    assert not missing, "%d durable readings never reached the broker: seq %s" % (len(missing), missing[:10])
    assert result["pending"] == 0 and result["dropped"] == 0, result
    return dict(result, durable=len(durable), repeats=repeats)


def _when(obj):
    stamp = obj["TimeInstant"]
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def compare(reference, faulty, spans):
    """Readings away from every fault are the same in both runs. -> (compared, near a fault)."""
    def by_time(durable):
        return {(k, o["TimeInstant"]): o for k, o in durable.values() if not k.endswith("/" + DEVICE)}
    a, b = by_time(reference), by_time(faulty)
    compared = near = 0
    for key in sorted(set(a) | set(b)):
        t = _when((a.get(key) or b.get(key)))
        if any(lo <= t <= hi for lo, hi in spans):
            near += 1
            continue
        assert key in a and key in b, "%s only in the %s run" % (key, "fault-free" if key in a else "faulty")
        assert a[key] == b[key], (key, a[key], b[key])
        compared += 1
    return compared, near


def soak(days, seed, build, kinds=None, log=sys.stderr):
    kinds = kinds or (plan.FULL if days >= 5 else plan.SHORT)
    sections, start, events = plan.events(days)
    port = free_port()
    config = dict(sections, device_id=DEVICE, apikey=APIKEY,
                  broker={"host": "127.0.0.1", "port": port, "backoff_cap": 300})
    board = {"name": "unix-sim", "uarts": {}, "baselines": "/soakfs/baselines.json"}
    schedule = plan.faults(seed, start, days, kinds)
    t0 = time.monotonic()
    # The reference keeps everything in a log large enough for the whole run.
    ref_lines, _ = run_node(build, {"config": config, "board": board, "faults": [], "offline": True,
                                    "log_sectors": 512}, events, port)
    ref = readings(ref_lines)
    t1 = time.monotonic()
    lines, msgs = run_node(build, {"config": config, "board": board, "faults": schedule}, events, port)
    res = check_delivery(lines, msgs)
    t2 = time.monotonic()
    compared, near = compare(ref, readings(lines), plan.windows(schedule, lines))
    for ln in lines:
        if ln.startswith("# ") and "boot" not in ln:
            print(ln, file=log)
    return dict(res, days=days, seed=seed, build=build, events=len(events), reference=len(ref),
                compared=compared, near_faults=near, seconds=round(t2 - t0, 1),
                reference_seconds=round(t1 - t0, 1))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m tests.soak.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--days", type=float, default=7)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--build", choices=sorted(mp.BUILDS), action="append")
    a = p.parse_args(argv)
    ok = True
    for build in a.build or ("std", "esp32"):
        try:
            r = soak(a.days, a.seed, build)
        except AssertionError as e:
            print("soak FAILED (%s build, seed %d): %s" % (build, a.seed, e))
            ok = False
            continue
        print("soak ok (%s build, seed %d, %g days, %d events): %d durable readings all at the broker "
              "(%d repeats, same seq), 0 dropped; %d boots, %d power cuts (%d in a log write, %d in a "
              "log erase, %d in a config write, %d a mains failure with the state made durable in "
              "<= %d us first), %d broker outages, %d Wi-Fi losses, %d sensors "
              "unplugged; %d readings equal to the fault-free run's, %d near a fault; %.0f s"
              % (build, a.seed, a.days, r["events"], r["durable"], r["repeats"], r["boots"], r["cuts"],
                 r["cut_ops"], r["cut_erases"], r["cut_configs"], r["mains_fails"], r["durable_us_max"],
                 r["outages"], r["wifi_losses"],
                 r["unplugs"], r["compared"], r["near_faults"], r["seconds"]))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
