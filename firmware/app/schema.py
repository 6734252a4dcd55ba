# The one configuration schema: the device enforces it on /config.json and on
# remote `config` commands; host_tools enforces it when provisioning.
# (Runs under MicroPython and CPython alike.)


def validate(cfg):
    """-> list of (field, message) for every bad field; empty if cfg is acceptable."""
    errors = []
    if not isinstance(cfg, dict):
        return [("", "config must be a JSON object")]
    for name in ("device_id", "apikey"):
        if name not in cfg:
            errors.append((name, "required"))
    dev = cfg.get("device_id")
    if dev is not None and (not isinstance(dev, str) or not dev or " " in dev or "/" in dev):
        errors.append(("device_id", "a non-empty name without spaces or '/'"))
    iv = cfg.get("interval")
    if iv is not None and (not isinstance(iv, int) or isinstance(iv, bool) or not 1 <= iv <= 86400):
        errors.append(("interval", "whole seconds from 1 to 86400"))
    return errors
