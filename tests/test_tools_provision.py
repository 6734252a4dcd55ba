"""`provision`: the fleet inventory is checked row by row against the node's own schema."""
import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from host_tools import inventory, paths, provision, wiring

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


# -- the fleet description: types, inventory, secrets ----------------------------------
DATA = ROOT / "host_tools" / "data"
EXAMPLE = (DATA / "fleet-example.csv", DATA / "fleet-example-secrets.json", DATA / "fleet-example-types.json")


def example(tmp_path, csv_text=None, secrets=None, types=None):
    """The example fleet's three files, any of them replaced."""
    inv, sec, typ = (tmp_path / "fleet.csv", tmp_path / "secrets.json", tmp_path / "types.json")
    inv.write_text(csv_text if csv_text is not None else EXAMPLE[0].read_text())
    sec.write_text(json.dumps(secrets, indent=1) if secrets is not None else EXAMPLE[1].read_text())
    typ.write_text(json.dumps(types, indent=1) if types is not None else EXAMPLE[2].read_text())
    return inv, sec, typ


def refused(inv, sec, typ):
    with pytest.raises(provision.InventoryError) as e:
        inventory.load(inv, sec, typ)
    return str(e.value)


def test_the_example_fleet_is_an_air_parking_and_traffic_fleet():
    fleet = inventory.load(*EXAMPLE)
    assert fleet.warnings == []
    lamp, profile = fleet.nodes["lj-002"]
    assert profile["name"] == "esp32-devkitc"
    # the type's sensors, the sds011's UART from the board profile, the row's place and keys
    assert lamp["air"] == {"sensors": {"sds011": {"uart": "pm"}}}
    assert lamp["parking"]["spots"] == [{"spot": 1, "sensor": {"type": "qmc5883l", "i2c": "main"}},
                                        {"spot": 2, "ranger": {"type": "vl53l1x", "i2c": "main"}}]
    assert lamp["traffic"]["lanes"] == [{"lane": 1, "presence": ["loop1", "loop2"], "spacing_m": 4.5}]
    assert lamp["location"] == {"lat": 46.0569, "lon": 14.5058} and lamp["interval"] == 300
    assert lamp["broker"] == {"host": "mqtt.example.org", "port": 1883, "user": "lj-002", "password": "pw-002"}
    assert lamp["wifi"] == {"ssid": "city-iot", "password": "wifi-secret"}
    station = fleet.nodes["lj-001"][0]
    assert station["air"]["duty"] == {"warmup": 30, "sample": 10, "period": 600}  # the row's override column
    assert station["air"]["sensors"] == {"sds011": {"uart": "pm"}, "bme280": {"i2c": "main"}}
    assert "parking" not in station
    lab = fleet.nodes["lab-1"][0]
    assert lab["board"] == "unix-sim" and lab["traffic"]["lanes"][0]["presence"] == ["loop1", "loop2"]
    assert fleet.lines == {"lj-001": 2, "lj-002": 3, "lab-1": 4}


def spreadsheet(text, sep=";", bom=True, decimal_comma=True):
    """The example inventory as Excel writes it in a Slovenian locale: ';', decimal commas, CRLF, BOM."""
    out = []
    for row in csv.reader(io.StringIO(text)):
        if decimal_comma:
            row = [re.sub(r"^(\d+)\.(\d+)$", r"\1,\2", c) for c in row]
        buf = io.StringIO()
        csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerow(row)
        out.append(buf.getvalue())
    return ("\ufeff" if bom else "") + "".join(out)


