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

    def follow(serial_port):
        # Straight after the reset, on the port the deploy used: the node's first lines
        # (its boot, the uplink coming up) are what a technician runs this for.
        print("run: following %s%s (Ctrl-C ends)" % (port, " and " + args.broker if args.broker else ""),
              flush=True)
        logs.follow(port, args.broker, args.device, args.seconds, user=args.user,
                    password=args.password, ca=args.ca, serial_port=serial_port)
    try:
        m = build.build(args.board)
        print("run: built %s for %s" % (m["version"], args.board), flush=True)
        deploy.deploy(port, paths.BUILD / "bundle" / args.board, wait=0, then=follow,
                      log=lambda text: print("run: " + text.partition(": ")[2], flush=True))
    except (build.BuildError, boards.BoardError, deploy.DeployError, LinkError) as e:
        raise SystemExit("run: %s" % e)
    except KeyboardInterrupt:
        pass
