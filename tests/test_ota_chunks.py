"""An update sent in chunks over MQTT, where no HTTP server is wanted: `smartnode fleet
update` without --url pushes a signed package to a virtual node through a real Mosquitto;
the node streams it into /next, checks it and confirms the new version once it publishes."""
import json
import subprocess
import sys

from host_tools import release
from tests.test_ota_update import broker, bundle, keys, node, publishing, running  # noqa: F401
from tests.uplinkhelp import Collector


def test_fleet_update_sends_the_package_in_chunks_and_the_node_confirms(broker, node, keys, tmp_path):  # noqa: F811
    v4 = bundle(tmp_path, "c", "0.4.0")
    pkg = tmp_path / "v4.snup"
    release.package(v4, keys["town"], pkg)
    sec = tmp_path / "secrets.json"
    sec.write_text(json.dumps({"default": {"wifi": {"ssid": "lab", "password": "wifi-secret"}}}))
    col = Collector(broker.port, topic="/json/#", client_id="ota-chunks")
    try:
        publishing(col)
    finally:
        col.close()
    out = subprocess.run(
        [sys.executable, "-m", "host_tools", "fleet", "update", str(node.inventory), "--secrets", str(sec),
         "--package", str(pkg), "--broker", "127.0.0.1:%d" % broker.port, "--state", str(tmp_path / "st.json"),
         "--timeout", "60"], capture_output=True, text=True, timeout=170)
    assert out.returncode == 0, out.stdout + out.stderr
    st = json.loads((tmp_path / "st.json").read_text())
    assert st["nodes"]["vb-7"] == {"state": "ok", "version": "0.4.0", "answer": "OK 0.4.0 confirmed: it published"}
    assert "vb-7                 ok       0.4.0" in out.stdout
    assert running(node) == "0.4.0"
