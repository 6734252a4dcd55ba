"""A generated fleet of N nodes, through the same inventory, types and secrets files
`provision` and `fleet` read (host_tools/inventory.py): each node its own device id,
broker login (= client id) and password; the agent's login too."""
import csv
import json
import os

from .. import fleet as fleettool
from .. import paths

RECORDING = paths.DATA / "luftdaten_aberdeen_sds011_15092_600rows.csv"
APIKEYS = "device=ksim;air=kair"


def write_files(n, workdir, node_broker=None):
    """Inventory CSV, types and secrets JSON for n nodes sim-0001.. in workdir; -> paths.
    node_broker: extra broker settings every node gets (backoff_base, keepalive...)."""
    inv = os.path.join(workdir, "inventory.csv")
    with open(inv, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["device_id", "type", "municipality", "board", "lat", "lon", "broker", "apikey"])
        for i in range(n):
            w.writerow(["sim-%04d" % (i + 1), "sim-air", "simregion", "unix-sim", "46.%04d" % i, "14.5000",
                        "127.0.0.1:1883", APIKEYS])
    types = os.path.join(workdir, "types.json")
    with open(types, "w") as f:
        json.dump({"sim-air": {"interval": 150, "air": {"sensors": {"sds011": {}}},
                               "broker": dict(node_broker or {})}}, f)
    sec = os.path.join(workdir, "secrets.json")
    with open(sec, "w") as f:
        os.chmod(sec, 0o600)
        json.dump({"agent": {"user": "iota"}}, f)
    return inv, types, sec


def fleet(n, workdir, node_broker=None):
    """-> (fleet, credentials): every node's config carries its generated password."""
    inv, types, sec = write_files(n, workdir, node_broker)
    described = fleettool.load(inv, sec, types)
    creds = fleettool.credentials(described)
    described["agent"]["password"] = creds[described["agent"].get("user", "iota")]  # the same in every file
    for node in described["nodes"]:
        node["broker"]["password"] = creds[fleettool.user(node)]
    with open(os.path.join(workdir, "credentials.json"), "w") as f:
        os.chmod(f.name, 0o600)
        json.dump(creds, f)
    return described, creds


def readings():
    """[(pm10, pm25)] of the recording, in order, and its median interval (s)."""
    from datetime import datetime
    rows, stamps = [], []
    with open(RECORDING, newline="") as f:
        for r in csv.DictReader(f, delimiter=";"):
            rows.append((float(r["P1"]), float(r["P2"])))
            stamps.append(datetime.fromisoformat(r["timestamp"]).timestamp())
    gaps = sorted(b - a for a, b in zip(stamps, stamps[1:]))
    return rows, gaps[len(gaps) // 2]
