"""Recordings made by `host_tools record` on a node (JSON lines, format smartnode-rec)."""
import json

from . import Part, fmt


def _is_node_recording(path, head):
    return head.startswith(b'{"format": "smartnode-rec"')


@fmt("smartnode-rec", _is_node_recording)
def node_recording(path, opts):
    with open(path) as f:
        head = json.loads(f.readline())
        events = [json.loads(line) for line in f if line.strip()]
    return Part(config=head.get("config", {}), board={"uarts": {n: {} for n in head.get("uarts", [])}},
                events=events)
