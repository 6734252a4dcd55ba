# The imperative shell on a real (or real-time simulated) board: an asyncio
# loop that samples on its own cadence and delivers in a separate task, so
# sensing never waits for the network.
import json

import asyncio

from app import config
from app.board import Board
from app.memlog import MemLog
from app.node import Node
from app.uplink import MQTTTransport, Uplink

# The running node's parts, for `host_tools inspect` after it interrupts the loop.
STATE = {}


async def sense(node, board, period_ms):
    while True:
        node.poll(board.now())
        await asyncio.sleep_ms(period_ms)


async def deliver(uplink, transport):
    backoff = 1
    while True:
        try:
            uplink.pump()
            backoff = 1
        except Exception as e:  # broker down, network gone: retry, never stop
            print("uplink:", repr(e))
            transport.close()
            backoff = min(backoff * 2, 60)
            await asyncio.sleep(backoff)
        await asyncio.sleep_ms(500)


def main(config_path="config.json", board_path="board.json"):
    cfg = config.load(config_path)
    with open(board_path) as f:
        board = Board(json.load(f))
    log = MemLog()
    node = Node(cfg, board, log)
    transport = MQTTTransport(cfg)
    uplink = Uplink(cfg, log, transport)
    STATE.update(cfg=cfg, node=node, log=log, uplink=uplink)
    print("node", cfg["device_id"], "up, interval", cfg["interval"], "s")

    async def both():
        asyncio.create_task(sense(node, board, 200))
        await deliver(uplink, transport)

    asyncio.run(both())
