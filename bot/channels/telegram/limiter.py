"""The outgoing rate limiter of the Telegram channel: Telegram's flood limits, kept per chat.

``CasebotRateLimiter`` plugs into python-telegram-bot with
``ApplicationBuilder().rate_limiter(CasebotRateLimiter())``; every Bot API call except
``getUpdates`` then goes through :meth:`CasebotRateLimiter.process_request`.

What it keeps (Telegram's published limits):

- at most ``overall_rate`` messages per second for the whole bot (default 30), spaced evenly
  (one every ``1 / overall_rate`` s) rather than sent in bursts. A message counts in the overall
  window from the moment it is sent until ``1 + margin`` s after its answer came back; a new one
  goes out only while fewer than ``overall_rate`` are counted. Telegram received each message
  between its send and its answer, so however requests bunch up on the way (in the HTTP client's
  pool, in the network), none of Telegram's seconds gets more than ``overall_rate``, and at most
  ``overall_rate`` requests are in flight. The price: when the overall limit binds, the rate is
  ``overall_rate / (1 + margin + latency)``;
- at most one message per second to one chat, sustained, counted from the answer to the previous
  one; a chat that was quiet may get a short burst of ``chat_burst`` messages at once (default
  3: a reply in two messages, or the edit of a pressed button and its answer, arrives together).
  It is a token bucket (kept as a "theoretical arrival time", GCRA): each answered message
  moves the chat's time ``chat_interval`` later, and a message may go once that time is less
  than ``chat_burst - 1`` intervals ahead of now. After a 429 the bucket is empty: the chat
  resumes one message per second;
- at most ``group_rate`` messages per minute to one group, supergroup or channel (default 20;
  a negative chat id or an ``@username``), as an exact sliding window of 60 s.

Which calls count, and the limits themselves: ``bot.channels.telegram.flood_limits``.

Order and fairness: the messages of one chat are sent one after another in the order they
reached the limiter (an asyncio lock per chat, which is FIFO), and a message keeps its place
while it is retried. Only the head message of each chat competes for the overall slots, which
are handed out first come first served; so a chat with a thousand queued messages takes one slot
per second and cannot starve the others.

Failures: ``RetryAfter`` (HTTP 429) pauses *that chat only* for ``retry_after`` seconds, then the
same request is sent again - without limit, since Telegram always names a finite wait; the other
chats keep going (unlike ``AIORateLimiter``, which halts every request). ``NetworkError`` and
``TimedOut`` (python-telegram-bot raises ``NetworkError`` for 5xx answers and for transport
failures) are retried with exponential backoff and full jitter, at most ``network_tries``
attempts in all with waits capped at ``max_backoff`` s, and then raised. ``BadRequest`` is a
subclass of ``NetworkError`` but is never retried, nor is any other error. A retry after a timeout
may deliver a message twice: for a reply, twice is better than never.

Nothing here logs a message text, a chat's content or the bot token (the token is only in the
URL, which this module never sees).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, TypeAlias

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from bot.channels.telegram.flood_limits import (
    CHAT_BURST,
    CHAT_INTERVAL,
    GROUP_PERIOD,
    GROUP_RATE,
    MARGIN,
    OVERALL_RATE,
    chat_key,
    counts_as_message,
)

__all__ = ["CasebotRateLimiter", "chat_key", "counts_as_message"]

logger = logging.getLogger(__name__)

ApiResult: TypeAlias = bool | dict[str, Any] | list[dict[str, Any]]
ApiCallback: TypeAlias = Callable[..., Coroutine[Any, Any, ApiResult]]

NETWORK_TRIES: Final = 5
"""Attempts in all for a request that keeps failing with a network error or a 5xx."""
FIRST_BACKOFF: Final = 0.5
MAX_BACKOFF: Final = 30.0

_PRUNE_FLOOR: Final = 1024


def _retry_after_seconds(exc: RetryAfter) -> float:
    # v22's public `retry_after` is an int or a timedelta depending on PTB_TIMEDELTA, and warns
    # when it is an int; the stored value is always a timedelta.
    stored = getattr(exc, "_retry_after", None)
    value = stored if isinstance(stored, timedelta) else exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass(eq=False)
class _Chat:
    """The schedule of one chat: its FIFO lane, when it may next be sent to, its group window."""

    is_group: bool
    users: int = 0
    """Requests inside process_request for this chat (a chat in use is never forgotten)."""
    lane: asyncio.Lock = field(default_factory=asyncio.Lock)
    not_before: float = 0.0
    """Loop time before which nothing may go to this chat (a 429 pause)."""
    spaced_until: float = 0.0
    """The chat's theoretical arrival time (GCRA): one ``chat_interval`` past it per answered
    message; a message may go while it is less than ``chat_burst - 1`` intervals ahead."""
    paused_until: float = 0.0
    """Loop time at which a 429 pause ends; also held back the calls that are not messages."""
    recent: deque[float] = field(default_factory=deque)
    """Send times of the last ``group_rate`` messages (groups only)."""

    def idle(self, now: float, group_period: float) -> bool:
        return (
            self.users == 0
            and self.not_before <= now
            and self.spaced_until <= now
            and self.paused_until <= now
            and (not self.recent or self.recent[-1] + group_period <= now)
        )


class CasebotRateLimiter(BaseRateLimiter[int]):
    """Keeps Telegram's flood limits per chat; a 429 pauses only the chat it concerns.

    Args:
        overall_rate: Messages per second for the whole bot; must be positive.
        chat_interval: Seconds between two messages to one chat, sustained; 0 or more.
        chat_burst: Messages one quiet chat may get at once; 1 or more (1: no burst).
        group_rate: Messages per ``group_period`` to one group; must be positive.
        group_period: Seconds of the group window; 0 or more (0: no group window).
        network_tries: Attempts in all on a network error or a 5xx before it is raised; 1 or
            more. ``rate_limit_args`` (an int given to a bot method) overrides it per call.
        first_backoff: Upper bound of the first wait after a network error, in seconds; each
            further wait doubles it, capped at ``max_backoff``; the wait is drawn uniformly
            below that bound ("full jitter") so that many failed sends do not retry in step.
        max_backoff: The cap of one wait, in seconds.
        limits_enabled: False sends at once, with no limit at all (a benchmark's ceiling); the
            429 pause and the network retries still apply.
        margin: Seconds added to the overall 1 s window, counted after a message's answer:
            slack for clock and timer differences between this limiter and Telegram. It costs
            about ``margin`` of the overall rate (5% by default) when the overall limit binds.
        rng: The source of jitter (a seeded ``random.Random`` makes tests repeatable).

    Raises:
        ValueError: At construction, for a rate, period or number of tries out of range.
    """

    __slots__ = (
        "_chat_burst",
        "_chat_interval",
        "_chats",
        "_done",
        "_first_backoff",
        "_gate",
        "_group_period",
        "_group_rate",
        "_in_flight",
        "_limits_enabled",
        "_margin",
        "_max_backoff",
        "_network_tries",
        "_next_slot",
        "_overall_interval",
        "_overall_rate",
        "_prune_at",
        "_released",
        "_rng",
    )

    def __init__(
        self,
        *,
        overall_rate: float = OVERALL_RATE,
        chat_interval: float = CHAT_INTERVAL,
        chat_burst: int = CHAT_BURST,
        group_rate: int = GROUP_RATE,
        group_period: float = GROUP_PERIOD,
        network_tries: int = NETWORK_TRIES,
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        limits_enabled: bool = True,
        margin: float = MARGIN,
        rng: random.Random | None = None,
    ) -> None:
        if overall_rate <= 0:
            raise ValueError(f"overall_rate must be positive, got {overall_rate!r}")
        if chat_interval < 0 or group_period < 0:
            raise ValueError("chat_interval and group_period must not be negative")
        if chat_burst < 1:
            raise ValueError(f"chat_burst must be at least 1, got {chat_burst!r}")
        if group_rate < 1:
            raise ValueError(f"group_rate must be at least 1, got {group_rate!r}")
        if network_tries < 1:
            raise ValueError(f"network_tries must be at least 1, got {network_tries!r}")
        if first_backoff < 0 or max_backoff < 0 or margin < 0:
            raise ValueError("first_backoff, max_backoff and margin must not be negative")
        self._overall_interval = 1.0 / overall_rate
        self._overall_rate = overall_rate
        self._margin = margin
        self._done: deque[float] = deque()
        """When each message answered within the last ``1 + margin`` s, in order."""
        self._in_flight = 0
        """Messages sent and not answered yet."""
        self._gate = asyncio.Lock()
        self._released = asyncio.Event()
        self._chat_interval = chat_interval
        self._chat_burst = chat_burst
        self._group_rate = group_rate
        self._group_period = group_period
        self._network_tries = network_tries
        self._first_backoff = first_backoff
        self._max_backoff = max_backoff
        self._limits_enabled = limits_enabled
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self._chats: dict[int | str, _Chat] = {}
        self._next_slot = 0.0
        self._prune_at = _PRUNE_FLOOR

    async def initialize(self) -> None:
        """Start from an empty schedule (nothing to open)."""
        self._chats.clear()
        self._done.clear()
        self._in_flight = 0
        self._next_slot = 0.0

    async def shutdown(self) -> None:
        """Forget the schedule; requests still waiting are cancelled by their callers."""
        self._chats.clear()

    async def process_request(
        self,
        callback: ApiCallback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        """Send one Bot API request when the limits allow it, retrying as the module says.

        Returns:
            What ``callback`` returned.

        Raises:
            telegram.error.NetworkError: The last network error or 5xx, once ``network_tries``
                attempts failed.
            telegram.error.TelegramError: Any other error of the call, at once (not retried).
        """
        tries = rate_limit_args if rate_limit_args and rate_limit_args > 0 else None
        key = chat_key(data.get("chat_id"))
        if key is None:
            return await self._send(callback, args, kwargs, None, tries, message=False)
        chat = self._chat(*key)
        chat.users += 1
        try:
            if not counts_as_message(endpoint):
                return await self._send(callback, args, kwargs, chat, tries, message=False)
            # The lane keeps the chat's messages in order, retries included.
            async with chat.lane:
                return await self._send(callback, args, kwargs, chat, tries, message=True)
        finally:
            chat.users -= 1

    async def _send(
        self,
        callback: ApiCallback,
        args: Any,
        kwargs: dict[str, Any],
        chat: _Chat | None,
        tries: int | None,
        *,
        message: bool,
    ) -> ApiResult:
        loop = asyncio.get_running_loop()
        network_tries = tries or self._network_tries
        failures = 0
        while True:
            if chat is not None and chat.paused_until > loop.time():
                await asyncio.sleep(chat.paused_until - loop.time())
            counted = message and chat is not None and self._limits_enabled
            if counted and chat is not None:
                await self._wait_turn(chat)
            try:
                try:
                    return await callback(*args, **kwargs)
                finally:
                    if counted and chat is not None:
                        self._answered(chat)
            except RetryAfter as exc:
                wait = _retry_after_seconds(exc)
                resume = loop.time() + wait
                logger.info("Telegram asked to wait %.1f s (429); pausing that chat only", wait)
                if chat is None:
                    await asyncio.sleep(wait)
                else:
                    chat.paused_until = max(chat.paused_until, resume)
                    chat.not_before = max(chat.not_before, resume)
                    # No burst after a 429: one message at the pause's end, then 1 a second.
                    burst_ahead = (self._chat_burst - 1) * self._chat_interval
                    chat.spaced_until = max(chat.spaced_until, resume + burst_ahead)
            except BadRequest:
                raise
            except NetworkError as exc:
                failures += 1
                if failures >= network_tries:
                    logger.warning(
                        "Bot API request failed %d times (%s); giving up",
                        failures,
                        type(exc).__name__,
                    )
                    raise
                bound = min(self._max_backoff, self._first_backoff * 2 ** (failures - 1))
                delay = self._rng.uniform(0, bound)
                logger.info(
                    "Bot API request failed (%s), try %d of %d; retrying in %.2f s",
                    type(exc).__name__,
                    failures,
                    network_tries,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _wait_turn(self, chat: _Chat) -> None:
        """Sleep until this chat may receive a message and an overall slot is free; take both.

        Called only by the chat's lane holder, so the chat's own fields are not contended. The
        chat's time comes first and the overall slot second: a chat waiting out its second does
        not hold a slot another chat could use.
        """
        if not self._limits_enabled:
            return
        loop = asyncio.get_running_loop()
        while True:
            ready = self._ready_at(chat)
            if ready <= loop.time():
                break
            await asyncio.sleep(ready - loop.time())
        # Reserving the slot is synchronous, so slots go out first come first served.
        slot = max(loop.time(), self._next_slot)
        self._next_slot = slot + self._overall_interval
        if slot > loop.time():
            await asyncio.sleep(slot - loop.time())
        # The overall window counts a message from the moment it is sent until 1 s (plus the
        # margin) after its answer came back: Telegram received it somewhere in between, so
        # however the HTTP client queued or bunched the requests on the way, no second of
        # Telegram's can hold more than overall_rate of them. It also caps the requests in
        # flight at overall_rate. The gate (FIFO) keeps the slots first come first served.
        async with self._gate:
            window = 1.0 + self._margin
            while True:
                while self._done and self._done[0] + window - loop.time() <= 0:
                    self._done.popleft()
                if self._in_flight + len(self._done) < self._overall_rate:
                    break
                self._released.clear()
                wait = self._done[0] + window - loop.time() if self._done else None
                try:
                    await asyncio.wait_for(self._released.wait(), wait)
                except TimeoutError:
                    # The timer was set for the oldest answer's window to end (asyncio may fire
                    # it a clock tick early, so the comparison above could still say "not yet").
                    self._done.popleft()
            self._in_flight += 1

    def _ready_at(self, chat: _Chat) -> float:
        """The loop time from which the chat's own limits let its next message go."""
        burst_ahead = (self._chat_burst - 1) * self._chat_interval
        ready = max(chat.not_before, chat.spaced_until - burst_ahead)
        if chat.is_group and len(chat.recent) >= self._group_rate:
            ready = max(ready, chat.recent[0] + self._group_period)
        return ready

    def chat_delay(self, chat_id: object) -> float:
        """Seconds the next message to this chat would wait for the chat's own limits (its
        spacing or burst, a 429 pause, a group's window) if it were sent now; 0 when it may go
        at once. The overall rate is not counted. Call it on the running loop."""
        key = chat_key(chat_id)
        chat = self._chats.get(key[0]) if key is not None else None
        if chat is None or not self._limits_enabled:
            return 0.0
        return max(0.0, self._ready_at(chat) - asyncio.get_running_loop().time())

    def _answered(self, chat: _Chat) -> None:
        """Date a sent message by its answer (or failure): the window and the chat's spacing.

        The chat's time moves one interval past this answer (or past where it was), not past
        the send: the lane holds the next message back until now anyway, and Telegram received
        this one before now. Within a burst the next message may go at once.
        """
        answered_at = asyncio.get_running_loop().time()
        self._in_flight -= 1
        self._done.append(answered_at)
        self._released.set()
        # A 429 of this chat cannot arrive meanwhile: the lane holder is the only sender.
        chat.spaced_until = max(chat.spaced_until, answered_at) + self._chat_interval
        if chat.is_group and self._group_period > 0:
            chat.recent.append(answered_at)
            while len(chat.recent) > self._group_rate:
                chat.recent.popleft()

    def _chat(self, key: int | str, is_group: bool) -> _Chat:
        chat = self._chats.get(key)
        if chat is None:
            if len(self._chats) >= self._prune_at:
                self._prune()
            chat = self._chats[key] = _Chat(is_group=is_group)
        return chat

    def _prune(self) -> None:
        """Forget the chats whose schedule no longer constrains anything (bounded memory).

        Runs when the table has doubled since the last pruning, so it costs O(1) per new chat.
        """
        now = asyncio.get_running_loop().time()
        for key in [k for k, c in self._chats.items() if c.idle(now, self._group_period)]:
            del self._chats[key]
        self._prune_at = max(_PRUNE_FLOOR, 2 * len(self._chats))
