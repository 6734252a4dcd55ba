"""python -m host_tools <command>: one CLI for technicians and CI."""
import argparse
import sys

from . import bench, demo, fleet, paths, replay, vendor


def main(argv=None):
    p = argparse.ArgumentParser(prog="host_tools", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("replay", help="run the node's logic on a recording at virtual time")
    replay.add_arguments(r)
    r.set_defaults(func=replay.main)

    d = sub.add_parser("demo", help="a virtual node on a real recording, publishing to a local Mosquitto")
    demo.add_arguments(d)
    d.set_defaults(func=demo.main)

    b = sub.add_parser("bench", help="measure the figures the README reports")
    b.set_defaults(func=bench.main)

    f = sub.add_parser("fleet", help="broker credentials and ACL, IoT Agent provisioning for a fleet")
    fleet.add_arguments(f)

    v = sub.add_parser("vendor", help="fetch the pinned third-party MicroPython modules")
    v.add_argument("outdir", nargs="?", default=str(paths.VENDOR))
    v.set_defaults(func=lambda a: print(vendor.ensure(a.outdir)))

    args = p.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
