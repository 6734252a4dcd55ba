# A reading as it travels from a pipeline through the log to the uplink:
# the device id it belongs to, a space, and its FIWARE JSON object (bytes).


def pack(device_id, obj):
    return device_id.encode() + b" " + obj


def split(rec):
    """-> (device_id bytes, JSON object bytes); works on bytes and memoryview."""
    rec = bytes(rec)
    i = rec.find(b" ")
    return rec[:i], rec[i + 1:]
