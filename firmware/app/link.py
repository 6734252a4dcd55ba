# The node's connection to its broker, one step at a time (the run loop calls
# step() from its own asyncio task): network up, time known, connect (TLS,
# last will `offline`, birth `online`, command subscription), deliver, answer
# commands, keep alive; on any failure close and retry after a jittered
# exponential backoff.  No step waits for the network: the NTP exchange and
# the connect (TLS handshake included) advance a little on each step.  A
# config on trial is rolled back to the last known good one when the node
# cannot reach its broker with it.
import json
import time

from app import fiware
from app.backoff import Backoff
from app.commands import Deferred
from app.config import load_schema, release_schema
from app.console import say
from app.mqtt import Session, resolver, tls_context

MAX_ANSWERS = 32
STABLE_MS = 10000  # a connection up this long resets the backoff: one a broker drops at once does not


def brokers(b):
    """-> [(host, port)]: broker.host first, then broker.hosts ("host" or "host:port"),
    tried in turn when a connect fails (the members of a cluster)."""
    port = b.get("port", 8883 if b.get("tls") else 1883)
    out = [(b["host"], port)]
    for h in b.get("hosts") or ():
        name, _, p = h.rpartition(":")
        out.append((name, int(p)) if name else (h, port))
    return out


def new_session(cfg, index=0):
    """An MQTT session to broker `index` of brokers(), its last will `offline` set; not yet connected."""
    b = cfg["broker"]
    ctx = tls_context(b)
    hosts = brokers(b)
    host, port = hosts[index % len(hosts)]
    # Client id = login: a broker that binds them (use_username_as_clientid) sees no change.
    s = Session(b.get("user") or cfg["device_id"], host, port,
                b.get("user"), b.get("password"), b.get("keepalive", 60), ctx,
                b.get("server_hostname"), b.get("timeout", 5))
    s.set_last_will(fiware.status_topic(cfg), fiware.OFFLINE, retain=True, qos=1)
    return s


