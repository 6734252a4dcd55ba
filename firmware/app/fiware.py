# The FIWARE IoT Agent for JSON contract: topics and measure payloads.
# A measure is a flat JSON object with an ISO "TimeInstant"; several buffered
# measures of one device go as a JSON array (never a one-element array).


def attrs_topic(apikey, device_id):
    return "/json/%s/%s/attrs" % (apikey, device_id)


def cmd_topic(apikey, device_id):
    return "/%s/%s/cmd" % (apikey, device_id)


def cmdexe_topic(apikey, device_id):
    return "/json/%s/%s/cmdexe" % (apikey, device_id)


def batch(objects):
    """Join encoded JSON objects (bytes) into one measures payload."""
    if len(objects) == 1:
        return objects[0]
    return b"[" + b",".join(objects) + b"]"
