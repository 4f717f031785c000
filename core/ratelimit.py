"""Fixed-window rate limits shared by every process, stored in the ``rate_limits`` table.

Each key has one row: the start of its current window and the count within it. Windows are
aligned on the Unix epoch (a one-minute window runs from :00 to :59), so every process agrees on
them without coordination. A hit is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``: the
database serialises concurrent hits of one key on its row, so no two processes can both read
"9 of 10" and both pass (PostgreSQL takes the row lock; SQLite has a single writer).

The hit is written in the caller's unit of work: it counts once the caller commits, which the
caller does even when a service raises (a refused or failed attempt must count).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Final

from sqlalchemy import ColumnElement, bindparam, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from core.errors import RateLimited
from core.outbox.models import RateLimitWindow
from core.statements import Prepared
from core.uow import UnitOfWork

__all__ = [
    "Usage",
    "hit",
    "hit_all",
    "increment",
    "purge_expired",
    "reset",
    "retry_after_seconds",
    "usage",
    "window_start",
]

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MAX_KEY_LENGTH: Final = 200


@dataclass(frozen=True, slots=True)
class Usage:
    """How often a key was hit in its current window, and when that window ends."""

    count: int
    resets_at: datetime


def window_start(now: datetime, window: timedelta) -> datetime:
    """The start of the fixed window that holds ``now`` (windows are aligned on the epoch).

    Raises:
        ValueError: the window is not positive, or ``now`` is naive.
    """
    if window <= timedelta(0):
        raise ValueError("the window must be positive")
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return EPOCH + ((now - EPOCH) // window) * window


def retry_after_seconds(now: datetime, resets_at: datetime) -> int:
    """Whole seconds until ``resets_at``, at least 1 (a client told 0 would retry at once)."""
    return max(1, math.ceil((resets_at - now).total_seconds()))


def _bounded(key: str) -> str:
    """Keys are built from requester ids of any length; a long one is shortened by a digest."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: MAX_KEY_LENGTH - len(digest) - 1]}#{digest}"


@cache
def _increment_statement(dialect: str, keys: int = 1) -> Prepared:
    """The upsert of one hit of each of ``keys`` keys, built once per dialect and size with
    bound parameters ``key_i`` and ``start_i`` (building and compiling it on every hit cost
    more than running it)."""
    if dialect == "postgresql":
        insert: Any = postgresql.insert
    elif dialect == "sqlite":
        insert = sqlite.insert
    else:
        raise RuntimeError(f"no rate limit support for {dialect}")
    table = RateLimitWindow.__table__
    # Typed: only the first row's parameters take the column's type by themselves; an untyped
    # window start of a later row went to the driver as a raw datetime (on SQLite, stored in
    # another text form that compared as an older window).
    key_type, start_type = table.c.key.type, table.c.window_start.type
    stmt = insert(table).values(
        [
            {
                "key": bindparam(f"key_{i}", type_=key_type),
                "window_start": bindparam(f"start_{i}", type_=start_type),
                "count": 1,
            }
            for i in range(keys)
        ]
    )
    # A row from an earlier window starts over at 1. A row from a later window (another
    # process whose clock runs a little ahead) is kept, and this hit counts in it.
    current = table.c.window_start >= stmt.excluded.window_start
    return Prepared(
        stmt.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((current, table.c.count + 1), else_=1),
                "window_start": case(
                    (current, table.c.window_start), else_=stmt.excluded.window_start
                ),
            },
        ).returning(table.c.key, table.c.count, table.c.window_start)
    )


async def increment(uow: UnitOfWork, key: str, *, window: timedelta) -> Usage:
    """Count one hit of ``key`` in its current window, atomically, and return the new usage."""
    [usage] = await _increment_all(uow, [(key, window)])
    return usage