def test_spreadsheet_exports_read_as_the_plain_file(tmp_path):
    want = {d: cfg for d, (cfg, _) in inventory.load(*EXAMPLE).nodes.items()}
    text = EXAMPLE[0].read_text()
    excel = spreadsheet(text)
    assert "46,0569" in excel and excel.startswith("\ufeffdevice_id;type;")
    variants = {"excel-sl.csv": excel.encode(),
                "sep-line.csv": ("sep=;\r\n" + spreadsheet(text, bom=False)).encode(),
                "unicode-text.txt": spreadsheet(text, sep="\t", bom=False).encode("utf-16"),
                "bom-commas.csv": ("\ufeff" + text).encode(),
                "blank-rows.csv": (text + ",,,,,\n\n# lj-099,retired\n").encode()}
    for name, data in variants.items():
        inv = tmp_path / name
        inv.write_bytes(data)
        got = {d: cfg for d, (cfg, _) in inventory.load(inv, EXAMPLE[1], EXAMPLE[2]).nodes.items()}
        assert got == want, name
    proc = subprocess.run([sys.executable, "-m", "host_tools", "provision", str(tmp_path / "excel-sl.csv"),
                           "--types", str(EXAMPLE[2]), "--secrets", str(EXAMPLE[1])],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and "3 device(s)" in proc.stdout and proc.stderr == ""


def test_a_file_that_is_not_utf8_is_refused_with_how_to_save_it(tmp_path):
    inv = tmp_path / "fleet.csv"
    inv.write_bytes(EXAMPLE[0].read_text().replace("lab-1,virtual-lamp", "lab-1,virtual-lamp").encode()
                    + "lj-9,air-station,ljubljana,esp32-devkitc,46.1,14.5,h,k,,  # Črnuče\n".encode("cp1250"))
    msg = refused(inv, EXAMPLE[1], EXAMPLE[2])
    assert msg.startswith("fleet.csv line 5: not UTF-8 text (byte 0xc8)") and 'Excel "CSV UTF-8"' in msg


def test_override_columns_reach_every_kind_of_field(tmp_path):
    header, lamp = EXAMPLE[0].read_text().splitlines()[0], EXAMPLE[0].read_text().splitlines()[2]
    text = (header + ",parking.spots[0].baseline,broker.keepalive,display.enabled,traffic.lanes[0].axes,"
            "parking.spots[1].ranger.i2c,apikey.device,ntp.server,traffic.lanes[0].spacing_m,parking.site.id\n"
            + lamp + ',"[120,-40,300]",30,FALSE,1,main,kd2,pool.ntp.org,3.5,presernova\n')
    inv, sec, typ = example(tmp_path, spreadsheet(text, bom=False))
    cfg = inventory.load(inv, sec, typ).nodes["lj-002"][0]
    assert cfg["parking"]["spots"][0]["baseline"] == [120, -40, 300]
    assert cfg["parking"]["spots"][1] == {"spot": 2, "ranger": {"type": "vl53l1x", "i2c": "main"}}
    assert cfg["broker"]["keepalive"] == 30 and cfg["display"] == {"enabled": False}
    assert cfg["traffic"]["lanes"][0]["axes"] == 1 and cfg["apikey"]["device"] == "kd2"
    assert cfg["ntp"] == {"server": "pool.ntp.org"}
    assert cfg["traffic"]["lanes"][0]["spacing_m"] == 3.5  # written 3,5 by the spreadsheet
    assert cfg["parking"]["site"] == {"id": "presernova"} and cfg["parking"]["heartbeat"] == 600
    # the type is not changed for the other nodes
    assert "baseline" not in inventory.load(*EXAMPLE).nodes["lj-002"][0]["parking"]["spots"][0]


def test_errors_name_the_file_the_line_or_section_and_the_field(tmp_path):
    text = EXAMPLE[0].read_text()
    rows = text.splitlines()
    types = json.loads(EXAMPLE[2].read_text())
    types["air-station"]["air"]["duty"]["warmup"] = -1
    secrets = json.loads(EXAMPLE[1].read_text())
    secrets["default"]["wifi"]["pasword"] = secrets["default"]["wifi"].pop("password")
    bad = rows + [rows[1].replace("lj-001,", "lj-003,").replace("46.0514", '"146,2"'),
                  rows[2].replace("street-lamp", "street-lmap").replace("lj-002", "lj-004"),
                  rows[1]]
    msg = refused(*example(tmp_path, "\n".join(bad) + "\n", secrets, types))
    lines = msg.splitlines()
    # a typo in the secrets file or a type is said once, naming that file, never a CSV line
    assert lines.count("secrets.json line 6, section 'default': wifi.pasword: unknown field (known: password, "
                       "ssid)") == 1
    assert len([ln for ln in lines if ln.startswith("types.json line 2, type 'air-station': air.duty.warmup: a number")]) == 1
    assert not [ln for ln in lines if "fleet.csv" in ln and ("pasword" in ln or "warmup" in ln)]
    assert "fleet.csv line 5 (device lj-003): location.lat: degrees from -90 to 90 (WGS 84)" in lines
    assert ("fleet.csv line 6 (device lj-004): type: 'street-lmap' is not in types.json "
            "(its types: air-station, street-lamp, virtual-lamp)") in lines
    assert "fleet.csv line 7: device_id lj-001 is already on line 2: each node needs its own id" in lines


def test_column_and_file_shape_errors(tmp_path):
    text = EXAMPLE[0].read_text().replace("air.duty.period", "air.duty.perod", 1)
    msg = refused(*example(tmp_path, text))
    assert msg == ("fleet.csv line 1: column air.duty.perod: unknown field 'perod' in air.duty (known: period, "
                   "sample, warmup); the inventory's own columns: device_id, municipality, lat, lon, type, board, "
                   "broker, apikey, interval, sensors")
    inv, sec, typ = example(tmp_path)
    sec.write_text('[{"wifi": {"ssid": "x"}}]')
    assert refused(inv, sec, typ).startswith("secrets.json: the secrets file must hold one JSON object, "
                                             '{"default": {"wifi": {...}, "broker": {...}}')
    sec.write_text('{"default": {"wifi": {"ssid": "x",}}}')
    assert refused(inv, sec, typ) == "secrets.json line 1 column 35: not valid JSON (Expecting property name enclosed in double quotes)"
    inv.write_text("id;name\n1;x\n")
    assert refused(inv, EXAMPLE[1], typ).startswith("fleet.csv line 1: no device_id column: the first line must name the columns")
    inv.write_text(EXAMPLE[0].read_text())
    assert "type: 'air-station' needs the types file: give --types FILE" in refused(inv, EXAMPLE[1], None)


def test_a_sensor_the_board_does_not_wire_is_named_with_what_would_do(tmp_path):
    header = "device_id,municipality,board,lat,lon,broker,apikey,sensors\n"
    rows = ["lj-1,ljubljana,unix-sim,46.05,14.5,h,k,pms5003",
            "lj-2,ljubljana,esp32-devkitc,46.05,14.5,h,k,qmc5883l",
            "lj-3,ljubljana,esp32-devkitc,46.05,14.5,h,k,doppler",
            "lj-4,ljubljana,unix-sim,46.05,14.5,h,k,bme280"]
    msg = refused(*example(tmp_path, header + "\n".join(rows) + "\n"))
    assert ("fleet.csv line 2 (device lj-1): air.sensors.pms5003: board unix-sim has no wiring for pms5003 "
            "(it wires: sds011): choose a board that carries it, or give its bus here, {\"uart\": \"<bus>\"} "
            "(UART buses on unix-sim: pm)") in msg
    assert ('fleet.csv line 3 (device lj-2): sensors: qmc5883l reads parking spots or traffic lanes: say which '
            'in the node\'s type, e.g. "parking": {"spots": [{"spot": 1, "sensor": {"type": "qmc5883l"}}') in msg
    assert ('line 4 (device lj-3): sensors: doppler counts a traffic lane: say which in the node\'s type, '
            'e.g. "traffic": {"lanes": [{"lane": 1, "radar": "ops243"}]}, {"lane": 1, "doppler": "doppler"}') in msg
    assert "line 5 (device lj-4): air.sensors.bme280: board unix-sim has no wiring for bme280" in msg
    types = {"t": {"parking": {"spots": [{"spot": 1}]},
                   "traffic": {"lanes": [{"lane": 1, "radar": "ops243", "presence": ["loop9"]}]},
                   "air": {"sensors": {"bme280": {"i2c": "aux"}}}}}
    row = "device_id,type,municipality,board,lat,lon,broker,apikey\nlj-5,t,lj,esp32-devkitc,46,14,h,k\n"
    msg = refused(*example(tmp_path, row, {}, types))
    assert "air.sensors.bme280.i2c: board esp32-devkitc has no I2C bus 'aux' (its I2C buses: main)" in msg
    assert "parking.spots[0]: no sensor: give it one, e.g. {\"spot\": 1, \"sensor\": {\"type\": \"qmc5883l\"}}" in msg
    assert ('traffic.lanes[0].radar: board esp32-devkitc has no wiring for ops243: name the UART it is on, '
            '"radar": "<uart>" (UART buses on esp32-devkitc: aux, pm)') in msg
    assert ("traffic.lanes[0].presence: board esp32-devkitc has no presence input 'loop9' "
            "(its inputs: doppler, loop1, loop2)") in msg
    row = "device_id,municipality,board,lat,lon,broker,apikey,sensors\nlj-6,lj,esp32-c3-devkitm,46,14,h,k,sds011;sps30\n"
    assert ("line 2 (device lj-6): air.sensors: sds011 and sps30 share one connector on esp32-c3-devkitm: "
            "fit one of them") in refused(*example(tmp_path, row, {}))
    # The Heltec's DHT22 takes the aux connector's pins; the virtual board has no ranger, no Doppler.
    row = "device_id,municipality,board,lat,lon,broker,apikey,sensors\nlj-7,lj,heltec-wifi-lora-32-v2,46,14,h,k,sps30;dht22\n"
    assert ("line 2 (device lj-7): air.sensors: sps30 and dht22 share one connector on heltec-wifi-lora-32-v2: "
            "fit one of them") in refused(*example(tmp_path, row, {}))
    types = {"t": {"parking": {"spots": [{"spot": 1, "ranger": {"type": "hcsr04"}}]},
                   "traffic": {"lanes": [{"lane": 1, "doppler": "doppler"}]}}}
    row = "device_id,type,municipality,board,lat,lon,broker,apikey\nlj-8,t,lj,unix-sim,46,14,h,k\n"
    msg = refused(*example(tmp_path, row, {}, types))
    assert ('parking.spots[0].ranger: board unix-sim has no wiring for hcsr04 (no "ultrasonic" trigger/echo '
            'pair in its profile): choose a board that carries it') in msg
    assert ("traffic.lanes[0].doppler: board unix-sim has no input 'doppler' for a Doppler module's IF "
            "(its inputs: none)") in msg
    # Sensors of different kinds on the same pins: the Heltec's DHT22 and its ranger pair, a
    # lane's Doppler input and another's second loop, two lanes on one radar UART.
    types = {"t": {"air": {"sensors": {"dht22": {}}}, "parking": {"spots": [{"spot": 1, "ranger": {"type": "hcsr04"}}]},
                   "traffic": {"lanes": [{"lane": 1, "presence": ["loop1", "loop2"]}, {"lane": 2, "doppler": "doppler"},
                                         {"lane": 3, "radar": "aux"}, {"lane": 4, "radar": "aux"}]}}}
    row = "device_id,type,municipality,board,lat,lon,broker,apikey\nlj-9,t,lj,heltec-wifi-lora-32-v2,46,14,h,k\n"
    msg = refused(*example(tmp_path, row, {}, types))
    assert ("parking.spots[0].ranger: needs the pins air.sensors.dht22 already uses on heltec-wifi-lora-32-v2: "
            "fit one of them, or wire it elsewhere") in msg
    assert "traffic.lanes[1].doppler: needs the pins traffic.lanes[0].presence already uses" in msg
    assert "traffic.lanes[3].radar: needs the pins traffic.lanes[2].radar already uses" in msg
    assert "traffic.lanes[2].radar: needs the pins air.sensors.dht22" in msg  # the DHT22 takes the aux pins


def test_every_sensor_the_firmware_reads_is_provisioned_from_a_board_that_wires_it(tmp_path, monkeypatch):
    # The catalogue follows the firmware: air_sources.py's sensors, magsensor.py's types.
    from app import air_sources
    assert set(wiring.AIR) | set(wiring.NOT_ON_A_BOARD) >= set(air_sources.ATTRIBUTES)
    mag, _, ranger = (ROOT / "firmware" / "app" / "magsensor.py").read_text().partition("def open_ranger")
    assert set(re.findall(r'kind == "(\w+)"', mag)) | {"qmc5883l"} == set(wiring.MAGNETOMETERS)
    assert set(re.findall(r'kind [!=]= "(\w+)"', ranger)) == set(wiring.RANGERS)
    # Each air sensor from the `sensors` column, its bus from the shipped profile.
    rows = "".join("lj-%s,lj,esp32-devkitc,46,14,h,k,%s\n" % (s, s) for s in wiring.AIR)
    nodes = inventory.load(*example(tmp_path, "device_id,municipality,board,lat,lon,broker,apikey,sensors\n" + rows,
                                    {})).nodes
    assert {s: nodes["lj-" + s][0]["air"]["sensors"][s] for s in wiring.AIR} == {
        "sds011": {"uart": "pm"}, "pms5003": {"uart": "pm", "set_pin": 4}, "sps30": {"uart": "aux"},
        "bme280": {"i2c": "main"}, "scd4x": {"i2c": "main"}, "dht22": {"data": 19}}
    # Spots and lanes from a type; a board that wires the radar by name.
    boards_dir = tmp_path / "boards"
    shutil.copytree(paths.BOARDS, boards_dir)
    board = json.loads((boards_dir / "esp32-devkitc.json").read_text())
    board["sensors"]["ops243"] = {"uart": "aux"}
    (boards_dir / "radar-kit.json").write_text(json.dumps(board))
    monkeypatch.setattr(paths, "BOARDS", boards_dir)
    types = {"all": {"parking": {"spots": [{"spot": i + 1, "sensor": {"type": m}}
                                           for i, m in enumerate(wiring.MAGNETOMETERS)] + [{"spot": 9, "ranger": {}},
                                                                                {"spot": 10, "ranger": {"type": "hcsr04"}}]},
                     "traffic": {"lanes": [{"lane": 1, "radar": "ops243"}, {"lane": 2, "presence": ["loop1", "loop2"]},
                                           {"lane": 3, "magnetometer": {"type": "hmc5883l"}}, {"lane": 4, "radar": "pm"},
                                           {"lane": 5, "doppler": "doppler"}]}}}
    row = "device_id,type,municipality,board,lat,lon,broker,apikey\nlj-1,all,lj,radar-kit,46,14,h,k\n"
    cfg = inventory.load(*example(tmp_path, row, {}, types)).nodes["lj-1"][0]
    assert [s.get("sensor") or s.get("ranger") for s in cfg["parking"]["spots"]] == [
        {"type": m, "i2c": "main"} for m in wiring.MAGNETOMETERS] + [{"type": "vl53l1x", "i2c": "main"},
                                                                     {"type": "hcsr04", "ultrasonic": "ranger"}]
    assert [ln.get("radar") for ln in cfg["traffic"]["lanes"]] == ["aux", None, None, "pm", None]
    assert cfg["traffic"]["lanes"][4] == {"lane": 5, "doppler": "doppler"}
    assert cfg["traffic"]["lanes"][2]["magnetometer"] == {"type": "hmc5883l", "i2c": "main"}


def test_old_secrets_with_node_settings_still_work_with_a_warning(tmp_path):
    secrets = json.loads(EXAMPLE[1].read_text())
    secrets["lj-002"]["parking"] = {"heartbeat": 120}
    secrets["lj-002"]["broker"]["keepalive"] = 30
    secrets["lj-009"] = {"broker": {"password": "pw-009"}}
    inv, sec, typ = example(tmp_path, None, secrets)
    fleet = inventory.load(inv, sec, typ)
    assert fleet.nodes["lj-002"][0]["parking"]["heartbeat"] == 120
    assert fleet.warnings == [
        "secrets.json line 17, section 'lj-002': broker.keepalive is no secret: it still applies, but a later "
        "version will refuse it: give it in the inventory (column broker.keepalive) or the node's type",
        "secrets.json line 17, section 'lj-002': parking is no secret: it still applies, but a later version will "
        "refuse it: move it to the node's type (--types) or an inventory column",
        "secrets.json line 31, section 'lj-009': no device_id or municipality of the inventory has that name (a "
        "typo?); it applies to no node"]
    proc = subprocess.run([sys.executable, "-m", "host_tools", "provision", str(inv), "--types", str(typ),
                           "--secrets", str(sec)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr.count("provision: warning: ") == 3


def test_the_readme_shows_the_example_files_as_they_are():
    readme = (ROOT / "README.md").read_text()
    for path in EXAMPLE:
        block = "".join("    " + ln if ln.strip() else ln for ln in path.read_text().splitlines(True))
        assert block in readme, path.name
