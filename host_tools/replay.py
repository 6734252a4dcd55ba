"""`replay`: run the node's logic under the unix port on a recording, at virtual time.

Writes JSON lines: one per MQTT message the node publishes
({"t", "topic", "payload"}), and with --samples one per decoded sample.
"""
import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile

from . import mp, paths, recordings
from .progress import Progress

DEFAULT_START = "2026-01-01T00:00:00Z"


def parse_time(text):
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.timestamp()


def add_arguments(p):
    p.add_argument("recording", nargs="+",
                   help="recorded sensor captures or archive files of one node (replayed together)")
    p.add_argument("--start", default=DEFAULT_START,
                   help="virtual time of the first sample, for recordings without timestamps "
                        "(ISO 8601, default %(default)s)")
    p.add_argument("--interval", type=int, default=300, help="reporting interval in seconds")
    p.add_argument("--samples", action="store_true", help="also write one line per decoded sample")
    p.add_argument("--out", help="write the JSON lines here instead of standard output")
    p.add_argument("--format", choices=sorted(recordings.FORMATS), help="force the recording format")
    p.add_argument("--device", default="replay-1", help="device id the node publishes as")
    p.add_argument("--apikey", default="smartnode")
    p.add_argument("--as", dest="as_", choices=("parking", "traffic"),
                   help="what a magnetometer recording feeds: a parking spot or a traffic lane")
    p.add_argument("--calibrate", type=float, default=1.0,
                   help="magnetometer recordings: seconds at the start taken as the empty baseline")
    p.add_argument("--station", help="PeMS recordings: replay only this station (default: all)")
    p.add_argument("--plot", metavar="FILE.png", help="also draw readings, flags and events over time")


def build_stream(args, fileobj):
    """Write the event stream for args.recording; returns the number of events."""
    args.start = parse_time(args.start) if isinstance(args.start, str) else args.start
    part = recordings.read(args.recording, args, args.format)
    config = {"device_id": args.device, "apikey": args.apikey, "interval": args.interval}
    config.update(part.config)
    recordings.write_stream(fileobj, config, part.board, part.events)
    args.events = part.events
    return len(part.events)


def run_stream(stream_path, samples, stdout, events=None, lines=None, build="std"):
    """Run the firmware's replay (under the unix-port build named, host_tools.mp); with
    events, a progress bar (on a terminal) follows its virtual time; with lines (a list),
    the output lines are kept there too."""
    argv = [str(paths.FIRMWARE / "app" / "replay.py"), stream_path] + (["--samples"] if samples else [])
    if events is None and lines is None:
        proc = mp.run(argv, build=build, stdout=stdout, stderr=subprocess.PIPE, text=True)
        err = proc.stderr
    else:
        out = stdout or sys.stdout
        t0, t1 = (events[0]["t"], events[-1]["t"]) if events else (0, 0)
        bar = Progress(1000, "replay")
        proc = subprocess.Popen([mp.binary(build)] + argv, env=mp.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        for line in proc.stdout:
            out.write(line)
            if lines is not None:
                lines.append(line)
            if bar.enabled and t1 > t0:
                t = parse_time(line[6:26]) if line.startswith('{"t":"') else t0
                bar.advance(int(1000 * (t - t0) / (t1 - t0)) - bar.done)
        bar.close()
        err = proc.stderr.read()
        proc.wait()
    if proc.returncode != 0:
        raise SystemExit("replay: the node failed under the unix port:\n" + err)


def main(args):
    with tempfile.TemporaryDirectory() as tmp:
        stream = os.path.join(tmp, "events.jsonl")
        try:
            with open(stream, "w") as f:
                build_stream(args, f)
        except (OSError, ValueError) as e:
            raise SystemExit("replay: %s" % e)
        lines = [] if args.plot else None
        if args.out:
            with open(args.out, "w") as out:
                run_stream(stream, args.samples, out, args.events, lines)
        else:
            sys.stdout.flush()
            run_stream(stream, args.samples, None, args.events, lines)
    if args.plot:
        from . import plot
        plot.draw([json.loads(ln) for ln in lines], args.events, args.plot)


def cli(argv=None):
    p = argparse.ArgumentParser(prog="host_tools replay")
    add_arguments(p)
    main(p.parse_args(argv))
