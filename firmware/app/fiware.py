# The FIWARE IoT Agent for JSON contract: topics and measure payloads.
# A measure is a flat JSON object with an ISO "TimeInstant"; several buffered
# measures of one device go as a JSON array (never a one-element array).
#
# Entities of one node, each its own IoT Agent device:
#   <node id>          Device (health, commands)
#   <node id>-aq       AirQualityObserved
#   <node id>-p<n>     ParkingSpot n
#   <node id>-l<n>     TrafficFlowObserved, lane n
# The apikey is per municipality and sensor type: config "apikey" is one
# string for all, or {"device": ..., "air": ..., "parking": ..., "traffic": ...}.


def apikey(cfg, kind):
    k = cfg["apikey"]
    return k if isinstance(k, str) else k[kind]


def key(cfg, kind, device_id):
    """'<apikey>/<device_id>': what a reading in the log is addressed to."""
    return "%s/%s" % (apikey(cfg, kind), device_id)


def attrs_topic(key):
    return "/json/%s/attrs" % key


# The node's status on its Device entity: a single-attribute topic whose payload
# must be JSON (a bare `online` reaches the context broker hex-encoded).
ONLINE = '"online"'
OFFLINE = '"offline"'


def status_topic(cfg):
    return attrs_topic(key(cfg, "device", cfg["device_id"])) + "/deviceState"


def cmd_topic(apikey, device_id):
    return "/%s/%s/cmd" % (apikey, device_id)


def cmdexe_topic(apikey, device_id):
    return "/json/%s/%s/cmdexe" % (apikey, device_id)


def batch(objects):
    """Join encoded JSON objects (bytes) into one measures payload."""
    if len(objects) == 1:
        return objects[0]
    return b"[" + b",".join(objects) + b"]"
