"""A virtual node: the real firmware under the unix port in real time, with the
`unix-sim` board replaying a recorded UART capture at its recorded cadence."""
import json
import os
import subprocess
import tempfile

from . import mp, paths, procs


class VirtualNode(procs.Scratch):
    def __init__(self, broker_port, recording=None, interval=10, device_id="demo-1",
                 apikey="smartnode", period_ms=1000, workdir=None, config=None, build="std"):
        self.build = build  # which unix-port build runs it (host_tools.mp.BUILDS)
        self.dir = workdir or tempfile.mkdtemp(prefix="vnode-")
        self._own_dir = workdir is None
        recording = recording or paths.DATA / "sds011_capture_54frames.bin"
        with open(paths.BOARDS / "unix-sim.json") as f:
            board = json.load(f)
        board["uarts"]["pm"].update(replay=str(recording), chunk=10, period_ms=period_ms)
        board["log"] = {"file": "smartlog.img"}  # in the node's working directory
        cfg = {"device_id": device_id, "apikey": apikey, "interval": interval,
               "broker": {"host": "127.0.0.1", "port": broker_port},
               "air": {"sensors": {"sds011": {"uart": "pm"}}}}
        for k, v in (config or {}).items():  # a section given is merged into the default one
            cfg[k] = dict(cfg[k], **v) if isinstance(cfg.get(k), dict) and isinstance(v, dict) else v
        for name, obj in (("config.json", cfg), ("board.json", board)):
            with open(os.path.join(self.dir, name), "w") as f:
                json.dump(obj, f, indent=1)
        self.proc = None

    def start(self, stdout=None):
        self.proc = subprocess.Popen([mp.binary(self.build), str(paths.FIRMWARE / "main.py")], cwd=self.dir,
                                     env=mp.env(), stdout=stdout, stderr=subprocess.STDOUT)
        return self

    def stop(self):
        procs.stop(self.proc)
