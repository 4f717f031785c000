"""The server's listening sockets, bound before anything else starts.

A port in use or an address of no interface is then reported in one line that names the option
to change, before the database is touched, instead of as a traceback after start-up.
"""

from __future__ import annotations

import errno
import socket
from typing import Final

__all__ = ["CannotListen", "listen"]

BACKLOG: Final = 128  # aiohttp's own default


class CannotListen(Exception):
    """The server cannot listen where it was told to; the message says why and what to do."""


def listen(host: str, port: int, *, reuse_port: bool = False) -> list[socket.socket]:
    """Bind and listen on every address ``host`` resolves to (as asyncio's ``create_server``
    would), non-blocking, ready for ``aiohttp.web.run_app(sock=...)``. With ``reuse_port``
    (the workers of ``serve --workers N``) every worker binds the same port (``SO_REUSEPORT``)
    and the kernel spreads the connections among them.

    Raises:
        CannotListen: the host does not resolve, is no address of this machine, or the port is
            in use or reserved.
    """
    try:
        found = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise CannotListen(
            f"host {host!r} is not known here ({exc.strerror}); choose another with --host"
        ) from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(found):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            # As asyncio does: a restart need not wait for the old connections' TIME_WAIT.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:  # "::" next to "0.0.0.0" would clash otherwise
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise CannotListen(_why(exc, host, port)) from None
    return sockets


def _why(exc: OSError, host: str, port: int) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} is in use on {host}; choose another with --port "
            f"(make run PORT={port + 1 if port < 65535 else port - 1})"
        )
    if exc.errno == errno.EACCES:
        return (
            f"port {port} is reserved for the system administrator (permission denied); "
            "choose one above 1023 with --port"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"{host} is no address of this machine; choose another with --host "
            "(127.0.0.1 for this machine only, 0.0.0.0 for every interface)"
        )
    return f"cannot listen on {host} port {port} ({exc.strerror}); change --host or --port"
