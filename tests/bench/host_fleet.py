"""A region of virtual nodes through a broker restart (host_tools/fleetsim: the firmware's own
link and uplink, many to a unix-port process, each node its own login from a generated fleet,
recorded SDS011 readings sped up to RATE readings/s for the whole fleet), the broker stopped
and started again 10 s later (a cluster member: killed, SIGKILL); the same fleet with the
firmware's reconnect policy and its default settings, with a fixed 2 s retry (.baseline,
umqtt.robust's) and with the firmware's policy at backoff_base 20 s (.base20), same run:

fleet.<b>.nodes                  the fleet
fleet.<b>.peak_connects_per_s    most CONNECTs the broker accepted in one second after the stop
                                 (its own log); .ratio = ours / baseline
fleet.<b>.recovery_s             from the broker back (a cluster: from the stop, the other members
                                 serve) until every node is connected with every reading logged
                                 before then acknowledged
fleet.<b>.lost_readings          logged, acknowledged by the broker, never at the agent
fleet.<b>.duplicates             readings the agent got twice (same device and seq)
fleet.<b>.broker_cpu_s, .broker_rss_mb   the broker's processes from the stop on (/proc)
fleet.<b>.boot_peak_connects_per_s   most CONNECTs in one second while the fleet boots together
                                 (a region's power back), before the stop; .ratio = ours / baseline

<b> = mosquitto: one Mosquitto with `fleet mosquitto`'s password file and ACL (the agent's
persistent session counts); rabbitmq: a three-member cluster with `fleet rabbitmq --cluster
mirrored` definitions, member 0 killed and restarted, node i starting on member i % 3 (the agent's
durable queue counts). The 5-minute restart, the slow broker and the frozen member are
`smartnode fleet simulate` scenarios (README, "Fleet scale").
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from host_tools.fleetsim import cli  # noqa: E402

NODES = 300
RATE = 100.0  # readings/s of the whole fleet: each node every 3 s (the recording's 148 s, ~50x)
DOWN_S = 10.0


def report(name, runs):
    print("fleet.%s.nodes %d nodes" % (name, runs[0]["nodes"]))
    for key, unit, fmt in (("peak_connects_per_s", "connects/s", "%d"), ("recovery_s", "s", "%.1f"),
                           ("lost_readings", "readings", "%d"), ("duplicates", "readings", "%d"),
                           ("broker_cpu_s", "s", "%.1f"), ("broker_rss_mb", "MB", "%.0f"),
                           ("boot_peak_connects_per_s", "connects/s", "%d")):
        field = "lost" if key == "lost_readings" else key
        for suffix, r in zip(SUFFIXES, runs):
            value = r[field]
            if value is None:  # not recovered within the run's limit (run.py)
                sys.stderr.write("fleet: %s %s: not recovered within the limit\n" % (name, r["policy"]))
                value = -1
            print(("fleet.%s.%s%s " + fmt + " %s") % (name, key, suffix, value, unit))
        if key in ("peak_connects_per_s", "boot_peak_connects_per_s") and runs[1][field]:
            print("fleet.%s.%s.ratio %.2f x" % (name, key, runs[0][field] / runs[1][field]))


# The firmware's defaults (backoff_base 1 s, cap 300 s), the fixed 2 s baseline, and the
# firmware with backoff_base 20 s (README, "Fleet scale": what a tenth of the baseline's peak costs).
VARIANTS = ("ours", "fixed", ("base20", "ours", {"backoff_base": 20}))
SUFFIXES = ("", ".baseline", ".base20")
for broker in ("mosquitto", "rabbitmq"):
    runs = cli.simulate(broker, NODES, "restart", VARIANTS, rate=RATE, down_s=DOWN_S)
    cli.table(runs, sys.stderr)
    report(broker, runs)
