# Remote commands from the IoT Agent: `{"<command>": <parameters>}` on
# /<apikey>/<device_id>/cmd, answered `{"<command>": <result>}` on
# /json/<apikey>/<device_id>/cmdexe.  Whatever arrives (garbage, huge, unknown,
# wrong types) gets an error result and never raises out of handle().  Every failure
# reads "ERROR <why>": the agent sets <command>_status OK for any answer, so only
# <command>_info tells an operator that a command failed.  A message that names no
# command (not JSON, not an object) is answered as command "error".
import json

from app.config import load_schema, release_schema

MAX_PAYLOAD = 1024
MAX_COMMANDS = 4  # members per message
RESTART_SECTIONS = ("broker", "wifi", "device_id", "apikey")  # need a new connection
REBOOT_SECTIONS = ("log", "display", "board", "power")  # read once at boot


class Deferred:
    """A result that comes later (a config trial, a reboot after the answer)."""

    def __init__(self, kind, cfg=None, partial=None):
        self.kind = kind
        self.cfg = cfg
        self.partial = partial  # what the command changes, for a trial begun later


def error(msg):
    return "ERROR " + msg


class ConfigStore:
    """The config file, written atomically; `<path>.good` holds the last known
    good config while a new one is on trial."""

    def __init__(self, path):
        self.path = path
        self.good = path + ".good"

    @staticmethod
    def _text(cfg):
        # Never write what would not load again: MicroPython writes a float
        # infinity as `inf`, which no JSON reader takes back.
        text = json.dumps(cfg)
        try:
            ok = json.loads(text) == cfg and not load_schema().validate(cfg)
        except ValueError:
            ok = False
        finally:
            release_schema()
        if not ok:
            raise ValueError("config would not load again")
        return text

    @staticmethod
    def _put(path, text):
        import os

        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.rename(path + ".tmp", path)

    def save(self, cfg):
        self._put(self.path, self._text(cfg))

    def begin_trial(self, good, new):
        new_text = self._text(new)  # both checked before either is written
        self._put(self.good, self._text(good))
        self._put(self.path, new_text)

    def in_trial(self):
        try:
            open(self.good).close()
            return True
        except OSError:
            return False

    def commit(self):
        import os

        try:
            os.remove(self.good)
        except OSError:
            pass

    def rollback(self):
        """-> the last known good config, written back as the config."""
        import os

        with open(self.good) as f:
            good = json.load(f)
        os.rename(self.good, self.path)
        return good


def _data(params):
    """The IoT Agent wraps a command's value as {"data": ...}; accept it bare too."""
    if isinstance(params, dict) and "data" in params:
        return params["data"]
    return params


