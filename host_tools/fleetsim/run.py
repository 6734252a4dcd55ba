"""One simulated fleet run: the nodes (nodes_mp.py, several unix-port processes) against a
target (targets.py), one scenario, one reconnect policy; what it measures:

connects per second   CONNECTs the broker accepted (its own log), per second from the fault on;
                      the peak: the most in any one-second window
boot peak             the same peak while the fleet boots together (its nodes start within a
                      second or so, as a region does when power comes back), before the fault
recovery_s            from when the service is there again (the broker back; at once for a
                      cluster, whose other members serve) until every node is connected and
                      has every reading logged before then acknowledged; None: not within limit
lost                  readings logged that never reached the agent and are not in a node's log
duplicates            readings the agent got more than once (the same device and seq)
broker cpu_s, rss_mb  CPU seconds the broker's processes used from the fault on; peak resident memory
steady_cpu_pct        the broker's CPU (% of one core) while every node was connected, before the fault

Scenarios: "restart" (the broker, or cluster member 0, stopped and started `down_s` later;
a member's boot runs alongside the measurement), "crash" (the same with SIGKILL),
"slow" (restart behind a proxy that answers CONNECTs at a limited rate: slowproxy.py),
"freeze" (cluster member 0 stops answering anyone for `down_s`: targets.ClusterTarget.freeze).
"""
import json
import os
import subprocess
import sys
import threading
import time

from .. import mp
from . import agent as agents
from . import generate

NODES_MP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nodes_mp.py")


class Nodes:
    """The fleet's nodes split over `procs` unix-port processes; their status lines."""

    def __init__(self, configs, policy, rate, workdir, procs=2, limit_s=600, fixed_s=2):
        rows, self.cadence = generate.readings()
        self.interval = len(configs) / float(rate)  # each node's reading interval (s)
        self.stop_file = os.path.join(workdir, "stop-producing")
        self.status = []  # per process: [(t, connected, nodes, pending, oldest, failures, connects, produced)]
        self.final = {}  # device id -> (produced, acknowledged up to, dropped)
        self.procs = []
        self._threads = []
        now = time.time()
        for k in range(procs):
            part = configs[k::procs]
            if not part:
                continue
            spec = {"nodes": part, "policy": policy, "fixed_s": fixed_s, "interval_s": self.interval,
                    "readings": rows, "produce_until": now + limit_s, "end": now + limit_s + 120,
                    "stop_file": self.stop_file}
            path = os.path.join(workdir, "nodes-%d.json" % k)
            with open(path, "w") as f:
                json.dump(spec, f)
            err = open(os.path.join(workdir, "nodes-%d.err" % k), "w")
            p = subprocess.Popen([mp.binary(), "-X", "heapsize=96M", NODES_MP, path], env=mp.env(), cwd=workdir,
                                 stdout=subprocess.PIPE, stderr=err, text=True)
            self.procs.append(p)
            self.status.append([])
            t = threading.Thread(target=self._read, args=(p, self.status[-1]), daemon=True)
            t.start()
            self._threads.append(t)

    def _read(self, proc, out):
        for line in proc.stdout:
            parts = line.split()
            if parts and parts[0] == "S" and len(parts) == 9:
                out.append((float(parts[1]),) + tuple(int(x) for x in parts[2:5]) + (float(parts[5]),)
                           + tuple(int(x) for x in parts[6:]))
            elif parts and parts[0] == "F" and len(parts) == 5:
                self.final[parts[1]] = tuple(int(x) for x in parts[2:])

    def latest(self):
        return [s[-1] if s else None for s in self.status]

    def all_connected(self):
        last = self.latest()
        return all(s is not None and s[1] == s[2] for s in last)

    def recovered_at(self, since):
        """The first time every process reported all its nodes connected and nothing logged
        before `since` still unacknowledged (the latest such time across processes)."""
        times = []
        for s in self.status:
            hit = next((x[0] for x in s if x[0] >= since and x[1] == x[2] and (x[4] == 0 or x[4] >= since)),
                       None)
            if hit is None:
                return None
            times.append(hit)
        return max(times)

    def stop_producing(self):
        open(self.stop_file, "w").close()

    def wait(self, timeout):
        deadline = time.monotonic() + timeout
        for p in self.procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.terminate()
                p.wait(10)
        for t in self._threads:
            t.join(5)

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


class BrokerSampler:
    """CPU seconds and resident memory of the broker's processes (and their children), from /proc."""

    def __init__(self, pids_fn, every=0.5):
        self.pids_fn = pids_fn
        self.every = every
        self.samples = []  # (t, cpu seconds, rss MB)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        tick = os.sysconf("SC_CLK_TCK")
        while not self._stop.wait(self.every):
            cpu = rss = 0
            todo = list(self.pids_fn())
            while todo:
                p = todo.pop()
                try:
                    with open("/proc/%d/stat" % p) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    cpu += (int(fields[11]) + int(fields[12])) / tick
                    rss += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 1e6
                    with open("/proc/%d/task/%d/children" % (p, p)) as f:
                        todo += [int(c) for c in f.read().split()]
                except (OSError, IndexError, ValueError):
                    pass
            self.samples.append((time.time(), cpu, rss))

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def since(self, t0):
        """-> (CPU seconds used after t0, peak RSS MB after t0); a restarted broker's
        counters begin again, so CPU is summed over rises only."""
        s = [x for x in self.samples if x[0] >= t0]
        cpu = sum(max(0.0, b[1] - a[1]) for a, b in zip(s, s[1:]))
        return cpu, max([x[2] for x in s] or [0.0])


