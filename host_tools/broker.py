"""A private Mosquitto on a free loopback port, with a generated config."""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

from . import procs


def free_port():
    """A loopback port free now, below the kernel's ephemeral range: a port from that range
    (what bind to port 0 gives) can become the source port of some outgoing connection
    before a slow server (RabbitMQ: seconds) gets to bind it, and the server dies of
    EADDRINUSE."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    while True:
        port = random.randrange(10000, max(low, 10001))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Mosquitto(procs.Scratch):
    """Start with `with Mosquitto() as b:`; b.port is where it listens.

    `extra` is appended to the generated config (listeners, ACLs, TLS).
    """

    def __init__(self, port=None, extra="", workdir=None, anonymous=True, persistence=False):
        self.port = port or free_port()
        self.persistence = persistence  # sessions and queued messages survive a restart
        self.extra = extra
        self.anonymous = anonymous
        self._own_dir = workdir is None
        self.dir = workdir or tempfile.mkdtemp(prefix="mosquitto-")
        self.proc = None

    def config(self):
        lines = ["listener %d 127.0.0.1" % self.port,
                 "allow_anonymous %s" % ("true" if self.anonymous else "false"),
                 "persistence %s" % ("true" if self.persistence else "false"),
                 "log_dest stderr",
                 "log_type error",
                 "log_type warning"]
        if self.persistence:
            lines.append("persistence_location %s/" % self.dir)
        if os.geteuid() == 0:
            # Otherwise it drops to user mosquitto and cannot read our key files.
            lines.append("user root")
        return "\n".join(lines) + "\n" + self.extra

    def start(self, timeout=10):
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not os.path.exists(exe):
            raise SystemExit("mosquitto is not installed: run `make deps` (apt-get install mosquitto)")
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(self.config())
        self.log = open(os.path.join(self.dir, "mosquitto.log"), "ab")
        self.proc = subprocess.Popen([exe, "-c", conf], stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: " + open(self.log.name).read())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not open port %d" % self.port)

    def stop(self):
        procs.stop(self.proc)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
