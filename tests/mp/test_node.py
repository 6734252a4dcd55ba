# The node core: readings reach the log; a failing log never stops sensing.
from app import record
from app.board_unix import Board
from app.memlog import MemLog
from app.node import Node

FRAME = bytes.fromhex("aac0e2004001e994a0ab")  # PM2.5 22.6, PM10 32.0 (datasheet layout)
CFG = {"device_id": "n1", "apikey": "k", "interval": 10, "air": {"sensors": {"sds011": {"uart": "pm"}}}}


class BrokenLog(MemLog):
    def append(self, payload):
        raise OSError(5)  # EIO from the flash


def run(log, seconds):
    board = Board({"uarts": {"pm": {}}}, feed=True)
    node = Node(CFG, board, log)
    for t in range(1000, 1000 + seconds):
        board.uart("pm").feed(FRAME)
        node.poll(t)
    return node


def test_readings_of_each_interval_reach_the_log():
    log = MemLog()
    run(log, 35)  # intervals closing at 1010, 1020, 1030
    recs = [record.expand(p) for _, p in log.read(0, [], 10, 10000)]
    assert len(recs) == 3
    assert all(p.startswith(b"k/n1-aq {") for p in recs)
    assert b'"pm25":22.6' in recs[0]


def test_a_failing_log_is_counted_and_sensing_goes_on():
    node = run(BrokenLog(), 35)
    assert node.unlogged == 3
    assert "OSError" in node.last_error


def test_the_most_demanding_pipeline_sets_the_poll_period():
    from i2cbus import RegisterBus

    class StandInBoard(Board):
        def i2c(self, name):
            return RegisterBus(0x0D)  # a QMC5883L's address

    mag = {"type": "qmc5883l", "i2c": "main"}
    cfg = {"device_id": "n2", "apikey": "k", "interval": 60,
           "air": {"sensors": {"sds011": {"uart": "pm"}}},
           "parking": {"spots": [{"sensor": mag}], "sample_hz": 10},
           "traffic": {"lanes": [{"lane": 1, "magnetometer": mag}], "sample_hz": 50}}
    board = StandInBoard({"uarts": {"pm": {}}}, feed=True)
    assert Node(cfg, board, MemLog()).poll_ms == 20
    del cfg["traffic"]
    assert Node(cfg, board, MemLog()).poll_ms == 100
    del cfg["parking"]
    assert Node(cfg, board, MemLog()).poll_ms == 200  # air sensors keep their own cadence