class Commands:
    """cfg: the live config (updated in place); node: has command(name, params);
    store: ConfigStore or None; apply(cfg, changed): re-applies a changed config."""

    def __init__(self, cfg, node, store=None, apply=None):
        self.cfg = cfg
        self.node = node
        self.store = store
        self.apply = apply
        self.handled = 0
        self.rejected = 0

    def handle(self, payload):
        """-> list of (command name, result); result is JSON-able or a Deferred."""
        try:
            return self._handle(payload)
        except Exception as e:  # a bug must not take the node down with it
            self.rejected += 1
            return [("error", error("internal: %r" % e))]

    def _handle(self, payload):
        if payload is None or len(payload) > MAX_PAYLOAD:
            self.rejected += 1
            return [("error", error("command larger than %d bytes" % MAX_PAYLOAD))]
        body = payload.strip()
        try:
            # MicroPython's json accepts a truncated object: insist on a whole one.
            if body[:1] != b"{" or body[-1:] != b"}":
                raise ValueError
            msg = json.loads(body)
        except Exception:
            self.rejected += 1
            return [("error", error("not JSON"))]
        if not isinstance(msg, dict) or not msg:
            self.rejected += 1
            return [("error", error('expected {"<command>": <parameters>}'))]
        out = []
        for name, params in msg.items():
            if len(out) >= MAX_COMMANDS:
                out.append(("error", error("at most %d commands per message" % MAX_COMMANDS)))
                break
            fn = getattr(self, "cmd_" + name, None) if name.isalpha() else None
            if fn is None:
                self.rejected += 1
                out.append((name[:32], error("unknown command")))
                continue
            self.handled += 1
            try:
                result = fn(params)
            except Exception as e:  # a bug: the answer still names the command (its _info)
                result = error("internal: %r" % e)
            out.append((name, result))
        return out

    def cmd_ping(self, params):
        d = _data(params)
        if isinstance(d, (str, int, float)) and not isinstance(d, bool) and len(str(d)) <= 64:
            return "pong %s" % d
        return "pong"

    def cmd_reboot(self, params):
        return Deferred("reboot")

    def cmd_interval(self, params):
        d = _data(params)
        if isinstance(d, str):
            try:
                d = int(d)
            except ValueError:
                return error("interval: whole seconds")
        return self._update({"interval": d})

    def cmd_calibrate(self, params):
        result = self.node.command("calibrate", _data(params))
        return error("no sensor to calibrate") if result is None else result

    def cmd_update(self, params):
        """{"url": "https://.../x.snup", "force": false} or the URL alone: an update
        over the air (app.ota), answered as it goes; {"size": N}: the package follows
        in `chunk` commands."""
        d = _data(params)
        if isinstance(d, str):
            d = {"url": d}
        size = d.get("size") if isinstance(d, dict) else None
        if not isinstance(d, dict) or not (
                (isinstance(size, int) and not isinstance(size, bool) and 0 < size < 1 << 24)
                or (isinstance(d.get("url"), str)
                    and (d["url"].startswith("http://") or d["url"].startswith("https://")))):
            return error('update: {"url": "http(s)://server/package.snup"} or {"size": bytes}')
        if not isinstance(d.get("force", False), bool):
            return error("update: force is true or false")
        return Deferred("update", partial=d)

    def cmd_chunk(self, params):
        """{"at": offset, "b64": base64}: a piece of an update sent over MQTT."""
        d = _data(params)
        if not isinstance(d, dict) or not isinstance(d.get("at"), int) or not isinstance(d.get("b64"), str):
            return error('chunk: {"at": offset, "b64": base64}')
        return Deferred("chunk", partial=d)

    def cmd_otakey(self, params):
        """A key rotation from `smartnode release rotate`: trust a new update key,
        on the word of the one trusted now."""
        d = _data(params)
        key = (self.cfg.get("ota") or {}).get("key")
        if not isinstance(d, dict) or not isinstance(d.get("statement"), str) or not isinstance(d.get("sig"), str):
            return error('otakey: {"statement": ..., "sig": ...} from smartnode release rotate')
        if not key:
            return error("otakey: no ota.key in the config to vouch for a new one")
        from app import ota

        try:
            ota.check_signature(ota.unhexlify(key), d["statement"].encode(), d["sig"])
            new = json.loads(d["statement"])["trust"]
            from app import ecdsa

            ecdsa.public_key(ota.unhexlify(new))
            kid = ota.key_id(ota.unhexlify(new))
        except (ValueError, KeyError, TypeError) as e:
            return error("otakey: refused (%s): not signed by the key this node trusts" % (e.args[0] if e.args else "bad"))
        finally:
            ota.release()
        ota_cfg = dict(self.cfg.get("ota") or {})
        ota_cfg["key"] = new
        result = self._update({"ota": ota_cfg})
        return "OK trusting key %s" % kid if result == "OK" else result

    def cmd_config(self, params):
        d = _data(params)
        if isinstance(d, str):
            try:
                d = json.loads(d)
            except Exception:
                return error("config: not JSON")
        return self._update(d)

    def _update(self, partial):
        try:
            return self._checked_update(load_schema(), partial)
        finally:
            release_schema()

    def _checked_update(self, schema, partial):
        if not isinstance(partial, dict) or not partial:
            return error("config: expected a JSON object of fields")
        unknown = [k for k in partial if not schema.known(k) and k not in self.cfg]
        if unknown:
            return error("unknown config field %s" % ", ".join(unknown)[:64])
        if _has_null(partial):
            return error("config: null is not a value")
        new = schema.merged(self.cfg, partial)
        errors = schema.validate(new)
        if errors:
            return error("; ".join("%s: %s" % fe for fe in errors))
        if any(k in partial for k in RESTART_SECTIONS):
            return Deferred("trial", new, partial)  # persisted and tried by the link
        if self.store:
            try:
                self.store.save(new)
            except (OSError, ValueError) as e:
                return error("config not saved: %s" % e)
        self.cfg.clear()
        self.cfg.update(new)
        if self.apply:
            self.apply(self.cfg, partial)
        later = [k for k in partial if k in REBOOT_SECTIONS]
        return "OK, %s after the next reboot" % ", ".join(later) if later else "OK"


def _has_null(d):
    for v in d.values():
        if v is None or (isinstance(v, dict) and _has_null(v)):
            return True
    return False

