"""`replay`: run the node's logic under the unix port on a recording, at virtual time.

Writes JSON lines: one per MQTT message the node publishes
({"t", "topic", "payload"}), and with --samples one per decoded sample.
"""
import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile

from . import mp, paths, recordings

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


def build_stream(args, fileobj):
    """Write the event stream for args.recording; returns the number of events."""
    args.start = parse_time(args.start) if isinstance(args.start, str) else args.start
    part = recordings.read(args.recording, args, args.format)
    config = {"device_id": args.device, "apikey": args.apikey, "interval": args.interval}
    config.update(part.config)
    recordings.write_stream(fileobj, config, part.board, part.events)
    return len(part.events)


def run_stream(stream_path, samples, stdout):
    argv = [str(paths.FIRMWARE / "app" / "replay.py"), stream_path] + (["--samples"] if samples else [])
    proc = mp.run(argv, stdout=stdout, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit("replay: the node failed under the unix port:\n" + proc.stderr)


def main(args):
    with tempfile.TemporaryDirectory() as tmp:
        stream = os.path.join(tmp, "events.jsonl")
        try:
            with open(stream, "w") as f:
                build_stream(args, f)
        except (OSError, ValueError) as e:
            raise SystemExit("replay: %s" % e)
        if args.out:
            with open(args.out, "w") as out:
                run_stream(stream, args.samples, out)
        else:
            sys.stdout.flush()
            run_stream(stream, args.samples, None)


def cli(argv=None):
    p = argparse.ArgumentParser(prog="host_tools replay")
    add_arguments(p)
    main(p.parse_args(argv))
