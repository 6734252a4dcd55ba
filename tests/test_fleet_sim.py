"""A short fleet run (host_tools/fleetsim): tens of virtual nodes, each its own login from a
generated fleet, the firmware's own link and uplink under the unix port, through one restart
of a Mosquitto running the generated password file and ACL; the node's backoff and the fixed
2 s baseline on the same fleet. The figures themselves are `make bench`'s (host_fleet.py)."""
import pytest

from host_tools.fleetsim import cli

NODES = 24


@pytest.fixture(scope="module")
def runs():
    ours, fixed, spread = cli.simulate("mosquitto", NODES, "restart",
                                       ("ours", "fixed", ("spread", "ours", {"backoff_base": 6})),
                                       rate=12.0, down_s=3.0)
    return {"ours": ours, "fixed": fixed, "spread": spread}


@pytest.mark.parametrize("policy", ["ours", "fixed"])
def test_every_reading_arrives_through_a_broker_restart(runs, policy):
    r = runs[policy]
    assert r["nodes"] == NODES and r["produced"] >= NODES  # each node logged readings
    assert r["lost"] == 0 and r["pending_at_end"] == 0
    assert r["received"] - r["duplicates"] == r["produced"]  # every seq of every node at the agent
    # A duplicate is a message in flight when the broker went: at most a window per node.
    assert r["duplicates"] <= NODES * 8
    assert r["recovery_s"] is not None


@pytest.mark.parametrize("policy", ["ours", "fixed"])
def test_the_broker_counts_one_reconnect_per_node(runs, policy):
    r = runs[policy]
    # The broker's log (after the stop) against the nodes' own count (boot + reconnect).
    assert sum(c for _, c in r["connects"]) == NODES
    assert r["node_connects"] == 2 * NODES


def test_the_baseline_retries_every_two_seconds(runs):
    # Away ~3 s: the drop, one refused retry at 2 s, connected at 4 s; never more than a
    # second refused retry on a slow restart.
    per_node = runs["fixed"]["node_failures"] / NODES
    assert 2 <= per_node <= 3, per_node


def test_a_fleet_that_powers_on_together_connects_spread_over_backoff_base(runs):
    # The nodes boot within a second or so (a region's power back). With backoff_base 6 s
    # each first connect is drawn uniformly over 6 s: about 4 a second, never the whole
    # fleet at once; the fixed retry (umqtt.robust) connects each process's nodes at once.
    spread, fixed = runs["spread"]["boot_peak_connects_per_s"], runs["fixed"]["boot_peak_connects_per_s"]
    assert spread <= NODES // 2, spread
    assert fixed > spread, (fixed, spread)
