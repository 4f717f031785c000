"""A small TCP proxy for fault tests: put it between casebot and a server, then cut the line.

proxy = TcpProxy("127.0.0.1", 5432)
await proxy.start()            # proxy.port forwards to 127.0.0.1:5432
proxy.cut()                    # open connections reset, new ones refused (port closed)
await proxy.restore()          # the same port accepts and forwards again
proxy.stall()                  # nothing gets through, nothing is refused (packets dropped)
proxy.flow()                   # what waited goes through

While cut, the listening socket is closed, so a connection attempt is refused at once, as when
the server is down; every connection open through the proxy is aborted (the kernel sends a
reset), as when the server crashed or a firewall dropped the line. While stalled, connections
are accepted and kept, but no byte moves either way (as when a network drops packets without a
word): a client waits until its own timeout, or until the line flows again.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

__all__ = ["TcpProxy"]

CHUNK = 64 * 1024


class TcpProxy:
    """Forwards connections on 127.0.0.1:``port`` to ``host``:``target_port``."""

    def __init__(self, host: str, target_port: int) -> None:
        self.host = host
        self.target_port = target_port
        self.port = 0
        self.accepted = 0  # connections taken while up
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._pumps: set[asyncio.Task[None]] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    @property
    def up(self) -> bool:
        return self._server is not None

    async def start(self) -> int:
        """Listen (on a free port the first time, on the same port after a cut)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._accept, sock=sock)
        return self.port

    async def restore(self) -> None:
        """Accept and forward again, on the same port."""
        if self._server is None:
            await self.start()

    def cut(self) -> None:
        """Refuse new connections and reset every open one."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._open):
            _abort(writer)
        self._open.clear()

    def stall(self) -> None:
        """Let nothing through, and refuse nothing."""
        self._flowing.clear()

    def flow(self) -> None:
        self._flowing.set()

    async def stop(self) -> None:
        self.flow()
        self.cut()
        for task in list(self._pumps):
            task.cancel()
        for task in list(self._pumps):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _accept(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        if self._server is None:
            _abort(client_w)
            return
        await self._flowing.wait()
        try:
            server_r, server_w = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            _abort(client_w)
            return
        self.accepted += 1
        self._open.update((client_w, server_w))
        for reader, writer in ((client_r, server_w), (server_r, client_w)):
            task = asyncio.create_task(self._pump(reader, writer))
            self._pumps.add(task)
            task.add_done_callback(self._pumps.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self._open.discard(writer)
            _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    transport = writer.transport
    if not transport.is_closing():
        transport.abort()
