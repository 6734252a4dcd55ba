# A traffic node under the unix port publishing to a real broker over MQTT,
# driven by tests/test_traffic_mqtt.py: presence edges come from a thread
# (standing in for the pin interrupt) while the test has frozen the broker, so
# the main loop sits blocked in a QoS 1 publish waiting for its PUBACK.
#   micropython traffic_held_node.py <broker port> <vehicles> <go-file>
import _thread
import sys
import time

from app.board_unix import Board
from app.memlog import MemLog
from app.node import Node
from app.uplink import Uplink
from mpvehicles import pass_vehicles


class BlockingTransport:
    """umqtt.simple's own QoS 1 publish, which waits for its PUBACK: with the broker
    frozen, the loop that called it is held (the worst case for sensing)."""

    def __init__(self, port):
        self.port = port
        self.client = None

    def publish(self, topic, payload):
        if self.client is None:
            from umqtt.simple import MQTTClient
            c = MQTTClient("held-1", "127.0.0.1", self.port, keepalive=60)
            c.connect()
            self.client = c
        self.client.publish(topic, payload, qos=1)

    def close(self):
        if self.client is not None:
            self.client.sock.close()
            self.client = None


port, vehicles, go_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cfg = {"device_id": "held-1", "apikey": "k", "interval": 1,
       "broker": {"host": "127.0.0.1", "port": port},
       "traffic": {"lanes": [{"lane": 1, "presence": ["loop1"]}]}}
board = Board({"uarts": {}})
log = MemLog()
node = Node(cfg, board, log)
transport = BlockingTransport(port)
uplink = Uplink(cfg, log, transport)


class State:
    in_pump = False
    published = 0
    passed = False
    held_across = False


def go_given():
    try:
        open(go_file).close()
        return True
    except OSError:
        return False


def detector_card(ring):
    while not go_given():
        time.sleep_ms(20)
    pass_vehicles(ring, vehicles, 40)
    time.sleep_ms(1500)  # the main loop has reached its next publish by now
    State.held_across = State.in_pump
    State.passed = True
    print("passed", State.held_across)


_thread.start_new_thread(detector_card, (board.presence("loop1"),))
t_stop = None
while True:
    node.poll(board.now(), time.ticks_ms())
    State.in_pump = True
    try:
        n = uplink.pump()
    except Exception as e:
        print("uplink:", repr(e))
        transport.close()
        n = 0
    State.in_pump = False
    if n and not State.published:
        print("ready")
    State.published += n
    if State.passed and t_stop is None:
        t_stop = board.now() + 3
    if t_stop is not None and board.now() >= t_stop:
        break
    time.sleep_ms(50)
node.close(board.now())
uplink.pump()
print("done", log.pending, board.presence("loop1").overruns)
