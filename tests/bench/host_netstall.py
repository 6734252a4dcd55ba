"""The network task against sensing, on the unix port (tests/bench/netstall_node.py):

loop.max_stall_ms           longest gap between two 50 Hz sensing ticks while the node
                            syncs its clock by NTP, connects over TLS and publishes through
                            a link that delays every packet 300 ms each way (tests/netdelay.py)
loop.max_stall_ms.baseline  the same with the blocking network path (link.py and mqtt.py of
                            BLOCKING_REV, the last commit with it, over today's firmware;
                            the board's NTP as ntptime.settime did it)
loop.max_stall_ms.ratio

The tick period is 20 ms: a gap of 20-30 ms is no stall at all.  Median of 3 runs each.
"""
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from host_tools import paths  # noqa: E402
from host_tools.broker import Mosquitto, free_port  # noqa: E402
from tests.netdelay import DelayProxy, NtpResponder, stall_node  # noqa: E402
from tests.pki import CA  # noqa: E402

BLOCKING_REV = "a0c87ac224de70a93423df483d55e69632da101c"
DELAY_S = 0.3
RUNS = 3


def blocking_firmware(dest):
    """Today's firmware with the blocking path's link.py and mqtt.py from git history."""
    shutil.copytree(paths.FIRMWARE, dest)
    for name in ("link.py", "mqtt.py"):
        try:
            old = subprocess.run(["git", "show", "%s:firmware/app/%s" % (BLOCKING_REV, name)],
                                 cwd=paths.ROOT, check=True, stdout=subprocess.PIPE).stdout
        except subprocess.CalledProcessError:
            raise SystemExit("bench: the baseline needs commit %s (a full clone, not a shallow one: "
                             "git fetch --unshallow)" % BLOCKING_REV)
        (Path(dest) / "app" / name).write_bytes(old)
    return dest


def runs(broker_port, ca, firmware=None):
    gaps = []
    for _ in range(RUNS):
        with DelayProxy(broker_port, DELAY_S) as proxy, NtpResponder(DELAY_S) as ntp:
            work = tempfile.mkdtemp(prefix="netstall-")
            try:
                gap, ticks, acked, state, connects = stall_node(work, proxy.port, ca, ntp.port,
                                                                firmware=firmware)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        if state != "ntp" or acked < 3 or connects < 1:
            raise SystemExit("bench: the node did not sync and deliver (%s, %d acked, %d connects)"
                             % (state, acked, connects))
        print("netstall: %s: longest gap %d ms over %d ticks" % (firmware and "blocking" or "now", gap,
                                                                  ticks), file=sys.stderr)
        gaps.append(gap)
    return statistics.median(gaps)


tmp = tempfile.mkdtemp(prefix="netstall-pki-")
try:
    ca = CA(tmp, "bench-ca")
    cert, key = ca.issue("broker", "localhost")
    port = free_port()
    tls = "listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n" % (port, ca.cert, cert, key)
    with Mosquitto(extra=tls):
        now = runs(port, ca.cert)
        before = runs(port, ca.cert, blocking_firmware(str(Path(tmp) / "blocking")))
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("loop.max_stall_ms %d ms" % now)
print("loop.max_stall_ms.baseline %d ms" % before)
print("loop.max_stall_ms.ratio %.0f x" % (before / now))