def per_second(times, t0, t1):
    """Counts per whole second from t0 to t1: [(seconds since t0, count)]."""
    n = int(t1 - t0) + 1
    bins = [0] * n
    for t in times:
        if t0 <= t < t0 + n:
            bins[int(t - t0)] += 1
    return list(enumerate(bins))


def peak_per_second(times, t0, t1=float("inf")):
    """Most events in any one-second window from t0 on, before t1 (a storm is not split by
    a bin edge)."""
    ts = sorted(t for t in times if t0 <= t < t1)
    best = i = 0
    for j in range(len(ts)):
        while ts[j] - ts[i] >= 1.0:
            i += 1
        best = max(best, j - i + 1)
    return best


def run(target, fleet, policy, scenario="restart", rate=100.0, down_s=10.0, procs=2, warm_s=60,
        settle_s=5.0, recover_limit_s=None, workdir=None, log=None, agent=None, settings=None, label=None,
        before_fault=None):
    """One run against a started target; -> dict of measures (see the module's doc).
    settings: broker settings for every node on top of the fleet's (backoff_base...);
    label: the run's name in the results (default: the policy)."""
    label = label or policy
    if recover_limit_s is None:  # a backoff may wait about as long as the broker was away
        recover_limit_s = max(90.0, 1.5 * down_s + 60)
    log = log or (lambda msg: sys.stderr.write("fleetsim: %s\n" % msg))
    configs = []
    for i, node in enumerate(fleet["nodes"]):
        cfg = json.loads(json.dumps(node))
        cfg["broker"].update(target.node_broker(i), **(settings or {}))
        configs.append(cfg)
    run_dir = os.path.join(workdir, "%s-%s-%s" % (target.name, scenario, label))
    os.makedirs(run_dir, exist_ok=True)
    sampler = BrokerSampler(target.pids)
    t_start = time.time()
    nodes = Nodes(configs, policy, rate, run_dir, procs=procs,
                  limit_s=warm_s + settle_s + down_s + recover_limit_s + 60)
    try:
        deadline = time.monotonic() + warm_s
        while not nodes.all_connected():
            if time.monotonic() > deadline:
                raise RuntimeError("the fleet did not connect within %d s (%s)" % (warm_s, nodes.latest()))
            if any(p.poll() is not None for p in nodes.procs):
                raise RuntimeError("a node process ended: see %s/nodes-*.err" % run_dir)
            time.sleep(0.2)
        log("%s %s %s: %d nodes connected; %s in %.0f s" % (target.name, scenario, label, len(configs),
                                                             scenario, settle_s))
        t_settle = time.time()
        time.sleep(settle_s)
        if before_fault:
            before_fault()
        t_fault = time.time()
        restarting = None
        steady_cpu = sampler.since(t_settle)[0]
        if scenario == "freeze":
            target.freeze(0)
            time.sleep(down_s)
            target.thaw()
        else:
            target.stop_member(0, crash=scenario == "crash")
            time.sleep(down_s)
            if target.available_while_down():  # measured from the fault: the member's boot runs alongside
                restarting = threading.Thread(target=target.start_member, args=(0,))
                restarting.start()
            else:
                target.start_member(0)
        t_back = time.time()
        t_available = t_fault if target.available_while_down() else t_back
        log("%s back after %.1f s; waiting for every node to reconnect and drain" % (target.name, t_back - t_fault))
        deadline = time.time() + recover_limit_s
        recovered = None
        while time.time() < max(deadline, t_back + 5):
            recovered = nodes.recovered_at(t_available)
            if recovered is not None and time.time() > t_back + 3:
                break
            time.sleep(0.25)
        nodes.stop_producing()
        nodes.wait(90)  # the processes report within drain_s (60 s) of the stop, drained or not
        if restarting is not None:
            restarting.join()
        t_end = time.time()
        cpu, rss = sampler.since(t_fault)
    finally:
        nodes.kill()
        sampler.stop()
    if agent is not None:
        agent.quiet()
        got = agent.readings()
    else:
        m = target.queue_member()
        got = agents.drain_queue(m.amqp_port, *target.agent)
    produced = sum(f[0] for f in nodes.final.values())
    pending = sum(f[0] - f[1] for f in nodes.final.values())
    received = unique = lost = 0
    for dev, (made, acked_to, dropped) in nodes.final.items():
        seqs = got.get(dev + "-aq", [])
        received += len(seqs)
        u = set(seqs)
        unique += len(u)
        # Acknowledged by the broker (or dropped by a full log) and never at the agent;
        # what is still in a node's log is not lost.
        lost += acked_to - len([s for s in u if s <= acked_to])
    if len(nodes.final) != len(configs):
        raise RuntimeError("only %d of %d nodes reported at the end: see %s/nodes-*.err"
                           % (len(nodes.final), len(configs), run_dir))
    times = target.connects()
    series = per_second(times, t_fault, t_end)
    last = nodes.latest()
    return {"target": target.name, "scenario": scenario, "policy": label, "nodes": len(configs),
            "settings": dict(settings or {}),
            "rate": rate, "interval_s": nodes.interval, "speedup": nodes.cadence / nodes.interval,
            "down_s": down_s, "t_fault": t_fault, "t_back": t_back,
            "recovery_s": None if recovered is None else recovered - t_available,
            "peak_connects_per_s": peak_per_second(times, t_fault), "connects": series,
            "boot_peak_connects_per_s": peak_per_second(times, t_start, t_fault),
            "produced": produced, "received": received, "duplicates": received - unique, "lost": lost,
            "pending_at_end": pending, "broker_cpu_s": cpu, "broker_rss_mb": rss,
            "steady_cpu_pct": 100 * steady_cpu / (t_fault - t_settle),
            "node_failures": sum(s[5] for s in last if s), "node_connects": sum(s[6] for s in last if s)}
