# The imperative shell on a real (or real-time simulated) board: an asyncio
# loop that samples on its own cadence and delivers in a separate task, so
# sensing never waits for the network.
import json

import asyncio

from app import config
from app.board import Board
from app.flashlog import open_log
from app.node import Node
from app.uplink import MQTTTransport, Uplink


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
    log = open_log(board, cfg.get("log") or {})
    node = Node(cfg, board, log)
    transport = MQTTTransport(cfg)
    uplink = Uplink(cfg, log, transport)
    print("node", cfg["device_id"], "up, interval", cfg["interval"], "s")

    async def both():
        asyncio.create_task(sense(node, board, 200))
        await deliver(uplink, transport)

    asyncio.run(both())
