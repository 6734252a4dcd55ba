"""smartnode (python -m host_tools) COMMAND: one CLI for technicians and CI.

From a blank ESP32 to a publishing node:
  flash -> build -> provision -> deploy -> logs / inspect   (run = build + deploy + logs)
In the field: build -> release sign -> fleet update (over the air, signed)
"""
import argparse
import importlib
import os
import sys

from . import paths

# command -> (module, help); each module has add_arguments(parser) and main(args).
COMMANDS = (
    ("flash", "put MicroPython and the partition table on a blank ESP32 (esptool)"),
    ("build", "compile firmware/ and lib/ to .mpy: a bundle with a sha256 manifest"),
    ("provision", "check the fleet inventory and write a node's config (+ secrets)"),
    ("deploy", "copy a bundle onto a node safely, reset it and wait for its first message"),
    ("release", "signing keys, and signed update packages the nodes install over the air"),
    ("inspect", "a node's status, config (secrets masked), backlog and recent log"),
    ("logs", "follow a node's console (USB) and what it publishes (--broker), stamped"),
    ("run", "build, deploy and follow a node in one command"),
    ("record", "capture a node's raw sensor streams into a recording replay reads"),
    ("replay", "run the node's logic on a recording at virtual time"),
    ("vboard", "a virtual ESP32 behind a pseudo-terminal, for mpremote and the tools"),
    ("fleet", "broker passwords and ACL, IoT Agent provisioning requests, for a fleet"),
    ("demo", "a virtual node on a real recording, publishing to a local Mosquitto"),
    ("bench", "measure the figures the README reports"),
)


def main(argv=None):
    p = argparse.ArgumentParser(prog="smartnode", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_ in COMMANDS:
        s = sub.add_parser(name, help=help_, description=help_)
        s.set_defaults(module=name)
        mod = importlib.import_module("." + name, __package__)
        if hasattr(mod, "add_arguments"):
            mod.add_arguments(s)
    v = sub.add_parser("vendor", help="fetch the pinned third-party MicroPython modules")
    v.add_argument("outdir", nargs="?", default=str(paths.VENDOR))
    v.set_defaults(module="vendor")
    try:
        args = p.parse_args(argv)  # `smartnode --help | head` too
        if args.module == "vendor":
            from . import vendor
            print(vendor.ensure(args.outdir))
            return
        importlib.import_module("." + args.module, __package__).main(args)
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
    except BrokenPipeError:
        # `smartnode inspect ... | head`: the reader has all it wants. Stop quietly; later
        # writes (and Python's own flush at exit) go nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        # Each command's own `with` blocks have already put the node and servers back.
        sys.stderr.write("smartnode: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