async def _increment_all(uow: UnitOfWork, keys: Sequence[tuple[str, timedelta]]) -> list[Usage]:
    """Count one hit of each key in one statement; the usages in the order of ``keys``."""
    now = uow.clock.now()
    bounded = [_bounded(key) for key, _ in keys]
    if len(set(bounded)) != len(bounded):
        raise ValueError("each key may be hit once per statement")
    params: dict[str, Any] = {}
    for i, (key, (_, window)) in enumerate(zip(bounded, keys, strict=True)):
        params[f"key_{i}"], params[f"start_{i}"] = key, window_start(now, window)
    rows = await uow.fetch_all(_increment_statement(uow.dialect, len(keys)), params)
    found = {row[0]: (int(row[1]), row[2]) for row in rows}
    return [
        Usage(count=found[key][0], resets_at=found[key][1] + window)
        for key, (_, window) in zip(bounded, keys, strict=True)
    ]


async def hit_all(uow: UnitOfWork, limits: Sequence[tuple[str, int, timedelta]]) -> list[Usage]:
    """Count one request against each ``(key, limit, window)`` at once (one statement), and
    refuse it when any window holds more than its limit. Every window counts the request,
    refused or not, so hammering does not shorten the wait. Returns each window's usage, in
    the order of ``limits``, when none refused it.

    Raises:
        RateLimited: some window is over its limit; ``retry_after_seconds`` is the longest
            wait among those.
    """
    used = await _increment_all(uow, [(key, window) for key, _, window in limits])
    now = uow.clock.now()
    waits = [
        retry_after_seconds(now, usage.resets_at)
        for usage, (_, limit, _) in zip(used, limits, strict=True)
        if usage.count > limit
    ]
    if waits:
        raise RateLimited(retry_after_seconds=max(waits))
    return used


async def hit(uow: UnitOfWork, key: str, *, limit: int, window: timedelta) -> None:
    """Count one request of ``key`` and refuse it when the window holds more than ``limit``.

    A refused request counts too, so hammering does not shorten the wait.

    Raises:
        RateLimited: this is request ``limit + 1`` or later in the current window;
            ``retry_after_seconds`` is the time until the window ends.
    """
    used = await increment(uow, key, window=window)
    if used.count > limit:
        raise RateLimited(retry_after_seconds=retry_after_seconds(uow.clock.now(), used.resets_at))


async def usage(uow: UnitOfWork, key: str, *, window: timedelta) -> Usage:
    """How often ``key`` was hit in the current window, without counting a hit."""
    now = uow.clock.now()
    start = window_start(now, window)
    row = (
        await uow.session.execute(
            select(RateLimitWindow.count, RateLimitWindow.window_start).where(
                RateLimitWindow.key == _bounded(key)
            )
        )
    ).one_or_none()
    if row is None or row[1] < start:
        return Usage(count=0, resets_at=start + window)
    count: int = row[0]
    started: datetime = row[1]
    return Usage(count=count, resets_at=started + window)


async def reset(uow: UnitOfWork, key: str) -> None:
    """Forget every hit of ``key`` (for example after a success that clears a failure budget)."""
    await uow.session.execute(delete(RateLimitWindow).where(RateLimitWindow.key == _bounded(key)))


async def purge_expired(uow: UnitOfWork, *, before: datetime, limit: int | None = None) -> int:
    """Delete the rows whose window started before ``before`` (at most ``limit`` of them: a
    caller on SQLite deletes many in several short transactions); returns how many
    (housekeeping, ``bot/ops/housekeeping.py``).

    Pass a time at least one longest window ago, or a live window would start over.
    """
    old: ColumnElement[bool] = RateLimitWindow.window_start < before
    if limit is not None:
        oldest = select(RateLimitWindow.key).where(old).limit(limit).scalar_subquery()
        old = RateLimitWindow.key.in_(oldest)
    result = await uow.session.execute(delete(RateLimitWindow).where(old))
    return int(getattr(result, "rowcount", 0) or 0)
