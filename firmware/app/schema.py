# The one configuration schema: the device enforces it on /config.json and on
# remote `config` updates; host_tools enforces it when provisioning. Runs under
# MicroPython and CPython alike. Each check returns an error per bad field as
# (dotted field name, what a good value looks like).
#
# Sections other parts own (air, parking, traffic, log, ...) register a
# checker in SECTIONS; the device accepts unknown top-level keys (an older
# firmware must boot with a newer config), `provision` refuses them (typos).

SECRETS = (("wifi", "password"), ("broker", "password"), ("broker", "key"))
APIKEY_KINDS = ("device", "air", "parking", "traffic")
_BAD_NAME_CHARS = " /#+\"'"


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return (_is_int(v) or isinstance(v, float)) and v == v


def _name(v, maxlen=64):
    if not isinstance(v, str) or not v or len(v) > maxlen:
        return False
    for c in v:
        if c in _BAD_NAME_CHARS:
            return False
    return True


def _check_device_id(v, err):
    if not _name(v):
        err("device_id", "a non-empty name of at most 64 characters without spaces, quotes, '/', '#' or '+'")


def _check_municipality(v, err):
    # It becomes the FIWARE service header: lower case letters, digits, '_'.
    ok = isinstance(v, str) and 0 < len(v) <= 50
    if ok:
        for c in v:
            if not ("a" <= c <= "z" or "0" <= c <= "9" or c == "_"):
                ok = False
    if not ok:
        err("municipality", "lower-case letters, digits and '_' (at most 50), e.g. 'ljubljana'")


def _check_apikey(v, err):
    if isinstance(v, dict):
        if not v:
            err("apikey", "a key string, or a key per kind: " + ", ".join(APIKEY_KINDS))
        for k in v:
            if k not in APIKEY_KINDS:
                err("apikey." + str(k), "unknown kind (one of %s)" % ", ".join(APIKEY_KINDS))
            elif not _name(v[k]):
                err("apikey." + k, "a non-empty key without spaces, quotes, '/', '#' or '+'")
    elif not _name(v):
        err("apikey", "a non-empty key without spaces, quotes, '/', '#' or '+'")


def _check_board(v, err):
    if not _name(v):
        err("board", "the name of a board profile, e.g. 'esp32-devkitc'")


def _check_interval(v, err):
    if not _is_int(v) or not 1 <= v <= 86400:
        err("interval", "whole seconds from 1 to 86400")


def _check_location(v, err):
    if not isinstance(v, dict):
        err("location", "an object {\"lat\": ..., \"lon\": ...}")
        return
    for k, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
        x = v.get(k)
        if not _is_num(x) or not lo <= x <= hi:
            err("location." + k, "degrees from %d to %d (WGS 84)" % (lo, hi))


def _check_broker(v, err):
    if not isinstance(v, dict):
        err("broker", "an object {\"host\": ..., \"port\": ...}")
        return
    h = v.get("host")
    if not isinstance(h, str) or not h or " " in h:
        err("broker.host", "a host name or IP address")
    p = v.get("port", 1883)
    if not _is_int(p) or not 1 <= p <= 65535:
        err("broker.port", "a TCP port from 1 to 65535")
    for k in ("user", "password", "ca", "key", "cert"):
        if k in v and v[k] is not None and not isinstance(v[k], str):
            err("broker." + k, "text")
    if "tls" in v and not isinstance(v["tls"], bool):
        err("broker.tls", "true or false")


def _check_wifi(v, err):
    if not isinstance(v, dict):
        err("wifi", "an object {\"ssid\": ..., \"password\": ...}")
        return
    s = v.get("ssid")
    if not isinstance(s, str) or not 1 <= len(s.encode()) <= 32:
        err("wifi.ssid", "the network name, 1 to 32 bytes")
    pw = v.get("password", "")
    if not isinstance(pw, str) or not (pw == "" or 8 <= len(pw) <= 63):
        err("wifi.password", "8 to 63 characters (WPA2), or empty for an open network")


def _check_sensors_section(section):
    def check(v, err):
        if not isinstance(v, dict):
            err(section, "an object")
            return
        s = v.get("sensors", {})
        if not isinstance(s, dict):
            err(section + ".sensors", "an object {sensor name: {bus settings}}")
            return
        for name in s:
            if not isinstance(s[name], dict):
                err("%s.sensors.%s" % (section, name), "an object of bus settings, e.g. {\"uart\": \"pm\"}")
    return check


def _check_section(name):
    def check(v, err):
        if not isinstance(v, dict):
            err(name, "an object")
    return check


SECTIONS = {
    "device_id": _check_device_id,
    "municipality": _check_municipality,
    "apikey": _check_apikey,
    "board": _check_board,
    "interval": _check_interval,
    "location": _check_location,
    "broker": _check_broker,
    "wifi": _check_wifi,
    "air": _check_sensors_section("air"),
    "parking": _check_sensors_section("parking"),
    "traffic": _check_sensors_section("traffic"),
    "log": _check_section("log"),
    "display": _check_section("display"),
}
REQUIRED = ("device_id", "apikey")


def validate(cfg, strict=False):
    """-> list of (field, message) for every bad field; empty if cfg is acceptable.

    strict: unknown top-level keys are errors too (provisioning catches typos)."""
    if not isinstance(cfg, dict):
        return [("", "config must be a JSON object")]
    errors = []

    def err(field, msg):
        errors.append((field, msg))

    for name in REQUIRED:
        if name not in cfg:
            err(name, "required")
    for name in cfg:
        check = SECTIONS.get(name)
        if check is not None:
            check(cfg[name], err)
        elif strict:
            err(name, "unknown field (known: %s)" % ", ".join(sorted(SECTIONS)))
    return errors


def merged(base, over):
    out = dict(base)
    for k in over:
        v = over[k]
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merged(out[k], v)
        else:
            out[k] = v
    return out


def update(cfg, changes):
    """A remote config update: -> (new config, []) or (cfg unchanged, errors)."""
    if not isinstance(changes, dict):
        return cfg, [("", "a config update must be a JSON object")]
    new = merged(cfg, changes)
    errors = validate(new)
    return (cfg, errors) if errors else (new, [])


def masked(cfg):
    """A copy fit for showing: secrets replaced by '***'."""
    out = merged(cfg, {})
    for section, key in SECRETS:
        sec = out.get(section)
        if isinstance(sec, dict) and sec.get(key):
            sec = dict(sec)
            sec[key] = "***"
            out[section] = sec
    return out
