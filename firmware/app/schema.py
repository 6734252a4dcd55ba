# The one configuration schema: the device enforces it on /config.json and on
# remote `config` updates; host_tools enforces it when provisioning. Runs under
# MicroPython and CPython alike. validate() returns an error per bad field as
# (dotted field name, what a good value looks like), e.g.
# ("traffic.lanes[1].spacing_m", "a number >= 0").
#
# SPECS is the whole schema, one line of "key:kind" per object (README.md has
# what each key means). Strings rather than dicts of tuples: on an ESP32 the
# table then costs a few constant strings at import, not a heap of objects.
# A kind is a letter (see _bad), "{spec}" (an object), "[spec]" (a list of
# objects); a trailing "!" means required. The device accepts unknown keys (an
# older firmware must boot with a newer config); `provision` (strict) refuses
# them (typos).

SECRETS = (("wifi", "password"), ("broker", "password"), ("broker", "key"))
APIKEY_KINDS = ("device", "air", "parking", "traffic")
_BAD_NAME_CHARS = " /#+\"'"
_S = "(1,86400)"  # whole-day bound for periods in seconds
_LASER = "uart:t query:b duty:D filters:F"
_I2C = "i2c:t address:a every:p(0.1,86400) retry:p(1,86400) filters:F"
_LIMITS = ("threshold:n(0,1000000) release:n(0,1000000) fault:n(0,10000000) debounce:n(0,3600) "
           "drift:p(1,1000000) timeout:p(1,86400) autocalibrate:n(0,86400)")

# Numbers carry the range the node can honour, "kind(lo,hi)": finite, within the
# protocol's field (MQTT keepalive is 16 bits), never so small that a timer spins
# (health.interval 1e-9) nor so large that it wraps or never fires (10**400).
SPECS = {
    "": "device_id:I! municipality:M apikey:K! board:I interval:T location:{location} broker:{broker} "
        "wifi:{wifi} air:{air} parking:{parking} traffic:{traffic} log:{log} ntp:{ntp} health:{health} "
        "display:{display} power:{power} ota:{ota}",
    "location": "lat:Y! lon:X!",
    "broker": "host:h! port:o tls:b ca:t cert:t key:t server_hostname:h tls_insecure_skip_verify:b "
              "user:t password:t keepalive:i(1,65535) timeout:i(1,60) backoff_base:p(0.1,3600) "
              "backoff_cap:p(0.1,86400) window:i(1,32) trial_attempts:i(1,100) topic_prefix:E hosts:H",
    "wifi": "ssid:W! password:w",
    "ntp": "server:h port:o every:p(60,604800) retry:p(1,86400)",
    "health": "interval:p(1,86400)",
    "ota": "key:t ca:t trial:i(5,86400) timeout:i(1,120)",
    "watchdog": "timeout:i(2,3600) stable:i(10,86400)",
    "display": "enabled:b period:p(0.1,3600)",
    # app/power.py: window >= a spot's debounce, or it wakes and sleeps unsure
    "power": "profile:P sense:{sense} debounce:p(0.001,10) window:p(10,3600) publish:p(5,3600) "
             "sleep:p(10,86400)",
    "sense": "pin:N(0,48) adc:N(0,48) active:N(0,1) threshold:n(0,3300)",
    "log": "label:t file:t sectors:i(3,4096)",
    "air": "sensors:{sensors} duty:D filters:G stuck:{stuck} humid:n(0,100)",
    "sensors": "sds011:{sds011} pms5003:{pms5003} sps30:{sps30} bme280:{bme280} scd4x:{scd4x} dht22:{dht22}",
    "sds011": _LASER,
    "pms5003": _LASER + " climate:b set_pin:N(0,48)",
    "sps30": _LASER,
    "bme280": _I2C,
    "scd4x": _I2C + " single:b",
    "dht22": "data:N(0,48) every:p(2,86400) retry:p(1,86400) filters:F",
    "duty": "period:p" + _S + " warmup:n(0,3600) sample:p(1,3600)",
    "reject": "window:i(1,255) ratio:n(0,1000) floor:n(0,1000000)",
    "stuck": "seconds:p(1,2592000) samples:i(1,1000000)",
    "parking": "spots:[spot] site:{site} heartbeat:p" + _S + " sample_hz:i(1,1000) " + _LIMITS,
    "site": "id:I name:t offstreet:b",  # the platform's parking site (fleet tools only)
    "spot": "spot:i(1,99) sensor:{mag} ranger:{mag} axes:i(1,12) baseline:B " + _LIMITS,
    "mag": "type:t i2c:t ultrasonic:t max_mm:p(1,10000) rate:p(0.1,1000) gauss:p(0.1,100)",
    "traffic": "lanes:[lane] sample_hz:i(1,1000) threshold:n(0,1000000) release:n(0,1000000) gap:p(0.01,60) "
               "autocalibrate:n(0,86400) radar_gap:p(0.01,60) stuck_on:p" + _S + " dead_after:p(1,2592000) "
               "min_quiet:p" + _S + " doppler_poll_ms:i(10,1000)",
    "lane": "lane:i(1,99) presence:L spacing_m:n(0,100) magnetometer:m axes:i(1,12) baseline:B radar:t radar_unit:t "
            "doppler:t hz_per_kmh:p(1,1000) min_kmh:p(0.5,100)",
}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    # finite: nan != nan, inf - inf is nan (MicroPython's json reads 1e999 as inf)
    return (_is_int(v) or isinstance(v, float)) and v - v == 0


