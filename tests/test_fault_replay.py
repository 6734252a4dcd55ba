"""The short fault replay (tests/soak): a day of virtual time on the real recordings,
with broker outages (a real Mosquitto stopped and started), Wi-Fi losses, power cuts
at a random moment, in a log write, in a log sector erase and in a config write, a
switched supply failing (the power profile makes the state durable first), and
every sensor unplugged and replugged; under both unix-port builds. The long one:
`make soak`."""
import sys

import pytest

from tests.soak import plan
from tests.soak.run import soak


@pytest.mark.parametrize("build", ["std", "esp32"])
def test_a_day_of_faults_loses_no_durable_reading(build):
    r = soak(1, 7, build, plan.SHORT, log=sys.stderr)
    # soak() raised if a durable reading missed the broker, arrived changed, or a reading
    # away from the faults differs from the fault-free run's; here: the faults all happened.
    assert (r["cut_ops"], r["cut_erases"], r["cut_configs"], r["mains_fails"]) >= (1, 1, 1, 1), r
    assert r["cuts"] == sum(plan.SHORT["cuts"].values()), r
    assert r["boots"] == r["cuts"] + 1, r
    assert r["outages"] == len(plan.SHORT["outages"]) and r["wifi_losses"] == len(plan.SHORT["wifi"]), r
    assert r["unplugs"] == 4, r
    assert r["compared"] > 300 and r["durable"] > 500, r
