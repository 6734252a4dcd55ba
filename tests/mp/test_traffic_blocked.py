# Vehicles that pass while the network path is blocked are not lost: a thread
# stands in for the presence input's interrupt handler while the main loop is
# stuck in a publish that the (simulated) network holds for seconds.
import _thread
import json
import time

from app.board_unix import Board
from app.memlog import MemLog
from app.node import Node
from app.uplink import Uplink
from mpvehicles import pass_vehicles

VEHICLES = 40


class HeldTransport:
    """publish() blocks like a socket write on a stalled path, until released."""

    def __init__(self):
        self.gate = _thread.allocate_lock()
        self.gate.acquire()
        self.holding = False
        self.held = 0
        self.payloads = []

    def publish(self, topic, payload):
        if not self.held:
            self.holding = True
            self.gate.acquire()  # blocks the main loop
            self.holding = False
        self.held += 1
        self.payloads.append((topic, bytes(payload)))

    def close(self):
        pass


def detector_card(ring, transport, done):
    while not transport.holding:
        time.sleep_ms(5)
    pass_vehicles(ring, VEHICLES, 30)
    passed_while_held = transport.holding
    transport.gate.release()  # the network comes back
    done.append(passed_while_held)


def test_vehicles_counted_while_the_publisher_is_held_are_all_published():
    cfg = {"device_id": "t-1", "apikey": "k", "interval": 1,
           "traffic": {"lanes": [{"lane": 1, "presence": ["loop1"]}]}}
    board = Board({"uarts": {}})
    log = MemLog()
    node = Node(cfg, board, log)
    transport = HeldTransport()
    uplink = Uplink(cfg, log, transport)
    done = []
    _thread.start_new_thread(detector_card, (board.presence("loop1"), transport, done))
    t_end = None
    while True:  # the sensing/delivery loop of run.py, flattened
        t = board.now()
        node.poll(t, time.ticks_ms())
        uplink.pump()
        if done and t_end is None:
            t_end = t + 3  # let the intervals after the hold close (whole seconds, as on the chip)
        if t_end is not None and t >= t_end:
            break
        time.sleep_ms(20)
    node.close(board.now())
    uplink.pump()
    assert done == [True]  # every vehicle passed while the publish was held
    total = 0
    for topic, payload in transport.payloads:
        assert topic == "/json/k/t-1-l1/attrs"
        body = json.loads(payload)
        for obj in body if isinstance(body, list) else [body]:
            total += obj["intensity"]
            assert 0 <= obj["occupancy"] <= 1
    assert total == VEHICLES
    assert log.pending == 0 and board.presence("loop1").overruns == 0
