"""The durable platform path against the default one, measured in the same run (unix port,
loopback, one node draining a backlog of 20,000 readings of 8 devices at QoS 1):

rabbitmq.drain_per_s           one RabbitMQ 3.10 (MQTT plugin), readings persisted in the durable queue
rabbitmq.drain_per_s.baseline  the same drain into Mosquitto (nothing stored: no subscriber)
rabbitmq.drain_per_s.ratio
rabbitmq_cluster.drain_per_s   a three-member cluster, the queue a quorum queue (Raft, on disk x3)
rabbitmq.boot_s, rabbitmq_cluster.boot_s   until the broker / the formed cluster takes work
rabbitmq.rss_mb (.baseline: Mosquitto)  resident memory of the broker after the drain
"""
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from host_tools import mp, paths  # noqa: E402
from host_tools.broker import Mosquitto  # noqa: E402
from host_tools.rabbitmq import Cluster, RabbitMQ, definitions  # noqa: E402

COUNT = 20000
DEVICES = 8
SCRIPT = str(paths.ROOT / "tests" / "bench" / "mqtt_drain.py")
FLEET = {"agent": {"user": "iota"}, "nodes": [{"device_id": "bench-1", "apikey": "bench", "broker": {"user": "bench-1"}}]}
CREDS = {"iota": "bench-agent", "bench-1": "bench-pw"}


def drain(port, login):
    args = ["-X", "heapsize=64M", SCRIPT, str(port), "drain", str(COUNT)]
    if login:
        args += ["bench-1", CREDS["bench-1"], "", str(DEVICES)]
    else:
        args += ["", "", "/json", str(DEVICES)]
    out = mp.run(args, cwd=str(paths.ROOT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 check=True).stdout
    acked, seconds, _ = out.split()
    assert int(acked) == COUNT, out
    return COUNT / float(seconds)


def rss_mb(pid):
    """Resident memory of a process and its children (RabbitMQ: a shell and the Erlang VM)."""
    total = 0
    pids = [pid]
    while pids:
        p = pids.pop()
        try:
            with open("/proc/%d/status" % p) as f:
                total += next(int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:"))
            with open("/proc/%d/task/%d/children" % (p, p)) as f:
                pids += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            pass
    return total / 1024


def queued(broker):
    out = broker.ctl("list_queues", "name", "messages", "--no-table-headers").stdout
    return {ln.split()[0]: int(ln.split()[1]) for ln in out.splitlines() if len(ln.split()) == 2}


def main():
    # Every device of the bench may write: one login with the whole bench's topics.
    defs = definitions(FLEET, CREDS)
    defs["topic_permissions"][1]["write"] = r"^\.bench\.bench-[0-9]+-aq\.attrs$"
    with Mosquitto() as m:
        base = drain(m.port, False)
        base_rss = rss_mb(m.proc.pid)
    t0 = time.monotonic()
    with RabbitMQ(definitions=defs) as r:
        boot = time.monotonic() - t0
        rate = drain(r.mqtt_port, True)
        messages = queued(r)["iotaqueue"]
        rss = rss_mb(r.proc.pid)
    quorum = definitions(FLEET, CREDS, cluster="quorum")
    quorum["topic_permissions"] = defs["topic_permissions"]
    t0 = time.monotonic()
    with Cluster(definitions=quorum) as c:
        cboot = time.monotonic() - t0
        crate = drain(c.nodes[0].mqtt_port, True)
    print("rabbitmq.drain_per_s %d readings/s" % rate)
    print("rabbitmq.drain_per_s.baseline %d readings/s" % base)
    print("rabbitmq.drain_per_s.ratio %.2f x" % (rate / base))
    print("rabbitmq.messages_per_drain %d messages" % messages)
    print("rabbitmq_cluster.drain_per_s %d readings/s" % crate)
    print("rabbitmq.rss_mb %.0f MB" % rss)
    print("rabbitmq.rss_mb.baseline %.1f MB" % base_rss)
    print("rabbitmq.boot_s %.1f s" % boot)
    print("rabbitmq_cluster.boot_s %.1f s" % cboot)


main()
