"""`run`: build, deploy and follow a node in one command (as ESPHome's `esphome run`).

The bundle for --board is built, deployed onto the node on the port (only what
changed is sent; the node restarts on it) and its console followed, with what it
publishes when --broker is given, until Ctrl-C.
"""
from . import boards, build, deploy, logs, paths, ports
from .link import LinkError


def add_arguments(p):
    logs.add_arguments(p, console_only=False)
    p.add_argument("--board", default="esp32-devkitc", help="board profile (boards/NAME.json)")


def main(args):
    port = ports.resolve(args.port, "run")
    try:
        m = build.build(args.board)
        print("run: built %s for %s" % (m["version"], args.board), flush=True)
        deploy.deploy(port, paths.BUILD / "bundle" / args.board, wait=0,
                      log=lambda text: print("run: " + text.partition(": ")[2], flush=True))
    except (build.BuildError, boards.BoardError, deploy.DeployError, LinkError) as e:
        raise SystemExit("run: %s" % e)
    print("run: following %s%s (Ctrl-C ends)" % (port, " and " + args.broker if args.broker else ""),
          flush=True)
    try:
        logs.follow(port, args.broker, args.device, args.seconds, user=args.user,
                    password=args.password, ca=args.ca)
    except KeyboardInterrupt:
        pass
