"""`fleet update`: roll a signed release (`smartnode release sign`) across a fleet in waves.

    smartnode fleet update fleet.csv --types types.json --secrets secrets.json \\
        --package build/release/esp32-devkitc-0.2.0+3f9a12c4b7d0.snup \\
        --url https://updates.lj.si/esp32-devkitc-0.2.0+3f9a12c4b7d0.snup \\
        --broker mqtt.lj.si:1883 --user iota --canary 2 --wave 10 --max-failures 1

Without --url the package goes to each node over MQTT in `chunk` commands
(push(): flow-controlled by the node's `have` answers), one node at a time.

Each node gets the `update` command (firmware/app/ota.py) on its command topic
and is done when its answer on cmdexe is final: `OK <version> confirmed` (it
runs the release and has published), or `ERROR ...` (refused, or rolled back to
its previous version: the reason is kept). A node already on the release answers
that it is not newer: it counts as done. The canary wave goes first; a wave
starts only while the failures stay within --max-failures, so a bad release
stops early. Every answer is written to the state file at once: after an
interruption (Ctrl-C, a lost connection, a closed laptop) the same command
goes on where it stopped; nodes done are not asked again.
"""
import json
import os
import queue
import sys
import time

from . import fleet as fleetmod
from . import release
from app import fiware  # noqa: E402  (provision puts the firmware on the path)


CHUNK = 600  # package bytes per `chunk` command: 800 in base64, within the node's 1 KiB command
WINDOW = 8192  # bytes sent ahead of the node's last `have` (it answers every 4 KiB)


class UpdateError(RuntimeError):
    pass


def load_state(path, version, url, devices):
    """The state file of this release, or a fresh one; UpdateError if it is another release's."""
    try:
        with open(path) as f:
            st = json.load(f)
    except FileNotFoundError:
        st = None
    except (OSError, ValueError) as e:
        raise UpdateError("cannot read the state file %s (%s): move it away to start afresh" % (path, e))
    if st is not None and st.get("version") != version:
        raise UpdateError("%s is the state of the rollout of %s, not %s: give another --state, or "
                          "delete it if that rollout is over" % (path, st.get("version"), version))
    st = st or {"version": version, "url": url, "nodes": {}}
    st["url"] = url
    for dev in devices:
        n = st["nodes"].setdefault(dev, {"state": "pending"})
        if n["state"] in ("failed", "sent"):  # run again after a fix, or cut off mid-wave
            n["state"] = "pending"
    st.pop("stopped", None)
    return st


def save_state(path, st):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def waves(devices, canary, size):
    """[[canary...], [next size...], ...] in inventory order."""
    out = [devices[:canary]] if canary else []
    rest = devices[canary:]
    out += [rest[i:i + size] for i in range(0, len(rest), size)]
    return [w for w in out if w]


def verdict(answer, version):
    """A node's answer -> ("ok" | "failed", its version if known) when final, else None."""
    if answer.startswith("OK ") and "confirmed" in answer:
        return "ok", answer.split()[1]
    if answer.startswith("ERROR "):
        if "is not newer than the running %s" % version in answer and answer.split()[1] == version:
            return "ok", version  # already on it (a resumed rollout)
        if answer.startswith("ERROR rolled back to "):
            return "failed", answer.split()[4].rstrip(":")
        return "failed", None
    return None


