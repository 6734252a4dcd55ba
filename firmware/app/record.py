# A reading as it travels from a pipeline through the log to the uplink:
# its address '<apikey>/<device_id>', a space, its FIWARE JSON object (bytes).


def pack(key, obj):
    return key.encode() + b" " + obj


def split(rec):
    """-> (key bytes, JSON object bytes); works on bytes and memoryview."""
    rec = bytes(rec)
    i = rec.find(b" ")
    return rec[:i], rec[i + 1:]
