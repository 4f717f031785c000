"""USCIS's limits, shared by every worker: a request rate and a daily budget.

USCIS answers too many requests per second with 429 (a "spike arrest") and stops answering a
client past its daily quota. Both are kept in the one ``uscis_quota`` row: each request first
*reserves* a moment, ``max(now, next_at)``, and moves ``next_at`` one interval on, and counts
itself in today's total; it then waits for its moment. Requests thus leave spaced by at least
``1/rate`` seconds whichever worker sends them, and the day's count never passes the budget.

A reservation is its own short transaction, committed before the request leaves, never part of
a chat turn (``core.cases.uscis.service.ask_uscis``): the try counts whatever becomes of the
turn, and the row is locked only for that statement. On PostgreSQL it runs on a small pool of
its own; on SQLite in a unit of work of its own (the caller passes it).

The day is the clock's UTC day. The interval carries a small margin, since a request leaves a
little after its moment and two late ones must not land in one of USCIS's seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from core.cases.uscis.models import UscisQuota
from core.cases.uscis.source import OutOfBudget
from core.db import Database
from core.uow import UnitOfWork

__all__ = ["Budget", "QuotaState", "quota_state", "reserve"]

ROW: Final = "default"
MARGIN: Final = 1.1  # requests leave 10% further apart than the rate allows


@dataclass(frozen=True, slots=True)
class Budget:
    """USCIS's limits for this client.

    Attributes:
        rate: requests per second (``CASEBOT_USCIS_RATE``).
        daily: requests per day (``CASEBOT_USCIS_DAILY_QUOTA``).
        kept_for_people: the share of ``daily`` the poller leaves to people's own lookups.
    """

    rate: float = 5.0
    daily: int = 1000
    kept_for_people: float = 0.3

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.daily < 1 or not 0 <= self.kept_for_people < 1:
            raise ValueError("a budget needs a positive rate and daily count")

    @property
    def interval(self) -> float:
        return MARGIN / self.rate

    @property
    def poller_limit(self) -> int:
        """How many of the day's requests the poller may use."""
        return int(self.daily * (1 - self.kept_for_people))


@dataclass(frozen=True, slots=True)
class QuotaState:
    day: date | None
    used: int
    next_at: float


async def reserve(
    db: Database,
    uow: UnitOfWork,
    budget: Budget,
    *,
    limit: int | None = None,
    max_wait: float,
    wall: Callable[[], float] = time.time,
) -> float:
    """Reserve one request: count it in today's total and take the next moment of the rate.

    Args:
        limit: today's count at which to refuse (default ``budget.daily``; the poller passes
            ``budget.poller_limit``).
        max_wait: the longest the caller can wait for its moment.

    Returns:
        The seconds to wait before sending.

    Raises:
        OutOfBudget: ``"quota"`` when today's count reached ``limit``; ``"busy"`` when the
            moment is more than ``max_wait`` away (nothing is reserved then).
    """
    today = uow.clock.now().date()
    cap = budget.daily if limit is None else min(limit, budget.daily)
    if db.dialect == "postgresql":
        async with db.engine.begin() as conn:
            return await _reserve(conn, today, cap, budget.interval, max_wait, wall)
    return await _reserve(
        await uow.session.connection(), today, cap, budget.interval, max_wait, wall
    )


async def _reserve(
    conn: AsyncConnection,
    today: date,
    cap: int,
    interval: float,
    max_wait: float,
    wall: Callable[[], float],
) -> float:
    await conn.execute(_seed(conn.dialect.name))
    row = (
        await conn.execute(
            select(UscisQuota.day, UscisQuota.used, UscisQuota.next_at)
            .where(UscisQuota.name == ROW)
            .with_for_update()
        )
    ).one()
    used = int(row.used) if row.day == today else 0
    if used >= cap:
        raise OutOfBudget("quota")
    now = wall()
    moment: float = max(now, float(row.next_at))
    if moment - now > max_wait:
        raise OutOfBudget("busy")
    await conn.execute(
        update(UscisQuota)
        .where(UscisQuota.name == ROW)
        .values(day=today, used=used + 1, next_at=moment + interval)
    )
    return moment - now


def _seed(dialect: str) -> Any:
    """The row, made by the first reservation ever (a no-op afterwards)."""
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(UscisQuota.__table__)
        .values(name=ROW, day=None, used=0, next_at=0.0)
        .on_conflict_do_nothing()
    )


async def quota_state(uow: UnitOfWork) -> QuotaState:
    """Today's count and the rate's next free moment, as stored (for operators)."""
    row = await uow.session.get(UscisQuota, ROW)
    if row is None:
        return QuotaState(None, 0, 0.0)
    today = uow.clock.now().date()
    return QuotaState(row.day, row.used if row.day == today else 0, row.next_at)