class Rollout:
    """One MQTT connection; send(dev) and answers come back as (dev, text)."""

    def __init__(self, nodes, host, port, user=None, password=None, tls_ca=None):
        import paho.mqtt.client as mqtt
        self.nodes = nodes  # device_id -> config
        self.answers = queue.Queue()
        self.topics = {}
        for dev, cfg in nodes.items():
            self.topics[fiware.cmdexe_topic(fiware.apikey(cfg, "device"), dev, fiware.prefix(cfg))] = dev
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="smartnode-fleet-update",
                        clean_session=False)  # answers that come while we reconnect are kept
        if user:
            c.username_pw_set(user, password)
        if tls_ca:
            import ssl
            c.tls_set_context(ssl.create_default_context(cafile=tls_ca))
        ready = queue.Queue()
        c.on_connect = lambda cl, u, f, rc, p: cl.subscribe([(t, 1) for t in self.topics])
        c.on_subscribe = lambda cl, u, mid, rcs, p: ready.put(rcs)
        c.on_message = self._on_message
        try:
            c.connect(host, port, keepalive=30)
        except OSError as e:
            raise UpdateError("broker unreachable at %s:%s (%s): check --broker and this computer's network"
                              % (host, port, e))
        c.loop_start()
        try:
            ready.get(timeout=15)
        except queue.Empty:
            c.loop_stop()
            raise UpdateError("the broker at %s:%s did not accept the subscriptions (--user/--password?)"
                              % (host, port))
        self.client = c

    def _on_message(self, cl, u, m):
        dev = self.topics.get(m.topic)
        try:
            body = json.loads(m.payload)
            answer = body.get("update") or body.get("chunk")  # a chunk the node could not take
        except (ValueError, AttributeError):
            return
        if dev and isinstance(answer, str):
            (self.pushed if dev == self.pushing else self.answers).put((dev, answer))

    pushing = None  # the node push() is sending chunks to: its answers go to push()

    def send(self, dev, url, package=None):
        """Ask dev to update from url, or send it the package in chunks (url None).
        -> None, or the node's ERROR when it refused the chunks."""
        if url is None:
            return self.push(dev, package)
        cfg = self.nodes[dev]
        self.client.publish(fiware.cmd_topic(fiware.apikey(cfg, "device"), dev),
                            json.dumps({"update": {"url": url}}), qos=1)
        return None

    def push(self, dev, data, chunk=CHUNK, window=WINDOW, timeout=60):
        """The package over MQTT: `update` {"size"}, then `chunk` commands, at most window
        bytes ahead of the node's last `have` (firmware/app/ota.py take())."""
        import base64
        cfg = self.nodes[dev]
        topic = fiware.cmd_topic(fiware.apikey(cfg, "device"), dev)
        self.pushed = queue.Queue()
        self.pushing = dev
        try:
            self.client.publish(topic, json.dumps({"update": {"size": len(data)}}), qos=1)
            acked = sent = None
            while True:
                try:
                    _, answer = self.pushed.get(timeout=timeout)
                except queue.Empty:
                    return "ERROR no answer to the chunks within %d s" % timeout
                if answer.startswith("ready"):
                    acked = sent = 0
                elif answer.startswith("have "):
                    acked = int(answer[5:])
                elif answer.startswith("want "):
                    acked = sent = int(answer[5:])
                elif answer.startswith("ERROR"):
                    return answer
                else:  # "<version> verified; rebooting into it": the final answer comes later
                    self.answers.put((dev, answer))
                    return None
                while sent < len(data) and sent - acked < window:
                    piece = base64.b64encode(data[sent:sent + chunk]).decode()
                    self.client.publish(topic, json.dumps({"chunk": {"at": sent, "b64": piece}}), qos=1)
                    sent += min(chunk, len(data) - sent)
        finally:
            self.pushing = None

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def run(rollout, st, state_path, canary, wave, max_failures, timeout, log=print, package=None):
    """Roll out wave by wave; -> the state. Stops when failures pass max_failures."""
    version, url = st["version"], st["url"]
    devices = list(st["nodes"])
    for i, group in enumerate(waves(devices, canary, wave)):
        failures = sum(1 for n in st["nodes"].values() if n["state"] == "failed")
        if failures > max_failures:
            st["stopped"] = "%d failures, more than --max-failures %d" % (failures, max_failures)
            break
        todo = [d for d in group if st["nodes"][d]["state"] not in ("ok", "failed")]
        if not todo:
            continue
        log("fleet update: wave %d (%s): %s" % (i + 1, "canary" if canary and i == 0 else "%d nodes" % len(todo),
                                                ", ".join(todo)))
        waiting = set(todo)
        for dev in todo:
            st["nodes"][dev]["state"] = "sent"
            save_state(state_path, st)
            refused = rollout.send(dev, url, package)
            if refused:
                st["nodes"][dev].update(state="failed", answer=refused)
                waiting.discard(dev)
                log("fleet update: %s: %s" % (dev, refused))
        save_state(state_path, st)
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            try:
                dev, answer = rollout.answers.get(timeout=0.5)
            except queue.Empty:
                continue
            v = verdict(answer, version)
            if dev not in waiting or v is None:
                continue
            node = st["nodes"][dev]
            node.update(state=v[0], answer=answer)
            if v[1]:
                node["version"] = v[1]
            waiting.discard(dev)
            save_state(state_path, st)
            log("fleet update: %s: %s" % (dev, answer))
        for dev in waiting:
            st["nodes"][dev].update(state="failed", answer="no final answer within %d s" % timeout)
        save_state(state_path, st)
    else:
        st.pop("stopped", None)
    failures = sum(1 for n in st["nodes"].values() if n["state"] == "failed")
    if failures > max_failures:
        st["stopped"] = "%d failures, more than --max-failures %d" % (failures, max_failures)
    save_state(state_path, st)
    return st


