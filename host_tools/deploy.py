"""`deploy`: put a built bundle on a node, safely, and see it publish.

Only what changed is copied: the node hashes its running version (/cur) and
files whose sha256 matches are copied on the node instead of over USB. The
new version is staged in /next and verified by hash on the node; only then is
/swap written, the commit point that boot.py acts on (firmware/boot.py): a
deploy cut off before it leaves /next to be thrown away and the previous
version running. The version replaced stays in /prev (`--rollback`) until the
next deploy, which drops it before staging: the filesystem holds two bundles
(host_tools/partitions.py), the running one and the one coming or going. After a
soft reset, deploy waits until the node's first message reaches the broker.
"""
import json
import os
import signal
import threading
import time
from pathlib import Path

from . import paths, ports, provision
from .link import Link, LinkError
from .progress import Progress


class DeployError(RuntimeError):
    pass


def load_bundle(bundle):
    bundle = Path(bundle)
    try:
        manifest = json.loads((bundle / "manifest.json").read_text())
    except OSError:
        raise DeployError("no bundle in %s: run `smartnode build --board BOARD` first" % bundle)
    return bundle, manifest


def stage(link, bundle, manifest, on_file=None):
    """Upload the new version to /next; -> (files uploaded, files copied on the node)."""
    code = {rel[5:]: sha for rel, sha in manifest["files"].items() if rel.startswith("code/")}
    running = link.eval("_digests('/cur')")
    # Two bundles at most: /prev goes first (the running /cur stays the fallback while
    # /next is staged); after the swap the replaced /cur becomes /prev.
    link.exec("_rmtree('/prev'); _rmtree('/next')")
    uploaded = copied = 0
    with Progress(len(code), "deploy") as bar:
        for rel in sorted(code):
            if running.get(rel) == code[rel]:
                link.exec("_copy('/cur/%s', '/next/%s')" % (rel, rel))
                copied += 1
            else:
                link.write_file("/next/" + rel, (bundle / "code" / rel).read_bytes())
                uploaded += 1
            bar.advance(1, rel)
            if on_file:
                on_file(rel)
    staged = link.eval("_digests('/next')")
    if staged != code:
        bad = sorted(k for k in set(code) | set(staged) if staged.get(k) != code.get(k))
        raise DeployError("the staged files do not match the bundle (%s); nothing was changed, "
                          "deploy again" % ", ".join(bad[:5]))
    link.write_file("/next/manifest.json", json.dumps({"version": manifest["version"]}).encode())
    return uploaded, copied


def commit(link, bundle, manifest):
    """Write /swap (the commit point), then the root files boot.py/main.py if they changed."""
    link.write_file_atomic("/swap", manifest["version"].encode())
    for rel, sha in manifest["files"].items():
        if rel.startswith("root/"):
            name = "/" + rel[5:]
            if link.eval("_sha(%r) if _exists(%r) else None" % (name, name)) != sha:
                link.write_file_atomic(name, (bundle / rel).read_bytes())


def node_config(link):
    raw = link.read_file("/config.json")
    if raw is None:
        raise DeployError("the node has no /config.json: provision it first (`smartnode provision`)")
    try:
        return provision.node_config(raw, link.port)
    except ValueError as e:
        raise DeployError(str(e))


def watch_broker(cfg):
    """Subscribe to the node's measures before the reset; -> (client, queue of topics)."""
    import queue
    import paho.mqtt.client as mqtt
    b = cfg.get("broker", {})
    dev = cfg["device_id"]
    got = queue.Queue()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="smartnode-deploy-" + dev)
    if b.get("user"):
        c.username_pw_set(b["user"], b.get("password"))
    if b.get("tls"):
        import ssl
        ctx = ssl.create_default_context(cadata=b.get("ca") or None)
        c.tls_set_context(ctx)
    ready = queue.Queue()
    c.on_connect = lambda cl, u, f, rc, p: cl.subscribe("/json/+/+/attrs", qos=1)
    c.on_subscribe = lambda cl, u, mid, rcs, p: ready.put(True)

    def on_message(cl, u, m):
        device = m.topic.split("/")[3]
        if device == dev or device.startswith(dev + "-"):
            got.put(m.topic)
    c.on_message = on_message
    try:
        c.connect(b.get("host", "127.0.0.1"), b.get("port", 1883), keepalive=30)
    except OSError as e:
        raise DeployError("broker unreachable at %s:%s from this computer (%s): check the broker "
                          "address in the inventory and this computer's network"
                          % (b.get("host"), b.get("port", 1883), e))
    c.loop_start()
    try:
        ready.get(timeout=10)
    except queue.Empty:
        c.loop_stop()
        raise DeployError("the broker at %s:%s did not accept a subscription (credentials?)"
                          % (b.get("host"), b.get("port", 1883)))
    return c, got


