"""The power profile (config `power`, app/power.py) is set from the fleet description:
in a node type, or per node as a dotted column; a bad value is named with what is allowed."""
import json

from host_tools import inventory

from tests.test_tools_provision import EXAMPLE, example, refused


def test_power_profile_from_a_type_and_from_a_column(tmp_path):
    types = json.loads(EXAMPLE[2].read_text())
    types["street-lamp"]["power"] = {"profile": "switched", "sense": {"pin": 34, "active": 0}}
    lines = EXAMPLE[0].read_text().splitlines()
    text = "\n".join([lines[0] + ",power.profile,power.sleep"] + [ln + ",," for ln in lines[1:]]) + "\n"
    rows = text.splitlines()
    rows[1] = rows[1][:-2] + ",battery,600"  # an air station on a battery
    fleet = inventory.load(*example(tmp_path, "\n".join(rows) + "\n", None, types))
    air, lamp = fleet.nodes["lj-001"][0], fleet.nodes["lj-002"][0]
    assert air["power"] == {"profile": "battery", "sleep": 600}
    assert lamp["power"] == {"profile": "switched", "sense": {"pin": 34, "active": 0}}


def test_a_bad_power_profile_is_named_with_what_is_allowed(tmp_path):
    lines = EXAMPLE[0].read_text().splitlines()
    text = lines[0] + ",power.profile\n" + lines[1] + ",solar\n"
    msg = refused(*example(tmp_path, text))
    assert "power.profile: \"mains\", \"switched\" or \"battery\"" in msg, msg