def report(st, out=sys.stdout):
    out.write("%-20s %-8s %-28s %s\n" % ("device", "state", "version", "last answer"))
    for dev, n in st["nodes"].items():
        out.write("%-20s %-8s %-28s %s\n" % (dev, n["state"], n.get("version", "?"), n.get("answer", "")))


def add_arguments(w):
    w.add_argument("inventory", help="the fleet inventory CSV (as for provision)")
    w.add_argument("--secrets", help="secrets JSON (as for provision, plus the agent's login)")
    w.add_argument("--types", help="node types JSON (as for provision)")
    w.add_argument("--package", required=True, help="the signed package (smartnode release sign)")
    w.add_argument("--url", help="where the nodes download it (http:// or https://); without it the "
                                 "package goes to each node in chunks over MQTT, one node at a time")
    w.add_argument("--broker", required=True, metavar="HOST:PORT", help="the fleet's broker")
    w.add_argument("--user", help="broker login allowed to write commands (the agent's)")
    w.add_argument("--password", help="its password (or SMARTNODE_BROKER_PASSWORD)")
    w.add_argument("--ca", help="the broker's CA (PEM) for TLS")
    w.add_argument("--canary", type=int, default=1, help="nodes in the first wave (default 1)")
    w.add_argument("--wave", type=int, default=10, help="nodes per later wave (default 10)")
    w.add_argument("--max-failures", type=int, default=0,
                   help="stop before the next wave once more nodes than this failed (default 0)")
    w.add_argument("--timeout", type=float, default=900,
                   help="seconds a wave waits for its nodes' final answers (default 900: download, "
                        "reboot and the trial)")
    w.add_argument("--state", help="state file (default fleet-update-VERSION.json): resume from it")
    w.set_defaults(func=main)


def main(args):
    try:
        m, _, _ = release.read_header(args.package)
    except (OSError, ValueError, release.ReleaseError) as e:
        raise SystemExit("fleet update: %s: not a readable package (%s)" % (args.package, e))
    if args.url is not None and not args.url.startswith(("http://", "https://")):
        raise SystemExit("fleet update: --url must be http:// or https://")
    nodes = {n["device_id"]: n for n in fleetmod._load(args)["nodes"]}
    host, _, port = args.broker.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit("fleet update: --broker HOST:PORT, e.g. mqtt.lj.si:1883")
    state_path = args.state or "fleet-update-%s.json" % m["version"]
    try:
        st = load_state(state_path, m["version"], args.url, list(nodes))
        rollout = Rollout(nodes, host, int(port), args.user,
                          args.password or os.environ.get("SMARTNODE_BROKER_PASSWORD"), args.ca)
    except UpdateError as e:
        raise SystemExit("fleet update: %s" % e)
    try:
        st = run(rollout, st, state_path, args.canary, args.wave, args.max_failures, args.timeout,
                 package=None if args.url else open(args.package, "rb").read())
    finally:
        rollout.close()
    report(st)
    if st.get("stopped"):
        raise SystemExit("fleet update: stopped: %s. Nodes not updated keep their version; see why above, "
                         "fix it, then run the same command again (it resumes from %s)"
                         % (st["stopped"], state_path))