def deploy(port, bundle, wait=60, on_file=None, log=print, then=None):
    """Stage, verify, commit, reset, and wait for the first message; -> summary dict.
    then(serial), if given, is called right after the reset with the port still open, so
    nothing the node prints on its way up is lost (a closed port drops what arrives)."""
    import queue
    bundle, manifest = load_bundle(bundle)
    with Link(port) as link:
        cfg = node_config(link)
        uploaded, copied = stage(link, bundle, manifest, on_file)
        client = None
        if wait:
            client, got = watch_broker(cfg)
        commit(link, bundle, manifest)
        log("deploy: %s staged (%d uploaded, %d unchanged); resetting the node"
            % (manifest["version"], uploaded, copied))
        link.soft_reset()
        summary = {"version": manifest["version"], "uploaded": uploaded, "copied": copied}
        if then is not None:
            then(link.t.serial)
        if not wait:
            return summary
        console = b""
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    summary["first_message"] = got.get(timeout=0.2)
                    break
                except queue.Empty:
                    pass
                console += link.read_console(0.3)
                if time.monotonic() > deadline:
                    tail = console.decode("utf-8", "replace").strip().splitlines()[-8:]
                    raise DeployError("no message from %s reached the broker within %d s; the node said:\n  %s"
                                      % (cfg["device_id"], wait, "\n  ".join(tail) or "(nothing)"))
        finally:
            client.loop_stop()
            client.disconnect()
        log("deploy: %s is publishing (%s)" % (cfg["device_id"], summary["first_message"]))
        return summary


def rollback(port):
    """Make /prev the running version again (it becomes /cur after the reset)."""
    with Link(port) as link:
        if not link.eval("_exists('/prev')"):
            raise DeployError("the node keeps no previous version to roll back to")
        link.exec("_rmtree('/next')")
        link.write_file_atomic("/swap", b"rollback")
        link.exec("os.rename('/prev', '/next')")
        link.soft_reset()


def cut_off(after):
    """SMARTNODE_DEPLOY_CUT=N: die after staging N files, with no clean-up at all, as when the
    cable is pulled or the computer dies (the README's walk-through tries the recovery)."""
    if not after:
        return None
    left = [int(after)]

    def on_file(rel):
        left[0] -= 1
        if left[0] == 0:  # in the middle of the next file's transfer
            threading.Timer(0.02, os.kill, (os.getpid(), signal.SIGKILL)).start()
    return on_file


def add_arguments(p):
    ports.add(p, "serial port of the node (or the vboard's /dev/pts/N)")
    p.add_argument("--board", default="esp32-devkitc", help="board the bundle was built for")
    p.add_argument("--bundle", help="bundle directory (default build/bundle/BOARD)")
    p.add_argument("--wait", type=float, default=120,
                   help="seconds to wait for the node's first message at the broker (0: do not wait)")
    p.add_argument("--rollback", action="store_true", help="switch back to the previous version")


def main(args):
    args.port = ports.resolve(args.port, "deploy")
    try:
        if args.rollback:
            rollback(args.port)
            print("deploy: rolled back; the node restarts on its previous version")
            return
        deploy(args.port, args.bundle or paths.BUILD / "bundle" / args.board, wait=args.wait,
               on_file=cut_off(os.environ.get("SMARTNODE_DEPLOY_CUT")))
    except (DeployError, LinkError) as e:
        raise SystemExit("deploy: %s" % e)
