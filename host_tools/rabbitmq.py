"""RabbitMQ, the durable platform path: nodes publish over RabbitMQ's MQTT plugin and the
IoT Agent's AMQP binding consumes a durable queue, so readings the broker acknowledged wait
there while the agent is away (see README, "Two platform paths").

- `definitions(fleet, ...)`: what `smartnode fleet rabbitmq` writes: users (salted SHA-256
  hashes), permissions and topic permissions per device, the agent's queues and bindings;
  `rabbitmq_conf(...)`: the MQTT/TLS listener settings; `agent_env(...)`: the agent's AMQP
  binding settings.
- `RabbitMQ` / `Cluster`: private brokers on loopback for tests and the bench (own node
  names, ports, epmd, cookie and data directory; never the system service).

The MQTT plugin publishes a topic to the `amq.topic` exchange with '/' turned into '.', so
`/<apikey>/<id>/attrs` is routing key `.<apikey>.<id>.attrs`: the agent's binding
`.*.*.attrs.#` matches only the topic form without `/json` (node config
`broker.topic_prefix: ""`).
"""
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time

from . import procs
from .broker import free_port

SBIN = "/usr/lib/rabbitmq/bin"  # Debian's rabbitmq-server; /usr/sbin wraps them to run as user rabbitmq
QUEUE = "iotaqueue"  # the agent's default (lib/constants.js AMQP_DEFAULT_QUEUE)
MEASURES_KEY = ".*.*.attrs.#"
ANSWERS_KEY = ".*.*.cmdexe"
VERSION = "3.10.8"