class Link:
    def __init__(self, cfg, board, uplink, commands, clock, store=None, random=None,
                 on_reconfigure=None, backoff=None):
        self.cfg = cfg
        self.board = board
        self.uplink = uplink
        self.commands = commands
        self.clock = clock
        self.store = store
        self.on_reconfigure = on_reconfigure  # (cfg) after a config change or rollback
        self.on_update = None  # (kind, params): `update` or `chunk`, over the air (app.ota)
        b = cfg["broker"]
        # backoff: another reconnect policy (the fleet simulator's fixed-interval baseline)
        self.backoff = backoff or Backoff(b.get("backoff_base", 1), b.get("backoff_cap", 300), random)
        self.session = None
        self.broker_index = 0  # which of brokers(cfg["broker"]) this connection tries
        self._next_try = time.ticks_ms()
        if getattr(board, "cause", None) == "power-on":
            # Maybe the whole street's power-on (a lighting circuit switched on at dusk, the
            # power back after a cut): spread as a reconnect is (Backoff.first). A deploy's
            # soft reset, a crash or a wake from deep sleep connects at once.
            self._next_try = time.ticks_add(self._next_try, int(self.backoff.first() * 1000))
        self._lost_at = None  # ticks_ms of the first failure since the last connection that held
        self._up_at = None
        self.answers = []  # (command, result) not yet published
        self.last_error = None
        self.connects = 0
        self.failures = 0
        self.trial = None  # [last known good cfg, failed attempts, answer]
        self.reboot_due = False
        self.trial_due = None  # a new config, tried once the commands already read are answered
        self._ntp = None  # the NTP exchange in flight
        self._sync_next = None
        if store is not None and store.in_trial():
            self.trial = [None, 0, None]  # rebooted during a trial: the good one is on flash

    @property
    def connected(self):
        return self.session is not None and self.session.connected

    def _new_session(self):
        return new_session(self.cfg, self.broker_index)

    def _established(self):
        s = self.session
        s.on_message = self._on_message
        dev = self.cfg["device_id"]
        s.subscribe(fiware.cmd_topic(fiware.apikey(self.cfg, "device"), dev), 1)
        s.publish(fiware.status_topic(self.cfg), fiware.ONLINE, retain=True, qos=1)
        self.uplink.attach(s)
        self.connects += 1
        self._up_at = time.ticks_ms()  # the backoff is reset once the connection holds (step)
        if self.trial is not None:
            if self.store:
                self.store.commit()
            if self.trial[2] is not None:
                self.answers.append(("config", self.trial[2]))
            self.trial = None

    def _fail(self, e, now):
        self.last_error = "%s: %r" % (type(e).__name__, e.args[0] if e.args else "")
        say("uplink:", self.last_error)
        hosts = brokers(self.cfg["broker"])
        resolver().failed(hosts[self.broker_index % len(hosts)][0])  # looked up afresh next time
        moved = False
        if self.session is not None:
            if not self.session.connected:  # a connect failed: the next broker in the list
                self.broker_index = (self.broker_index + 1) % len(hosts)
                moved = True
            self.session.close()
            self.session = None
        self.uplink.detach()
        self.failures += 1
        if self._lost_at is None:
            self._lost_at = now
        if moved and self.broker_index:  # another cluster member to try: at once; the backoff after a round
            self._next_try = time.ticks_add(now, 100)
        else:
            away = time.ticks_diff(now, self._lost_at) / 1000
            self._next_try = time.ticks_add(now, int(self.backoff.next(away) * 1000))
        if self.trial is not None:
            self.trial[1] += 1
            if self.trial[1] >= self.cfg["broker"].get("trial_attempts", 3):
                self._rollback()

    def _rollback(self):
        good = self.trial[0]
        if self.store is not None:
            try:
                good = self.store.rollback()
            except (OSError, ValueError) as e:  # no readable last known good on flash
                say("config: rollback:", repr(e))
        self.trial = None
        if good is None:
            return
        self._replace_cfg(good)
        self.answers.append(("config", "ERROR rolled back: broker unreachable (%s)" % self.last_error))
        self.backoff.reset()
        self._next_try = time.ticks_ms()

    def _replace_cfg(self, new):
        self.cfg.clear()
        self.cfg.update(new)
        b = new["broker"]
        self.backoff.base = b.get("backoff_base", 1)
        self.backoff.cap = b.get("backoff_cap", 300)
        if self.on_reconfigure:
            self.on_reconfigure(self.cfg)

    def _on_message(self, topic, payload):
        for name, result in self.commands.handle(payload):
            if isinstance(result, Deferred):
                if result.kind == "reboot":
                    self.reboot_due = True
                    result = "rebooting"
                elif result.kind == "trial":
                    if self.trial_due is not None:
                        self.answers.append(("config", "ERROR superseded by a later config"))
                    self.trial_due = result.partial
                    continue  # answered once the new config connects, or is rolled back
                elif result.kind in ("update", "chunk"):
                    if self.on_update is not None:
                        self.on_update(result.kind, result.partial)  # answers as it goes
                        continue
                    result = "ERROR this node cannot update over the air"
            if len(self.answers) < MAX_ANSWERS:  # a flood of commands cannot exhaust the heap
                self.answers.append((name, result))
        if self.session is not None:
            self._answer(self.session)  # at once: the answers never pile up

    def _start_trial(self, new):
        good = json.loads(json.dumps(self.cfg))
        if self.store is not None:
            self.store.begin_trial(good, new)
        self.trial = [good, 0, "OK"]
        self._replace_cfg(new)
        self.close()
        self.uplink.detach()
        self._next_try = time.ticks_ms()

    def _answer(self, s):
        topic = fiware.cmdexe_topic(fiware.apikey(self.cfg, "device"), self.cfg["device_id"],
                                    fiware.prefix(self.cfg))
        while self.answers:
            name, result = self.answers[0]
            s.publish(topic, json.dumps({name: result}), qos=1)
            self.answers.pop(0)

    def step(self):
        """Do what the network allows now, without waiting for it; -> ms until useful again.
        (Blocking left: a name lookup the cache lacks (app.resolve) and, once connected,
        a publish whose write finds the socket's send buffer full (broker.timeout).)"""
        now = time.ticks_ms()
        if self._ntp is not None or self.board.wifi_up():
            self._sync_time(now)
        if self.session is None:
            wait = time.ticks_diff(self._next_try, now)
            if wait > 0:
                return min(wait, 10 if self._ntp else 250)
            try:
                if not self.board.network_up(self.cfg):
                    raise OSError("network down")
                if self._ntp is not None and not self.clock.synced:
                    return 10  # certificates are checked against the date: wait for NTP
                self.session = self._new_session()
                self.session.begin()
            except Exception as e:
                self._fail(e, now)
                return 50
        s = self.session
        if not s.connected:  # connecting: one phase per step, sensing runs in between
            try:
                if not s.advance():
                    return 5
                self._established()
            except Exception as e:
                self._fail(e, now)
                return 50
        try:
            got = s.poll(0)
            self._answer(s)
            if self.trial_due is not None:  # only now: commands read with it are not lost
                partial, self.trial_due = self.trial_due, None
                try:  # merged now: updates answered meanwhile are kept
                    self._start_trial(load_schema().merged(self.cfg, partial))
                    return 0
                except (OSError, ValueError) as e:  # not written: the old config runs on
                    self.answers.append(("config", "ERROR config not saved: %s" % e))
                finally:
                    release_schema()
            if self.reboot_due:
                s.poll(200)  # let the answer's PUBACK come back
                s.disconnect()
                self.board.reboot()
            if self._lost_at is not None and time.ticks_diff(now, self._up_at) > STABLE_MS:
                self.backoff.reset()
                self._lost_at = None
            sent = self.uplink.step()
            s.keepalive_due(time.ticks_ms())
            if sent or not self.uplink.idle:
                s.poll(2)  # PUBACKs are on their way
                return 0
        except Exception as e:
            self._fail(e, now)
            return 50
        return 0 if got else 20

    def _sync_time(self, now):
        """Drive NTP: an exchange until the clock is known, then every ntp.every
        seconds; failures are not fatal."""
        q = self._ntp
        if q is None:
            if self._sync_next is not None and time.ticks_diff(self._sync_next, now) > 0:
                return
            ntp = self.cfg.get("ntp") or {}
            every = ntp.get("every", 3600) if self.clock.synced else ntp.get("retry", 30)
            self._sync_next = time.ticks_add(now, int(every * 1000))
            server = ntp.get("server", self.board.NTP_SERVER)
            if server:  # none: the platform keeps time (the unix port)
                from app.ntp import PORT, Exchange
                try:
                    self._ntp = Exchange(resolver().addr(server, ntp.get("port", PORT)))
                except Exception as e:
                    self.last_error = "ntp: %r" % (e,)
            return
        try:
            got = q.poll()
            if got is None:
                return
            before = self.board.now()
            self.board.set_clock(got[0], got[1])
            self.clock.synced_at(before, got[0])
        except Exception as e:
            self.last_error = "ntp: %r" % (e,)
        self._ntp = None
        q.close()

    def close(self):
        """Orderly disconnect (the broker drops the last will)."""
        if self.session is not None:
            try:
                self.session.disconnect()
            except Exception:
                pass
            self.session = None
