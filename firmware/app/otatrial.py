# A version installed over the air runs on trial (boot.py: /trial) until it has
# published: then it confirms itself (removes /trial). If it cannot publish
# within ota.trial seconds it reboots, and boot.py puts the previous version
# back, which reports why on cmdexe (`update`) and in health (lastUpdate, lastError).
# /ota.json keeps the last update: {"from", "to", "result", "why"}.
# Imported at boot only when /trial or /ota.json exists.
import json
import os
import time

ROOT = ""  # where /cur, /next, /prev live (a directory in the tests)
STATE = "/ota.json"
TRIAL = "/trial"
TRIAL_S = 300  # default ota.trial


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def load():
    try:
        with open(ROOT + STATE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def put(p, text):
    """Write a small file in one rename (cut-safe)."""
    with open(p + ".tmp", "w") as f:
        f.write(text)
    os.rename(p + ".tmp", p)


def save(st):
    try:
        put(ROOT + STATE, json.dumps(st))
    except OSError:
        pass


def running_version():
    from app.health import bundle_version

    return bundle_version(ROOT)


def report(shell, text):
    shell.link.answers.append(("update", text))
    shell.last_update = text
    if text.startswith("ERROR"):
        shell.link.last_error = "update: " + text


def start(shell):
    """At boot: -> a Trial while this version is on trial, else None. A result not
    reported yet (a rollback) is reported now."""
    st = load() or {}
    shell.last_update = st.get("result")
    if exists(ROOT + TRIAL):
        return Trial(st, ((shell.cfg.get("ota") or {}).get("trial", TRIAL_S)))
    if st.get("to") and st.get("result") is None:
        running = running_version()
        if running == st.get("from"):
            why = st.get("why") or "%s reset before it published" % st["to"]
            st["result"] = "ERROR rolled back to %s: %s" % (running, why)
        else:  # replaced meanwhile (a deploy over USB)
            st["result"] = "ERROR %s was replaced by %s" % (st["to"], running)
        save(st)
        report(shell, st["result"])
    return None


class Trial:
    def __init__(self, st, trial_s):
        self.st = st
        self.trial_ms = int(trial_s * 1000)
        self.began = time.ticks_ms()

    def step(self, shell, now):
        """From the network task. -> False once the trial is over (confirmed)."""
        st = self.st
        if shell.uplink.acked:
            try:
                os.remove(ROOT + TRIAL)
            except OSError:
                pass
            st["result"] = "OK %s confirmed: it published" % (running_version() or st.get("to"))
            save(st)
            report(shell, st["result"])
            return False
        if time.ticks_diff(now, self.began) > self.trial_ms:
            st["why"] = "%s did not publish within %d s (%s)" % (
                st.get("to") or running_version(), self.trial_ms // 1000, shell.link.last_error)
            save(st)
            shell.board.reboot()  # boot.py finds /trial: the previous version comes back
        return True
