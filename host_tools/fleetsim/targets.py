"""What the simulated fleet connects to, with the generated fleet's own files, and how each
counts the CONNECTs it accepts (its own log) and shows its processes (for CPU and memory):

- MosquittoTarget: one Mosquitto running `fleet mosquitto`'s config, password file and ACL,
  persistence on so the agent's queued messages survive a restart;
- ClusterTarget: three RabbitMQ members loaded with `fleet rabbitmq --cluster` definitions;
  node i starts on member i % 3 and lists the other two in broker.hosts (or one RabbitMQ
  node with `fleet rabbitmq`'s).
"""
import os
import re
import signal
import threading
import time
from datetime import datetime

from .. import fleet as fleettool
from .. import rabbitmq
from ..broker import Mosquitto

# Measuring needs: the connect lines (notice), Unix-second stamps; the agent's session
# queue unbounded (Mosquitto's default 1000 would drop the platform's copies while the
# agent reconnects, which is not what the nodes did).
MOSQUITTO_MEASURING = "log_type notice\nlog_timestamp true\nmax_queued_messages 0\n"
MOSQUITTO_CONNECT = re.compile(rb"^(\d+): New client connected from \S+ as (\S+) ")
RABBIT_LOGGING = "log.console.level = info\nlog.connection.level = info\n"
RABBIT_CONNECT = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\+00:00) \[info\] <[^>]+> accepting MQTT connection")


class MosquittoTarget:
    name = "mosquitto"
    members = 1

    def __init__(self, fleet, creds, workdir):
        conf = fleettool.write_mosquitto(fleet, os.path.join(workdir, "fleet-mosquitto"))[0]
        with open(conf) as f:
            extra = f.read()
        self.broker = Mosquitto(extra=extra + MOSQUITTO_MEASURING, anonymous=False, persistence=True,
                                workdir=os.path.join(workdir, "mosquitto"))
        os.makedirs(self.broker.dir, exist_ok=True)
        self.agent = ("iota", creds["iota"])
        self.front_port = None  # a proxy in front (the slow-broker scenario)

    def start(self):
        self.broker.start()
        self.tail = LogTail(os.path.join(self.broker.dir, "mosquitto.log"), skip=self.agent[0].encode())
        return self

    def stop(self):
        self.tail.stop()
        self.broker.stop()

    def node_broker(self, i):
        return {"host": "127.0.0.1", "port": self.front_port or self.broker.port}

    def stop_member(self, i=0, crash=False):
        if crash:
            self.broker.proc.kill()  # the agent's queued messages since the last autosave go too
        self.broker.stop()

    def start_member(self, i=0):
        self.broker.start()

    def available_while_down(self):
        return False

    def pids(self):
        return [self.broker.proc.pid] if self.broker.proc else []

    def connects(self):
        """Unix times (s) of every CONNECT the broker accepted."""
        return self.tail.times()

    def upstream(self):
        return self.broker.port


class LogTail:
    """Mosquitto stamps its log in whole seconds; read as it is written (stderr is not
    buffered), each connect line gets the time it was read, within that second."""

    def __init__(self, path, skip, every=0.05):
        self.path = path
        self.skip = skip  # the agent's client id: not a node
        self.every = every
        self._times = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        pos, rest = 0, b""
        while True:
            stopping = self._stop.wait(self.every)
            with open(self.path, "rb") as f:
                f.seek(pos)
                data = f.read()
            now = time.time()
            pos += len(data)
            lines = (rest + data).split(b"\n")
            rest = lines.pop()
            for ln in lines:
                m = MOSQUITTO_CONNECT.match(ln)
                if m and m.group(2) != self.skip:
                    whole = float(m.group(1))
                    self._times.append(min(max(now, whole), whole + 0.999))
            if stopping:
                return

    def times(self):
        return list(self._times)

    def stop(self):
        self._stop.set()
        self._thread.join(5)


class ClusterTarget:
    """size 3: the cluster; size 1: one RabbitMQ node (name rabbitmq-single)."""

    def __init__(self, fleet, creds, workdir, kind="mirrored", size=3):
        self.name = "rabbitmq" if size > 1 else "rabbitmq-single"
        self.members = size
        self.defs = rabbitmq.definitions(fleet, creds, cluster=kind if size > 1 else None)
        self.cluster = rabbitmq.Cluster(size=size, definitions=self.defs, workdir=os.path.join(workdir, "cluster"),
                                        extra=RABBIT_LOGGING)
        os.makedirs(self.cluster.dir, exist_ok=True)
        self.agent = ("iota", creds["iota"])
        self.frozen = None

    def start(self):
        self.cluster.start()
        return self

    def stop(self):
        if self.frozen is not None:
            self.thaw()
        self.cluster.stop()

    def node_broker(self, i):
        ports = [m.mqtt_port for m in self.cluster.nodes]
        k = i % len(ports)
        order = ports[k:] + ports[:k]
        return {"host": "127.0.0.1", "port": order[0], "hosts": ["127.0.0.1:%d" % p for p in order[1:]],
                "topic_prefix": ""}  # the form the agent's AMQP binding matches (rabbitmq.py)

    def stop_member(self, i=0, crash=False):
        """An orderly stop (SIGTERM: the member closes its connections one by one over
        seconds), or a crash (SIGKILL of its VM: every connection dropped at once)."""
        m = self.cluster.nodes[i]
        if not crash:
            m.stop()
            return
        for pid in reversed(self._tree(m.proc.pid)):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        m.proc.wait()
        m.proc = None
        if m.log:
            m.log.close()
            m.log = None

    def start_member(self, i=0):
        self.cluster.nodes[i].start()

    def available_while_down(self):
        return self.members > 1  # the other members serve

    def freeze(self, i=0):
        """Member i stops answering anyone, peers and clients (SIGSTOP of its VM): from
        outside, a member cut off the network; its sockets stay open."""
        self.frozen = i
        for pid in self._tree(self.cluster.nodes[i].proc.pid):
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in self._tree(self.cluster.nodes[self.frozen].proc.pid):
            os.kill(pid, signal.SIGCONT)
        self.frozen = None

    @staticmethod
    def _tree(pid):
        out, todo = [], [pid]
        while todo:
            p = todo.pop()
            out.append(p)
            try:
                with open("/proc/%d/task/%d/children" % (p, p)) as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
        return out

    def pids(self):
        return [m.proc.pid for m in self.cluster.nodes if m.proc]

    def connects(self):
        out = []
        for m in self.cluster.nodes:
            try:
                text = m.output()
            except OSError:
                continue
            for s in RABBIT_CONNECT.findall(text):
                out.append(datetime.strptime(s.replace("+00:00", "+0000"), "%Y-%m-%d %H:%M:%S.%f%z").timestamp())
        return out

    def queue_member(self):
        """A member that is up, for the agent's AMQP side."""
        for i, m in enumerate(self.cluster.nodes):
            if m.proc is not None and i != self.frozen:
                return m
        raise RuntimeError("no cluster member is up")


def wait_port(port, timeout=30):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("port %d did not open" % port)
