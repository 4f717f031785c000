"""python-telegram-bot's transport on aiohttp: ``AiohttpRequest``, a ``BaseRequest``.

The library's default transport (``HTTPXRequest``) tops out at a few hundred requests per second
here (benchmarks/bench_telegram.py); this one reaches Telegram's paid-broadcast ceiling of
1,000 messages/s, and aiohttp is already the web server's library.

One ``aiohttp.ClientSession`` per instance, opened by :meth:`AiohttpRequest.initialize` and closed
by :meth:`AiohttpRequest.shutdown`, with at most ``connection_pool_size`` connections.

Timeouts follow PTB's four (a value passed to a bot method wins over the instance's default; None
means no limit):

- ``connect_timeout``: establishing a connection (aiohttp's ``sock_connect``);
- ``pool_timeout``: waiting for a free connection; aiohttp only bounds "free connection plus
  connecting" as one (``connect``), which gets the sum of the two;
- ``read_timeout``: between two reads of the answer (``sock_read``);
- ``write_timeout``: aiohttp has no per-write timeout, so the whole request is bounded by the sum
  of all four (``total``); a request with files uses ``media_write_timeout`` instead.

Errors: any timeout raises ``telegram.error.TimedOut``, any other transport failure (refused
connection, reset, bad answer) ``telegram.error.NetworkError``; an HTTP error status is returned,
not raised, as ``BaseRequest.do_request`` requires (``BaseRequest.post`` turns it into the right
exception). Nothing here logs a URL: the bot token is in it.
"""

from __future__ import annotations

import logging
from typing import Final

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest"]

logger = logging.getLogger(__name__)

CONNECTION_POOL_SIZE: Final = 256
"""PTB's own default for the bot's requests (getUpdates uses 1)."""
READ_TIMEOUT: Final = 5.0
WRITE_TIMEOUT: Final = 5.0
CONNECT_TIMEOUT: Final = 5.0
POOL_TIMEOUT: Final = 1.0
MEDIA_WRITE_TIMEOUT: Final = 20.0
"""PTB's defaults, in seconds."""

Timeout = float | None


def _sum(*parts: Timeout) -> Timeout:
    """The sum of timeouts, or None (no limit) when any of them is None."""
    if any(part is None for part in parts):
        return None
    return sum(part for part in parts if part is not None)


class AiohttpRequest(BaseRequest):
    """Makes python-telegram-bot's Bot API requests with aiohttp.

    Args:
        connection_pool_size: Connections open at once, at most; 1 or more.
        read_timeout: Default seconds between two reads of an answer; None for no limit.
        write_timeout: Default seconds to send a request; None for no limit.
        connect_timeout: Default seconds to connect; None for no limit.
        pool_timeout: Default seconds to wait for a free connection; None for no limit.
        media_write_timeout: The write timeout of a request that uploads files.
        proxy: The URL of an HTTP proxy for every request, or None. Unlike PTB's httpx
            transport, this one does not read ``HTTPS_PROXY`` and the like from the environment.

    Raises:
        ValueError: At construction, for a pool size below 1.
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxy",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = CONNECTION_POOL_SIZE,
        read_timeout: Timeout = READ_TIMEOUT,
        write_timeout: Timeout = WRITE_TIMEOUT,
        connect_timeout: Timeout = CONNECT_TIMEOUT,
        pool_timeout: Timeout = POOL_TIMEOUT,
        media_write_timeout: Timeout = MEDIA_WRITE_TIMEOUT,
        proxy: str | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError(f"connection_pool_size must be at least 1, got {connection_pool_size}")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds (PTB adds getUpdates' long-poll time to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (idempotent; it needs the running event loop)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            # No trust_env: aiohttp would re-read the proxy variables and ~/.netrc on every
            # request, which cut the throughput by three quarters (benchmarks/bench_telegram.py).
            self._session = aiohttp.ClientSession(connector=connector, proxy=self._proxy)

    async def shutdown(self) -> None:
        """Close the session and its connections (idempotent)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; see ``BaseRequest.do_request``.

        Returns:
            The HTTP status and the body of the answer, whatever the status.

        Raises:
            RuntimeError: The instance is not initialized (or was shut down).
            telegram.error.TimedOut: A timeout expired (connecting, waiting for a connection,
                sending or reading).
            telegram.error.NetworkError: Any other transport failure.
        """
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        default_write = self._media_write_timeout if files else self._write_timeout
        read = _given(read_timeout, self._read_timeout)
        write = _given(write_timeout, default_write)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=_sum(pool, connect, write, read),
            connect=_sum(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            data = _form(request_data) if files else request_data.json_parameters
        try:
            async with session.request(
                method,
                url,
                data=data,
                timeout=timeout,
                headers={"User-Agent": self.USER_AGENT},
            ) as answer:
                return answer.status, await answer.read()
        except TimeoutError as exc:  # aiohttp's timeout errors are TimeoutErrors too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            # The class name says what failed when the message is empty; no URL (token).
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from exc


def _given(value: float | object | None, default: Timeout) -> Timeout:
    """A timeout passed to a bot method, or the default when it was not passed."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    # A DefaultValue (BaseRequest.DEFAULT_NONE is one) means "not passed", as in HTTPXRequest.
    return default


def _form(request_data: RequestData) -> aiohttp.FormData:
    """The multipart body of a request with files: its parameters, then its files."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