def _name(v, maxlen=64):
    if not isinstance(v, str) or not v or len(v) > maxlen:
        return False
    for c in v:
        if c in _BAD_NAME_CHARS:
            return False
    return True


def _host_port(v):
    if not isinstance(v, str) or not v or " " in v:
        return False
    name, _, port = v.rpartition(":")
    if not name:
        return True
    return port.isdigit() and 1 <= int(port) <= 65535 and len(name) > 0


def _municipality(v):
    # It becomes the FIWARE service header: lower case letters, digits, '_'.
    if not isinstance(v, str) or not 0 < len(v) <= 50:
        return False
    for c in v:
        if not ("a" <= c <= "z" or "0" <= c <= "9" or c == "_"):
            return False
    return True


def _bad(kind, v):
    """-> what a good value looks like if v is not one of `kind`, else None."""
    if len(kind) > 1:  # "p(lo,hi)": a number kind within a range
        c = kind.find(",")
        lo, hi = kind[2:c], kind[c + 1:-1]
        whole = kind[0] in "iN"
        if (_is_int(v) if whole else _is_num(v)) and float(lo) <= v <= float(hi) and (
                kind[0] != "p" or v > 0):
            return None
        return "%s from %s to %s" % ("a whole number" if whole else "a number", lo, hi)
    if kind == "t":
        return None if isinstance(v, str) else "text"
    if kind == "b":
        return None if isinstance(v, bool) else "true or false"
    if kind == "h":
        return None if isinstance(v, str) and v and " " not in v else "a host name or IP address"
    if kind == "p":
        return None if _is_num(v) and v > 0 else "a number > 0"
    if kind == "n":
        return None if _is_num(v) and v >= 0 else "a number >= 0"
    if kind == "i":
        return None if _is_int(v) and v >= 1 else "a whole number >= 1"
    if kind == "N":
        return None if _is_int(v) and v >= 0 else "a whole number >= 0"
    if kind == "o":
        return None if _is_int(v) and 1 <= v <= 65535 else "a TCP port from 1 to 65535"
    if kind == "a":
        return None if _is_int(v) and 8 <= v <= 119 else "a 7-bit I2C address, 8 to 119 (0x08-0x77)"
    if kind == "P":
        return None if v in ("mains", "switched", "battery") else '"mains", "switched" or "battery"'
    if kind == "T":
        return None if _is_int(v) and 1 <= v <= 86400 else "whole seconds from 1 to 86400"
    if kind == "Y":
        return None if _is_num(v) and -90 <= v <= 90 else "degrees from -90 to 90 (WGS 84)"
    if kind == "X":
        return None if _is_num(v) and -180 <= v <= 180 else "degrees from -180 to 180 (WGS 84)"
    if kind == "I":
        return None if _name(v) else "a name of at most 64 characters without spaces, quotes, '/', '#' or '+'"
    if kind == "M":
        return None if _municipality(v) else "lower-case letters, digits and '_' (at most 50), e.g. 'ljubljana'"
    if kind == "W":
        return None if isinstance(v, str) and 1 <= len(v.encode()) <= 32 else "the network name, 1 to 32 bytes"
    if kind == "w":
        ok = isinstance(v, str) and (v == "" or 8 <= len(v) <= 63)
        return None if ok else "8 to 63 characters (WPA2), or empty for an open network"
    if kind == "d":  # keys owned by the part that reads them
        return None if isinstance(v, dict) else "an object"
    if kind == "B":
        ok = isinstance(v, list) and len(v) <= 12 and all(_is_num(x) and -1e6 <= x <= 1e6 for x in v)
        return None if ok else "a list of at most 12 numbers from -1000000 to 1000000"
    if kind == "E":
        ok = v == "/json" or v == ""
        return None if ok else '"/json" (the IoT Agent\'s MQTT binding) or "" (its AMQP binding, via RabbitMQ)'
    if kind == "H":
        ok = isinstance(v, list) and len(v) <= 8 and all(_host_port(x) for x in v)
        return None if ok else 'a list of at most 8 "host" or "host:port" (port 1 to 65535)'
    if kind == "L":
        ok = isinstance(v, list) and all(_name(x) for x in v)
        return None if ok else "a list of input names"
    return "a value of kind %r" % kind  # a spec names a kind that does not exist


def _at(path, key):
    return path + "." + key if path else key


