"""Waking the outbox dispatcher when a row it sends is committed, instead of at its next pass.

``add_notification`` asks its unit of work to call ``wake`` once the transaction commits (a
rolled-back row wakes nothing): the dispatcher of that channel in this process is woken through
an ``asyncio.Event`` (``event``). On PostgreSQL the same transaction also runs
``pg_notify('casebot_outbox', '<channel>')``, which the server delivers on commit to every
listening connection: the dispatcher of each worker listens (``bot.notify.dispatcher``) and
wakes that channel's loop, so a row written by another worker (or another process: the admin
CLI) is sent at once too. A lost wake-up costs only latency: the dispatcher's periodic pass
still finds every due row.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Final

from core.db import Database

__all__ = ["NOTIFY_CHANNEL", "OutboxWake", "wake_of"]

NOTIFY_CHANNEL: Final = "casebot_outbox"


class OutboxWake:
    """Events per channel and lane (a dispatcher loop each): all set when a row of the
    channel was committed."""

    def __init__(self) -> None:
        self._events: dict[str, dict[str, asyncio.Event]] = {}

    def event(self, channel: str, lane: str = "") -> asyncio.Event:
        """The event of a channel's loop (the dispatcher waits on it, and clears it before each
        pass); each ``lane`` of the channel has its own, so that one loop clearing its event
        never hides a wake-up from another."""
        return self._events.setdefault(channel, {}).setdefault(lane, asyncio.Event())

    def wake(self, channel: str) -> None:
        for event in self._events.get(channel, {}).values():
            event.set()


_WAKES: weakref.WeakKeyDictionary[Database, OutboxWake] = weakref.WeakKeyDictionary()


def wake_of(db: Database) -> OutboxWake:
    """The wake-ups of the dispatchers on ``db`` in this process."""
    wake = _WAKES.get(db)
    if wake is None:
        wake = _WAKES[db] = OutboxWake()
    return wake
