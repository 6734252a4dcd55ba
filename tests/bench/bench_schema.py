# schema.import_bytes: heap held after `import app.schema` (the one config
#   schema; an ESP32 node imports it at boot), under the unix port from source.
# schema.validate_bytes: heap allocated by one validate() of a full config
#   (all sections), garbage included: what a remote `config` command costs.
import gc
import sys

sys.path.insert(0, "firmware")
gc.collect()
before = gc.mem_alloc()
from app import schema  # noqa: E402

gc.collect()
print("schema.import_bytes", gc.mem_alloc() - before, "bytes")

CFG = {"device_id": "lj-0007", "municipality": "ljubljana", "apikey": "k", "interval": 300,
       "location": {"lat": 46.05, "lon": 14.5},
       "broker": {"host": "mqtt.lj", "port": 8883, "tls": True, "ca": "/ca.pem", "keepalive": 60},
       "wifi": {"ssid": "city-iot", "password": "longenough"}, "ntp": {"every": 3600}, "health": {"interval": 300},
       "air": {"sensors": {"sds011": {"uart": "pm", "filters": [{"median": 5}]}, "bme280": {"i2c": "main"}},
               "duty": {"warmup": 30}},
       "parking": {"spots": [{"spot": 1, "sensor": {"type": "qmc5883l", "i2c": "main"}}]},
       "traffic": {"lanes": [{"lane": 1, "presence": ["a", "b"], "spacing_m": 4.5}]}}
gc.collect()
gc.disable()
before = gc.mem_alloc()
assert schema.validate(CFG, strict=True) == []
print("schema.validate_bytes", gc.mem_alloc() - before, "bytes")
gc.enable()