def _object(spec, v, path, err, strict):
    if not isinstance(v, dict):
        err(path, "an object")
        return
    s = SPECS[spec]
    i, end = 0, len(s)
    while i < end:  # scanned in place: no list of items per object (heap on a device)
        c = s.find(":", i)
        e = s.find(" ", c)
        e = end if e < 0 else e
        key = s[i:c]
        i = e + 1
        if s[e - 1] == "!":
            e -= 1
            if key not in v:
                err(_at(path, key), "required")
                continue
        if key in v:
            kind = s[c + 1:e]
            if kind[0] not in _COMPOUND:
                msg = _bad(kind, v[key])
                if msg:  # the dotted name is built only for an error
                    err(_at(path, key), msg)
            else:
                _value(kind, v[key], _at(path, key), err, strict)
    if strict:
        for key in v:
            if (" %s:" % key) not in " " + s:
                err(_at(path, str(key)), "unknown field (known: %s)"
                    % ", ".join(sorted(item.split(":")[0] for item in s.split())))


_COMPOUND = "{[KDmFG"  # kinds _value checks; the rest are _bad's


def _value(kind, v, path, err, strict):
    if kind[0] == "{":
        _object(kind[1:-1], v, path, err, strict)
    elif kind[0] == "[":
        if not isinstance(v, list):
            err(path, "a list of objects")
            return
        for i, x in enumerate(v):
            _object(kind[1:-1], x, "%s[%d]" % (path, i), err, strict)
    elif kind == "K":
        _apikey(v, path, err)
    elif kind == "D":  # duty cycle: true or {} = the defaults
        if v is not True and v is not False:
            _object("duty", v, path, err, strict)
    elif kind == "m":  # a replayed magnetometer is just true
        if v is not True and v is not False:
            _object("mag", v, path, err, strict)
    elif kind == "F":
        _filters(v, path, err, strict)
    else:  # "G": {sensor name: filter list}
        if not isinstance(v, dict):
            err(path, "an object {sensor name: [filters]}")
            return
        for k in v:
            _filters(v[k], _at(path, str(k)), err, strict)


def _filters(v, path, err, strict):
    if not isinstance(v, list):
        err(path, 'a list of filters, e.g. [{"median": 5}]')
        return
    for i, f in enumerate(v):
        at = "%s[%d]" % (path, i)
        if not isinstance(f, dict) or len(f) != 1:
            err(at, 'one filter: {"median": n}, {"mean": n} or {"reject": ...}')
            continue
        for k in f:
            if k == "reject" and isinstance(f[k], dict):
                _object("reject", f[k], at + ".reject", err, strict)
            elif k in ("median", "mean", "reject"):
                if _bad("i(1,255)", f[k]):
                    err(at + "." + k, "a window of n >= 1 samples")
            else:
                err(at + "." + str(k), "unknown filter (median, mean, reject)")


def _apikey(v, path, err):
    if isinstance(v, dict):
        if not v:
            err(path, "a key string, or a key per kind: " + ", ".join(APIKEY_KINDS))
        for k in v:
            if k not in APIKEY_KINDS:
                err(_at(path, str(k)), "unknown kind (one of %s)" % ", ".join(APIKEY_KINDS))
            elif not _name(v[k]):
                err(_at(path, k), "a non-empty key without spaces, quotes, '/', '#' or '+'")
    elif not _name(v):
        err(path, "a non-empty key without spaces, quotes, '/', '#' or '+'")


def _broker_rules(b, err):
    # Rules across fields, as app.mqtt.tls_context needs them.
    if b.get("tls") is True and not b.get("ca") and b.get("tls_insecure_skip_verify") is not True:
        err("broker.ca", "required with tls (the municipality's CA, PEM), unless tls_insecure_skip_verify")
    if b.get("cert") and not b.get("key"):
        err("broker.key", "required with cert")


def validate(cfg, strict=False):
    """-> list of (field, message) for every bad field; empty if cfg is acceptable.

    strict: unknown keys are errors too (provisioning catches typos)."""
    if not isinstance(cfg, dict):
        return [("", "config must be a JSON object")]
    errors = []

    def err(field, msg):
        errors.append((field, msg))

    _object("", cfg, "", err, strict)
    k = cfg.get("apikey")
    if isinstance(k, dict) and k:  # a key per kind: one for every kind the node publishes
        for kind in APIKEY_KINDS:
            if kind not in k and (kind == "device" or kind in cfg):
                err("apikey." + kind, "required: the node publishes %s readings" % kind)
    if isinstance(cfg.get("broker"), dict):
        _broker_rules(cfg["broker"], err)
    return errors


def known(section):
    """Is `section` a top-level config field of this schema?"""
    return (" " + section + ":") in " " + SPECS[""]


def merged(base, over):
    out = dict(base)
    for k in over:
        v = over[k]
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merged(out[k], v)
        else:
            out[k] = v
    return out


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
