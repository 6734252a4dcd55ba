"""`smartnode fleet simulate`: a generated fleet of virtual nodes (the node's own link and
uplink, many to a unix-port process) against a private broker on 127.0.0.1, through a fault,
once with the node's reconnect policy and once with a fixed 2 s retry (umqtt.robust's).

    smartnode fleet simulate --nodes 300 --rate 100                  # Mosquitto, restart after 10 s
    smartnode fleet simulate --broker rabbitmq --nodes 300            # a three-member cluster, member 0
    smartnode fleet simulate --scenario slow --nodes 300              # CONNACKs at 20/s behind a proxy
    smartnode fleet simulate --broker rabbitmq --scenario freeze      # member 0 stops answering for --down s
    smartnode fleet simulate --nodes 100,300,1000 --json out.json --plot docs/fleet-connects.png
"""
import json
import os
import shutil
import sys
import tempfile

from . import agent as agents
from . import generate, run, targets

SCENARIOS = ("restart", "crash", "slow", "freeze")


def add_arguments(p):
    p.add_argument("--broker", choices=("mosquitto", "rabbitmq", "rabbitmq-single"), default="mosquitto",
                   help="one Mosquitto, a three-member RabbitMQ cluster, or one RabbitMQ node (default: mosquitto)")
    p.add_argument("--nodes", default="300", help="fleet size, or sizes separated by commas (default 300)")
    p.add_argument("--rate", type=float, default=100.0,
                   help="readings per second of the whole fleet (default 100: the recording's 2.5 min "
                        "cadence sped up to nodes/100 s per node)")
    p.add_argument("--every", type=float, metavar="S",
                   help="each node's reading interval in seconds instead of --rate (the same cadence at every size)")
    p.add_argument("--scenario", choices=SCENARIOS, default="restart",
                   help="restart: the broker (cluster member 0) stopped and started --down s later; "
                        "crash: the same, killed (SIGKILL); "
                        "slow: the same behind a proxy answering CONNECT at --connack-rate per s; "
                        "freeze: cluster member 0 answers nobody for --down s")
    p.add_argument("--down", type=float, default=10.0, help="seconds the broker is away (default 10)")
    p.add_argument("--connack-rate", type=float, default=20.0, help="slow: CONNACKs per second (default 20)")
    p.add_argument("--policy", choices=("ours", "fixed", "both"), default="both",
                   help="ours: the firmware's backoff; fixed: a retry every 2 s (default: both, same fleet)")
    p.add_argument("--backoff-base", type=float, help="broker.backoff_base of every node (firmware default 1)")
    p.add_argument("--backoff-cap", type=float, help="broker.backoff_cap of every node (firmware default 300)")
    p.add_argument("--keepalive", type=int, help="broker.keepalive of every node (firmware default 60)")
    p.add_argument("--procs", type=int, default=2, help="unix-port processes the nodes share (default 2)")
    p.add_argument("--json", metavar="FILE", help="write every run's measures there")
    p.add_argument("--plot", metavar="FILE.png", help="connects per second over time, ours against fixed")


def node_settings(args):
    out = {}
    for key, value in (("backoff_base", args.backoff_base), ("backoff_cap", args.backoff_cap),
                       ("keepalive", args.keepalive)):
        if value is not None:
            out[key] = value
    return out


def simulate(broker, n, scenario="restart", policies=("ours", "fixed"), rate=100.0, down_s=10.0,
             node_broker=None, procs=2, connack_rate=20.0, log=None):
    """Generate a fleet of n, start the target, run each policy in turn; -> [measures].
    A policy is "ours", "fixed", or (label, "ours" or "fixed", {broker settings})."""
    if scenario == "freeze" and broker != "rabbitmq":  # the cluster
        raise SystemExit("fleet simulate: --scenario freeze needs --broker rabbitmq (a cluster member)")
    if scenario == "slow" and broker != "mosquitto":
        raise SystemExit("fleet simulate: --scenario slow runs against mosquitto")
    work = tempfile.mkdtemp(prefix="fleetsim-")
    try:
        fleet, creds = generate.fleet(n, work, node_broker)
        if broker == "mosquitto":
            target = targets.MosquittoTarget(fleet, creds, work)
        else:
            target = targets.ClusterTarget(fleet, creds, work, size=3 if broker == "rabbitmq" else 1)
        results = []
        with _started(target):
            for policy in policies:
                results.append(_one(target, fleet, policy, scenario, rate, down_s, procs, connack_rate, work, log))
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


class _started:
    def __init__(self, target):
        self.target = target

    def __enter__(self):
        return self.target.start()

    def __exit__(self, *exc):
        self.target.stop()


def _one(target, fleet, policy, scenario, rate, down_s, procs, connack_rate, work, log):
    label, policy, settings = policy if isinstance(policy, tuple) else (policy, policy, None)
    kw = dict(rate=rate, down_s=down_s, procs=procs, workdir=work, log=log, settings=settings, label=label)
    if target.name == "mosquitto":
        agent = agents.MqttAgent(target.broker.port, *target.agent)
        try:
            if scenario == "slow":
                from .slowproxy import SlowConnack
                with SlowConnack(target.upstream(), None) as proxy:  # slow from the fault on
                    target.front_port = proxy.port
                    try:
                        return run.run(target, fleet, policy, "restart", agent=agent,
                                       before_fault=lambda: setattr(proxy, "per_s", connack_rate),
                                       **kw) | {"scenario": "slow"}
                    finally:
                        target.front_port = None
            return run.run(target, fleet, policy, scenario, agent=agent, **kw)
        finally:
            agent.close()
    return run.run(target, fleet, policy, scenario, **kw)


def table(results, out=sys.stdout):
    out.write("%-15s %-8s %-6s %6s %9s %11s %6s %5s %8s %7s %7s %7s %9s\n" % (
        "broker", "scenario", "policy", "nodes", "peak c/s", "recovery s", "lost", "dups", "produced",
        "cpu s", "rss MB", "steady%", "boot c/s"))
    for r in results:
        rec = "-" if r["recovery_s"] is None else "%.1f" % r["recovery_s"]
        out.write("%-15s %-8s %-6s %6d %9d %11s %6d %5d %8d %7.1f %7.0f %7.1f %9d\n" % (
            r["target"], r["scenario"], r["policy"], r["nodes"], r["peak_connects_per_s"], rec, r["lost"],
            r["duplicates"], r["produced"], r["broker_cpu_s"], r["broker_rss_mb"], r["steady_cpu_pct"],
            r["boot_peak_connects_per_s"]))


def main(args):
    try:
        sizes = [int(x) for x in args.nodes.split(",")]
    except ValueError:
        raise SystemExit("fleet simulate: --nodes takes whole numbers separated by commas, e.g. 100,300")
    policies = ("ours", "fixed") if args.policy == "both" else (args.policy,)
    results = []
    for n in sizes:
        rate = n / args.every if args.every else args.rate
        results += simulate(args.broker, n, args.scenario, policies, rate, args.down, node_settings(args),
                            args.procs, args.connack_rate)
        table(results[-len(policies):])
    if len(sizes) > 1:
        table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.plot:
        from . import plot
        plot.connects(results, args.plot)
        print(os.path.abspath(args.plot))
