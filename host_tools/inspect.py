"""`inspect`: a node's status, config (secrets masked), backlog and recent log over USB.

It first listens to the node's console for a moment, then interrupts the
running loop and reads what the firmware keeps: the lines it said lately
(app.console's RAM ring, so lines said while nobody listened), the running
and previous versions, /config.json through the schema's mask, the backlog
of the log and the uplink's state (app.run.STATE) and the filesystem's free space.
"""
import json
import sys

from . import paths, ports, provision
from .link import Link, LinkError

sys.path.insert(0, str(paths.FIRMWARE))
from app import schema  # noqa: E402

STATUS = r"""
def _status():
    import sys, os
    out = {}
    for v in ('cur', 'prev'):
        try:
            out[v] = __import__('json').loads(open('/%s/manifest.json' % v).read())['version']
        except (OSError, ValueError, KeyError):
            out[v] = None
    out['pending_deploy'] = _exists('/next')
    run = sys.modules.get('app.run')
    st = getattr(run, 'STATE', None) or {}
    log = st.get('log')
    if log is not None:
        out['backlog'] = {'pending': log.pending, 'dropped': log.dropped, 'next_seq': log.next_seq,
                          'mode': getattr(log, 'mode', None)}
    up = st.get('uplink')
    if up is not None:
        out['sent'] = up.sent
        out['acked'] = up.acked
    sh = st.get('shell')
    if sh is not None:
        out['uplink'] = {'connected': bool(sh.link.connected), 'last_error': sh.link.last_error,
                         'connects': sh.link.connects, 'time': sh.clock.state}
    d = st.get('display')
    if d is not None:
        out['display'] = {'on': d.on, 'draws': d.draws, 'fault': d.fault}
    s = os.statvfs('/')
    out['fs_free_kb'] = s[0] * s[3] // 1024
    out['fs_total_kb'] = s[0] * s[2] // 1024
    out['platform'] = sys.platform
    con = sys.modules.get('app.console')
    out['recent'] = con.recent() if con else []
    return out
"""


def inspect(port, listen=2.0):
    with Link(port, listen=listen) as link:
        console = link.console
        link.exec(STATUS)
        status = link.eval("_status()")
        raw = link.read_file("/config.json")
    cfg, errors = None, [("", "no /config.json: provision the node")]
    if raw:
        try:
            cfg = provision.node_config(raw, port)
            errors = schema.validate(cfg)
        except ValueError as e:
            errors = [("", str(e))]
    return {"status": status, "config": schema.masked(cfg) if cfg else None, "config_errors": errors,
            "log": console.decode("utf-8", "replace").splitlines(), "listened": listen}


def show(report, out=sys.stdout):
    st = report["status"]
    w = out.write
    w("version      %s (previous: %s)%s\n" % (st["cur"], st["prev"],
                                            "  [an unfinished deploy is staged]" if st["pending_deploy"] else ""))
    if "backlog" in st:
        b = st["backlog"]
        w("backlog      %d readings waiting, %d dropped, %d sent, next seq %d (log: %s)\n"
          % (b["pending"], b["dropped"], st.get("sent", 0), b["next_seq"], b.get("mode")))
    if "uplink" in st:
        u = st["uplink"]
        w("uplink       %s, %d connects, time %s%s\n" % (
            "connected" if u["connected"] else "NOT connected", u["connects"], u["time"],
            ", last error: %s" % u["last_error"] if u["last_error"] else ""))
    else:
        w("backlog      (the node was not running its loop)\n")
    if "display" in st:
        d = st["display"]
        w("display      %s, %d redraws%s\n" % ("on" if d["on"] else "OFF", d["draws"],
                                               ", fault: %s" % d["fault"] if d["fault"] else ""))
    w("filesystem   %d of %d KiB free (%s)\n" % (st["fs_free_kb"], st["fs_total_kb"], st["platform"]))
    for field, msg in report["config_errors"]:
        w("config error %s\n" % ": ".join(filter(None, (field, msg))))
    if report["config"]:
        w("config       " + json.dumps(report["config"], sort_keys=True, indent=1).replace("\n", "\n             ") + "\n")
    recent = st.get("recent") or []
    if recent:  # what the node said lately, kept in its RAM ring, heard or not
        w("recent log   (seconds since boot)\n")
        for line in recent:
            up, _, text = line.partition(" ")
            w("  %7s s  %s\n" % (up, text))
    else:  # no ring (the node's loop never ran): what it said while we listened
        w("recent log   (heard in %s s of listening)\n" % report.get("listened", "a few"))
        for line in report["log"][-20:]:
            w("  " + line + "\n")


def add_arguments(p):
    ports.add(p)
    p.add_argument("--listen", type=float, default=2.0, help="seconds of console log to capture first")
    p.add_argument("--json", action="store_true", help="print the report as JSON")


def main(args):
    args.port = ports.resolve(args.port, "inspect")
    try:
        report = inspect(args.port, args.listen)
    except LinkError as e:
        raise SystemExit("inspect: %s" % e)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        show(report)
