"""`provision`: the fleet inventory is checked row by row against the node's own schema."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import provision

ROOT = Path(__file__).resolve().parent.parent
HEADER = "device_id,municipality,board,sensors,lat,lon,broker,apikey,interval\n"
SECRETS = {"default": {"wifi": {"ssid": "city-iot", "password": "longenough"},
                       "broker": {"user": "node", "password": "mqtt-secret"}},
           "ljubljana": {"wifi": {"ssid": "lj-iot"}}}


def write(tmp_path, rows):
    inv = tmp_path / "fleet.csv"
    inv.write_text(HEADER + "".join(r + "\n" for r in rows))
    sec = tmp_path / "secrets.json"
    sec.write_text(json.dumps(SECRETS))
    return inv, sec


def test_good_rows_become_configs_with_the_boards_wiring_and_layered_secrets(tmp_path):
    inv, sec = write(tmp_path, ["lj-0001,ljubljana,esp32-devkitc,sds011,46.0511,14.5051,mqtt.lj.si:8883,air=aq1;device=dv1,300",
                                "mb-0001,maribor,esp32-c3-devkitm,,46.5547,15.6459,mqtt.mb.si,mbkey,60"])
    fleet = provision.read_inventory(inv, provision.read_secrets(sec))
    cfg, profile = fleet["lj-0001"]
    assert cfg["apikey"] == {"air": "aq1", "device": "dv1"}
    assert cfg["broker"] == {"host": "mqtt.lj.si", "port": 8883, "user": "node", "password": "mqtt-secret"}
    assert cfg["wifi"] == {"ssid": "lj-iot", "password": "longenough"}  # municipality over default
    assert cfg["air"] == {"sensors": {"sds011": {"uart": "pm"}}} and profile["chip"] == "esp32"
    assert fleet["mb-0001"][0]["wifi"]["ssid"] == "city-iot" and "air" not in fleet["mb-0001"][0]


def test_a_bad_row_is_refused_naming_its_line_and_each_field(tmp_path):
    inv, sec = write(tmp_path, ["lj-0001,ljubljana,esp32-devkitc,sds011,46.0511,14.5051,mqtt.lj.si,k,300",
                                "lj-0002,ljubljana,esp32-devkitc,sds011,146.05,14.5,mqtt.lj.si:99999,k,300",
                                "lj 3,ljubljana,esp32-devkitc,co2meter,46.05,14.5,mqtt.lj.si,k,soon"])
    proc = subprocess.run([sys.executable, "-m", "host_tools", "provision", str(inv), "--secrets", str(sec)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0
    err = proc.stderr
    assert "fleet.csv line 3 (device lj-0002): location.lat:" in err
    assert "fleet.csv line 3 (device lj-0002): broker.port:" in err
    assert "fleet.csv line 4 (device lj 3): device_id:" in err
    assert "fleet.csv line 4 (device lj 3): interval:" in err
    assert "fleet.csv line 4 (device lj 3): sensors: unknown sensor 'co2meter'" in err
    assert "line 2" not in err


def test_missing_columns_and_unknown_boards_are_named(tmp_path):
    inv = tmp_path / "fleet.csv"
    inv.write_text("device_id,board\nx,esp32-devkitc\n")
    with pytest.raises(provision.InventoryError, match="missing column.*municipality"):
        provision.read_inventory(inv, {})
    inv, _ = write(tmp_path, ["lj-9,ljubljana,esp8266,,46,14,h,k,60"])
    with pytest.raises(provision.InventoryError, match=r"line 2 \(device lj-9\): board: unknown board 'esp8266'"):
        provision.read_inventory(inv, {})
