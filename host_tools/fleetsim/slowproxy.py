"""A broker that accepts connections at once but answers CONNECT slowly, as one does under
a reconnect storm: a loopback TCP proxy in front of the real broker whose broker-to-node
direction holds each connection's first bytes (the CONNACK) in one queue served at
`per_s` answers a second. The broker still does the work of a CONNECT whose node has
given up waiting (that answer is dropped, its slot spent): so a storm of retries makes
every answer later. Everything after the CONNACK flows freely."""
import asyncio
import threading


class SlowConnack:
    def __init__(self, upstream_port, per_s=20.0):
        self.upstream_port = upstream_port
        self.per_s = per_s  # None: no limit (while the fleet first connects)
        self.port = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)

    def __enter__(self):
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("slow proxy did not start")
        return self

    def __exit__(self, *exc):
        self.loop.call_soon_threadsafe(self._done.set)
        self._thread.join(10)

    def _main(self):
        asyncio.run(self._serve())

    async def _serve(self):
        self.loop = asyncio.get_running_loop()
        self._done = asyncio.Event()
        self._free_at = 0.0  # when the answer queue is next free (loop time)
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._done.wait()
        server.close()
        for t in [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]:
            t.cancel()

    def _slot(self):
        """The time this connection's CONNACK may go: one per 1/per_s, first come first served."""
        now = self.loop.time()
        if not self.per_s:
            return now
        self._free_at = max(now, self._free_at) + 1.0 / self.per_s
        return self._free_at

    async def _client(self, reader, writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        tasks = [asyncio.ensure_future(self._pipe(reader, up_writer)),
                 asyncio.ensure_future(self._pipe(up_reader, writer, held=True))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the proxy is closing
            pass
        finally:
            for t in tasks:
                t.cancel()
            writer.close()
            up_writer.close()

    async def _pipe(self, reader, writer, held=False):
        first = held
        while True:
            data = await reader.read(65536)
            if not data:
                return
            if first:
                first = False
                await asyncio.sleep(max(0.0, self._slot() - self.loop.time()))
            writer.write(data)
            await writer.drain()
