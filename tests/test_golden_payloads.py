"""Every replay of the real recordings publishes exactly the golden messages: the
ones the firmware published when it logged readings as JSON text
(tests/golden/make_golden.py, which says how they were made). Compared as bytes
(topic, payload, order) and, for a clear failure, as parsed JSON first."""
import gzip
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
import make_golden  # noqa: E402

GOLDEN = make_golden.GOLDEN


@pytest.mark.parametrize("name", sorted(make_golden.REPLAYS))
def test_replay_publishes_the_golden_messages(name):
    want = gzip.decompress((GOLDEN / (name + ".jsonl.gz")).read_bytes()).splitlines()
    got = make_golden.replay(make_golden.REPLAYS[name])
    assert want, "an empty golden file proves nothing"
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert json.loads(g) == json.loads(w), "message %d of %s" % (i, name)
        assert g == w, "message %d of %s: same JSON, different bytes" % (i, name)