# -- definitions for a fleet -----------------------------------------------------------
def password_hash(password, salt=None):
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password)),
    a 4-byte random salt."""
    salt = os.urandom(4) if salt is None else salt
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def _user(name, password, tags=()):
    return {"name": name, "password_hash": password_hash(password),
            "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": list(tags)}


def _key(topic_parts):
    """Routing-key regex for the MQTT topic '/' + '/'.join(parts) (each part escaped)."""
    return r"\." + r"\.".join(topic_parts)


def device_patterns(node, client_id):
    """-> (vhost permissions (configure, write, read), topic permissions (write, read)) for one node.

    Topic write: its own entities' measures (and status, below attrs) and its command answers;
    topic read: its own commands. Queues: only its own MQTT subscription queue, which the
    plugin names after the client id."""
    from . import iota
    from app import fiware
    esc = re.escape
    writes, reads = [], []
    for kind, eid in iota.entities(node):
        apikey, dev = esc(fiware.apikey(node, kind)), esc(eid)
        writes.append(_key([apikey, dev, r"attrs(\..+)?"]))
        if kind == "device":
            writes.append(_key([apikey, dev, "cmdexe"]))
            reads.append(_key([apikey, dev, "cmd"]))
    sub = r"mqtt-subscription-%sqos[01]" % esc(client_id)
    perms = ("^%s$" % sub, r"^(amq\.topic|%s)$" % sub, r"^(amq\.topic|%s)$" % sub)
    return perms, ("^(%s)$" % "|".join(writes), "^(%s)$" % "|".join(reads))


def definitions(fleet_, creds, vhost="/", queue=QUEUE, cluster=None):
    """A definitions document for `rabbitmqctl import_definitions` or `load_definitions`.
    cluster: how the agent's queues are replicated over the members:
      "quorum"   quorum queues (Raft): the agent must declare them with x-queue-type quorum;
                 iotagent-json 3.14 declares without arguments, which RabbitMQ 3.10 refuses
                 (406 PRECONDITION_FAILED, inequivalent arg 'x-queue-type');
      "mirrored" classic queues mirrored on every member by a policy (ha-mode all;
                 deprecated by RabbitMQ, gone in 4.0): what the agent's declaration accepts."""
    from . import fleet
    agent = (fleet_.get("agent") or {}).get("user", "iota")
    users = [_user(agent, creds[agent])]
    q = r"%s(_commands)?" % re.escape(queue)
    perms = [{"user": agent, "vhost": vhost, "configure": r"^(amq\.topic|%s)$" % q,
              "write": r"^(amq\.topic|%s)$" % q, "read": r"^(amq\.topic|%s)$" % q}]
    # The agent binds with the patterns themselves (read) and publishes commands (write).
    topics = [{"user": agent, "vhost": vhost, "exchange": "amq.topic",
               "write": r"^\.[^.]+\.[^.]+\.cmd$", "read": ".*"}]
    for node in fleet_["nodes"]:
        name = fleet.user(node)
        users.append(_user(name, creds[name]))
        (c, w, r), (tw, tr) = device_patterns(node, name)  # client id = login (app.link)
        perms.append({"user": name, "vhost": vhost, "configure": c, "write": w, "read": r})
        topics.append({"user": name, "vhost": vhost, "exchange": "amq.topic", "write": tw, "read": tr})
    args = {"x-queue-type": "quorum"} if cluster == "quorum" else {}
    queues = [{"name": n, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": args}
              for n in (queue, queue + "_commands")]
    policies = []
    if cluster == "mirrored":
        policies.append({"vhost": vhost, "name": queue + "-mirrored", "pattern": "^%s$" % q,
                         "apply-to": "queues", "priority": 0,
                         "definition": {"ha-mode": "all", "ha-sync-mode": "automatic"}})
    bindings = [{"source": "amq.topic", "vhost": vhost, "destination": n, "destination_type": "queue",
                 "routing_key": k, "arguments": {}}
                for n, k in ((queue, MEASURES_KEY), (queue + "_commands", ANSWERS_KEY))]
    return {"rabbit_version": VERSION, "rabbitmq_version": VERSION, "users": users,
            "vhosts": [{"name": vhost}], "permissions": perms, "topic_permissions": topics,
            "queues": queues, "exchanges": [], "bindings": bindings,
            "policies": policies, "parameters": [], "global_parameters": []}


def rabbitmq_conf(definitions_path, vhost="/", tls_dir="/etc/rabbitmq/tls"):
    """rabbitmq.conf for the fleet: MQTT over TLS only, no anonymous logins, the definitions."""
    return "\n".join([
        "# generated by `smartnode fleet rabbitmq`",
        "load_definitions = %s" % definitions_path,
        "mqtt.allow_anonymous = false",
        "mqtt.vhost = %s" % vhost,
        "mqtt.exchange = amq.topic",
        "# Nodes: MQTT over TLS on 8883 only. The agent: AMQP 5672 (keep it on the platform's network).",
        "mqtt.listeners.tcp = none",
        "mqtt.listeners.ssl.default = 8883",
        "ssl_options.cacertfile = %s/ca.pem" % tls_dir,
        "ssl_options.certfile = %s/server.pem" % tls_dir,
        "ssl_options.keyfile = %s/server.key" % tls_dir,
        "ssl_options.verify = verify_peer",
        "ssl_options.fail_if_no_peer_cert = false",
        "listeners.tcp.default = 5672",
        ""])


def agent_env(agent, password, host="rabbitmq", port=5672, queue=QUEUE):
    """The agent's AMQP binding (iotagent-json lib/configService.js reads these; in config.js
    they are config.amqp.{host, port, username, password, exchange, queue, options.durable})."""
    return {"IOTA_AMQP_HOST": host, "IOTA_AMQP_PORT": str(port), "IOTA_AMQP_USERNAME": agent,
            "IOTA_AMQP_PASSWORD": password, "IOTA_AMQP_EXCHANGE": "amq.topic", "IOTA_AMQP_QUEUE": queue,
            "IOTA_AMQP_DURABLE": "true", "IOTA_AMQP_RETRIES": "0", "IOTA_AMQP_RETRY_TIME": "5"}


def write_fleet(fleet_, outdir, cluster=None, vhost="/"):
    """DIR/definitions.json, rabbitmq.conf, iotagent-amqp.env, credentials.json."""
    from . import fleet
    os.makedirs(outdir, exist_ok=True)
    creds = fleet.credentials(fleet_)
    defs = os.path.join(outdir, "definitions.json")
    with open(defs, "w") as f:
        os.chmod(defs, 0o600)
        json.dump(definitions(fleet_, creds, vhost, cluster=cluster), f, indent=1)
    conf = os.path.join(outdir, "rabbitmq.conf")
    with open(conf, "w") as f:
        f.write(rabbitmq_conf(os.path.abspath(defs), vhost))
    agent = (fleet_.get("agent") or {}).get("user", "iota")
    env = os.path.join(outdir, "iotagent-amqp.env")
    with open(env, "w") as f:
        os.chmod(env, 0o600)
        f.write("# the IoT Agent's AMQP binding; its MQTT binding can stay for other brokers\n")
        f.write("".join("%s=%s\n" % kv for kv in agent_env(agent, creds[agent]).items()))
    cred_path = os.path.join(outdir, "credentials.json")
    with open(cred_path, "w") as f:
        os.chmod(cred_path, 0o600)
        json.dump(creds, f, indent=1)
    return defs, conf, env, cred_path


# -- private brokers on loopback ------------------------------------------------------
def _exe(name):
    path = os.path.join(SBIN, name)
    if not os.path.exists(path):
        raise SystemExit("RabbitMQ is not installed: run `make deps` (apt-get install rabbitmq-server)")
    return path


class Epmd:
    """Erlang's port mapper on a private loopback port, our child (not the system's daemon)."""

    def __init__(self):
        self.port = free_port()
        exe = shutil.which("epmd") or _first_glob("/usr/lib/erlang/erts-*/bin/epmd")
        self.proc = subprocess.Popen([exe, "-port", str(self.port)], env=dict(os.environ, ERL_EPMD_ADDRESS="127.0.0.1"),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        procs.stop(self.proc)


def _first_glob(pattern):
    import glob
    found = sorted(glob.glob(pattern))
    if not found:
        raise SystemExit("epmd not found: run `make deps` (apt-get install rabbitmq-server)")
    return found[-1]


class RabbitMQ(procs.Scratch):
    """`with RabbitMQ() as r:` a RabbitMQ node with the MQTT plugin on loopback: r.mqtt_port,
    r.amqp_port. `definitions` (a dict) is loaded at boot. Data survive stop()/start()."""

    def __init__(self, name=None, definitions=None, workdir=None, home=None, epmd=None, extra="", conf=None,
                 ports=None):
        """conf: a whole rabbitmq.conf to run instead of ours (e.g. what `fleet rabbitmq` wrote),
        with ports=(amqp, mqtt) the ports it listens on."""
        self.dir = workdir or tempfile.mkdtemp(prefix="rabbitmq-")
        self._own_dir = workdir is None
        self.name = name or "sn%s" % secrets.token_hex(3)
        self.node = "%s@localhost" % self.name
        self.home = home or self.dir
        self.amqp_port, self.mqtt_port = ports or (free_port(), free_port())
        self.dist_port = free_port()
        self.conf = conf
        self._epmd = epmd
        self._own_epmd = epmd is None
        self.definitions = definitions
        self.extra = extra
        self.proc = None
        self.log = None

    def env(self):
        d = self.dir
        return dict(os.environ, HOME=self.home, ERL_EPMD_PORT=str(self._epmd.port), ERL_EPMD_ADDRESS="127.0.0.1",
                    RABBITMQ_NODENAME=self.node, RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
                    RABBITMQ_NODE_PORT=str(self.amqp_port), RABBITMQ_DIST_PORT=str(self.dist_port),
                    RABBITMQ_MNESIA_BASE=os.path.join(d, "mnesia"), RABBITMQ_LOG_BASE=os.path.join(d, "log"),
                    RABBITMQ_CONFIG_FILE=os.path.join(d, "rabbitmq.conf"),
                    RABBITMQ_ADVANCED_CONFIG_FILE=os.path.join(d, "advanced.config"),
                    RABBITMQ_CONF_ENV_FILE=os.path.join(d, "rabbitmq-env.conf"),
                    RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(d, "enabled_plugins"),
                    RABBITMQ_PLUGINS_EXPAND_DIR=os.path.join(d, "plugins"),
                    RABBITMQ_PID_FILE=os.path.join(d, "rabbitmq.pid"),
                    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}")

    def config(self):
        if self.conf is not None:
            return self.conf
        lines = ["listeners.tcp.1 = 127.0.0.1:%d" % self.amqp_port,
                 "mqtt.listeners.tcp.1 = 127.0.0.1:%d" % self.mqtt_port,
                 "mqtt.allow_anonymous = false",
                 "log.console = true", "log.console.level = warning", "log.file = false"]
        if self.definitions is not None:
            lines.append("load_definitions = %s" % os.path.join(self.dir, "definitions.json"))
        return "\n".join(lines) + "\n" + self.extra

    def start(self, timeout=90):
        self.spawn()
        return self.wait(timeout)

    def spawn(self):
        """Start the broker process without waiting for it to boot."""
        if self._epmd is None:
            self._epmd = Epmd()
        os.makedirs(self.dir, exist_ok=True)
        files = {"rabbitmq.conf": self.config(), "enabled_plugins": "[rabbitmq_mqtt].\n",
                 "rabbitmq-env.conf": ""}
        if self.definitions is not None:
            files["definitions.json"] = json.dumps(self.definitions)
        for name, text in files.items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        self.log = open(os.path.join(self.dir, "rabbitmq.out"), "ab")
        self.proc = subprocess.Popen([_exe("rabbitmq-server")], env=self.env(), cwd=self.dir,
                                     stdout=self.log, stderr=self.log)

    def wait(self, timeout=90, ctl=True):
        """Until the broker has booted; -> self. Its MQTT listener opens near the end of
        the boot, then one rabbitmqctl waits for the rest (each CLI call boots a VM: seconds)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("rabbitmq %s exited: %s" % (self.node, self.output()[-3000:]))
            try:
                socket.create_connection(("127.0.0.1", self.mqtt_port), timeout=0.5).close()
                if ctl:
                    self.ctl("await_startup", "--timeout", str(max(5, int(deadline - time.monotonic()))))
                return self
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("rabbitmq %s did not start: %s" % (self.node, self.output()[-3000:]))
                time.sleep(0.1)

    def output(self):
        with open(os.path.join(self.dir, "rabbitmq.out"), errors="replace") as f:
            return f.read()

    def ctl(self, *args, check=True):
        """rabbitmqctl against this node; -> CompletedProcess (text)."""
        r = subprocess.run([_exe("rabbitmqctl"), "-n", self.node] + list(args), env=self.env(),
                           capture_output=True, text=True, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError("rabbitmqctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def stop(self):
        """Orderly shutdown (SIGTERM: the Erlang VM stops its applications; the queues'
        messages are on disk); the data directory stays."""
        procs.stop(self.proc, grace=60)
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None
        if self._own_epmd and self._epmd is not None:
            self._epmd.stop()
            self._epmd = None


class Cluster(procs.Scratch):
    """Three RabbitMQ nodes on loopback joined into one cluster (one epmd, one cookie).
    `definitions` are imported once the cluster is formed; c.nodes[i].mqtt_port."""

    def __init__(self, size=3, definitions=None, workdir=None, extra=""):
        self.dir = workdir or tempfile.mkdtemp(prefix="rabbitmq-cluster-")
        self.extra = extra  # more rabbitmq.conf lines for every member
        self._own_dir = workdir is None
        self.size = size
        self.definitions = definitions
        self.epmd = None
        self.nodes = []

    def start(self, timeout=120):
        self.epmd = Epmd()
        cookie = os.path.join(self.dir, ".erlang.cookie")
        with open(cookie, "w") as f:
            f.write(secrets.token_hex(16))
        os.chmod(cookie, 0o400)
        tag = secrets.token_hex(2)
        names = ["sn%s-%d" % (tag, i) for i in range(self.size)]
        # Peer discovery from the config: the first node boots alone, the others join it
        # as they boot (no stop_app/join_cluster round trips: each CLI call costs seconds).
        peers = "cluster_formation.peer_discovery_backend = classic_config\n" + "".join(
            "cluster_formation.classic_config.nodes.%d = %s@localhost\n" % (i + 1, n) for i, n in enumerate(names))
        self.nodes = [RabbitMQ(n, workdir=os.path.join(self.dir, "n%d" % i), home=self.dir, epmd=self.epmd,
                               extra=peers + self.extra) for i, n in enumerate(names)]
        self.nodes[0].start(timeout)
        for n in self.nodes[1:]:
            n.spawn()
        for n in self.nodes[1:]:
            n.wait(timeout, ctl=False)
        self.nodes[0].ctl("await_online_nodes", str(self.size), "--timeout", str(timeout))
        if self.definitions is not None:
            self.load(self.definitions)
        return self

    def load(self, definitions):
        """Import definitions into the running cluster (queues get all members)."""
        path = os.path.join(self.dir, "definitions-%s.json" % secrets.token_hex(3))
        with open(path, "w") as f:
            json.dump(definitions, f)
        self.nodes[0].ctl("import_definitions", path)

    def stop(self):
        for n in reversed(self.nodes):
            n.stop()
        if self.epmd is not None:
            self.epmd.stop()
            self.epmd = None
