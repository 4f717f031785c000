"""The USCIS Case Status API over HTTP: the real case-status source (``core.cases.uscis``).

- OAuth 2.0 client credentials: ``POST {base}/oauth/accesstoken`` (form ``grant_type``,
  ``client_id``, ``client_secret``) gives a bearer token for about 30 minutes. One token serves
  every lookup of the process; it is fetched again shortly before it expires, and once when the
  API answers 401 to it.
- ``GET {base}/case-status/{receipt}``: 200 with the case, 404 unknown receipt, 422 bad format,
  429 too many requests (``Retry-After`` honoured when given), 5xx.

Every request (a retry too) first takes its place in the shared rate and budget through the
``permit`` the core passes. 429, 5xx, timeouts and broken connections are retried with
exponential backoff and full jitter while the lookup's time allows; then the lookup fails as
:class:`~core.cases.uscis.source.SourceUnavailable`, and the core answers from its cache or
tells the person USCIS is not answering. A body that is not the published shape is a failure
of the same kind, logged once per kind of fault. The client secret and tokens are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Mapping
from typing import Final

import aiohttp

from core.cases.receipt import ReceiptNumber
from core.cases.uscis import (
    MalformedAnswer,
    NotAtSource,
    Permit,
    RefusedBySource,
    SourceUnavailable,
    UscisCase,
    parse_answer,
)

__all__ = ["SANDBOX_URL", "UscisClient"]

logger = logging.getLogger(__name__)

SANDBOX_URL: Final = "https://api-int.uscis.gov"
RETRYABLE: Final = frozenset({429, 500, 502, 503, 504})
MAX_BODY: Final = 256 * 1024  # a case status is a few kilobytes; more is not one
# USCIS grants tokens for 30 minutes; a day is surely no lifetime of theirs.
MAX_TOKEN_LIFETIME: Final = 24 * 3600.0


class UscisClient:
    """A :class:`~core.cases.uscis.source.CaseStatusSource` on USCIS's API.

    Raises:
        ValueError: (when built) a URL that is not http(s), or an empty client id or secret.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        request_timeout: float = 3.0,
        max_tries: int = 4,
        backoff: float = 0.25,
        max_backoff: float = 4.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("the USCIS API URL must be http(s)://")
        if not client_id or not client_secret:
            raise ValueError("the USCIS API needs a client id and a client secret")
        self.base_url = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self.request_timeout = request_timeout
        self.max_tries = max_tries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._jitter = jitter
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._token_expires = 0.0  # loop time
        self._token_lock = asyncio.Lock()
        self._reported: set[str] = set()
        self.tokens_fetched = 0

    def __repr__(self) -> str:  # never the secret
        return f"UscisClient({self.base_url!r})"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                headers={"Accept": "application/json", "User-Agent": "casebot"}
            )
        return self._session

    # --- the token -------------------------------------------------------------------------

    async def _bearer(self, deadline: float) -> str:
        """The current token, fetched first when there is none or it expires soon."""
        loop = asyncio.get_running_loop()
        if self._token is not None and loop.time() < self._token_expires:
            return self._token
        async with self._token_lock:  # one fetch for every lookup waiting on it
            if self._token is not None and loop.time() < self._token_expires:
                return self._token
            self._token, lifetime = await self._fetch_token(deadline)
            # Renew a little before the end: a minute, or a tenth of a short lifetime.
            self._token_expires = loop.time() + lifetime - min(60.0, lifetime / 10)
            return self._token

    def _forget_token(self, token: str) -> None:
        if self._token == token:
            self._token = None

    async def _fetch_token(self, deadline: float) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        status, body, _ = await self._send("POST", "/oauth/accesstoken", deadline, data=form)
        if status in (400, 401, 403):
            self._report("token", f"the token request was refused (HTTP {status}): check "
                         "CASEBOT_USCIS_CLIENT_ID and CASEBOT_USCIS_CLIENT_SECRET")  # fmt: skip
            raise SourceUnavailable(f"token refused (HTTP {status})")
        if status != 200:
            raise SourceUnavailable(f"token request answered HTTP {status}")
        try:
            token, lifetime = read_token(body)
        except ValueError as exc:
            self._report("token-body", f"the token answer is malformed ({exc})")
            raise SourceUnavailable("malformed token answer") from None
        self.tokens_fetched += 1
        logger.info("USCIS token fetched, valid for %ds", lifetime)
        return token, lifetime

    # --- the lookup ------------------------------------------------------------------------

    async def fetch(self, receipt: ReceiptNumber, *, permit: Permit, within: float) -> UscisCase:
        """The case as USCIS reports it (see the module docstring).

        Raises:
            NotAtSource: 404.
            RefusedBySource: 422.
            OutOfBudget: the permit refused a request.
            SourceUnavailable: anything else, once retries and ``within`` seconds are spent.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        tries = 0
        renewed = False
        while True:
            token = await self._bearer(deadline)
            wait = await permit()
            if loop.time() + wait >= deadline:
                raise SourceUnavailable("no time left for the rate limit's wait")
            if wait > 0:
                await asyncio.sleep(wait)
            tries += 1
            try:
                status, body, retry_after = await self._send(
                    "GET",
                    f"/case-status/{receipt}",
                    deadline,
                    headers={"Authorization": f"Bearer {token}"},
                )
            except SourceUnavailable as exc:
                status, body, retry_after, failure = 0, b"", None, exc.reason
            else:
                failure = f"HTTP {status}"
            if status == 200:
                return self._read(body, receipt)
            if status == 401 and not renewed:
                # Expired early or revoked: one new token, and the request again.
                self._forget_token(token)
                renewed = True
                continue
            if status == 404:
                raise NotAtSource()
            if status == 422:
                raise RefusedBySource()
            if status != 0 and status not in RETRYABLE:
                self._report(f"status-{status}", f"unexpected HTTP {status} from case-status")
                raise SourceUnavailable(failure)
            delay = self._delay(tries, retry_after)
            if tries >= self.max_tries or loop.time() + delay >= deadline:
                raise SourceUnavailable(f"{failure} after {tries} tries")
            await asyncio.sleep(delay)

    def _delay(self, tries: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter, or at least what ``Retry-After`` asks."""
        ceiling: float = min(self.max_backoff, self.backoff * 2.0 ** (tries - 1))
        delay = ceiling * self._jitter()
        return max(delay, retry_after) if retry_after is not None else delay

    def _read(self, body: bytes, receipt: ReceiptNumber) -> UscisCase:
        try:
            return parse_answer(json.loads(body), receipt)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError,
            # MalformedAnswer; RecursionError: arrays nested deeper than the decoder goes
            reason = exc.reason if isinstance(exc, MalformedAnswer) else "the body is not JSON"
            self._report(f"malformed:{reason}", f"malformed case-status answer: {reason}")
            raise SourceUnavailable(f"malformed answer: {reason}") from None

    async def _send(
        self,
        method: str,
        path: str,
        deadline: float,
        *,
        data: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, float | None]:
        """One request: (status, body, Retry-After seconds or None).

        Raises:
            SourceUnavailable: no answer within the request timeout or the deadline.
        """
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise SourceUnavailable("no time left")
        try:
            async with asyncio.timeout(min(self.request_timeout, left)):
                async with self._http().request(
                    method, self.base_url + path, data=data, headers=headers
                ) as response:
                    body = await response.content.read(MAX_BODY + 1)
                    return response.status, body, _retry_after(response.headers)
        except TimeoutError:
            raise SourceUnavailable("timed out") from None
        except aiohttp.ClientError as exc:
            raise SourceUnavailable(f"connection failed ({type(exc).__name__})") from None

    def _report(self, kind: str, message: str) -> None:
        """Log a fault once per kind: operators need to know, not to be flooded."""
        if kind not in self._reported:
            self._reported.add(kind)
            logger.warning("USCIS API: %s", message)


def read_token(body: bytes) -> tuple[str, float]:
    """The access token and its lifetime in seconds from the token endpoint's answer.

    Raises:
        ValueError: not JSON, no token, or a lifetime that is no number of seconds from 1 to
            ``MAX_TOKEN_LIFETIME`` ("nan" would make the token expire never or at once).
    """
    try:
        data = json.loads(body)
        token = data["access_token"]
        lifetime = float(data.get("expires_in", 1799))
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise ValueError(type(exc).__name__) from None
    if not isinstance(token, str) or not token:
        raise ValueError("no token")
    if not 0 < lifetime <= MAX_TOKEN_LIFETIME:  # False for nan too
        raise ValueError("lifetime out of range")
    return token, lifetime


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare for a spike arrest; the backoff decides
    return seconds if 0 <= seconds <= 3600 else None
