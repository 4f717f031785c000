"""Whether an agent can take a person now, and when agents are next available: the port the
chat asks before it puts a person in the queue.

``AgentDesk`` is the port. ``FixedDesk`` is its simple implementation: a fixed set of languages
that agents speak, fixed weekly hours in one time zone, and a queue limit per language. The
staff accounts and their hours and availability take its place where they are configured.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.clock import Clock, SystemClock
from core.handoff.models import Handoff, HandoffStatus
from core.uow import UnitOfWorkFactory

__all__ = ["DEFAULT_HOURS", "AgentDesk", "FixedDesk", "WeeklyHours"]


class AgentDesk(Protocol):
    """The agents' side, as the chat sees it."""

    async def can_take(self, language: str) -> bool:
        """True when an agent who speaks ``language`` is available, it is within business
        hours, and that language's queue is not over its limit."""
        ...

    def next_opening(self, now: datetime) -> datetime:
        """When agents are next available (aware UTC); ``now`` itself within hours."""
        ...


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """The same hours every listed weekday (0 is Monday), in one time zone."""

    zone: str = "America/New_York"
    opens: time = time(8)
    closes: time = time(20)
    weekdays: frozenset[int] = frozenset(range(5))

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(ZoneInfo(self.zone))
        return local.weekday() in self.weekdays and self.opens <= local.time() < self.closes

    def next_opening(self, now: datetime) -> datetime:
        """``now`` when open, else the start of the next open day (aware UTC)."""
        if self.is_open(now):
            return now
        zone = ZoneInfo(self.zone)
        local = now.astimezone(zone)
        for days in range(8):
            day = local.date() + timedelta(days=days)
            start = datetime.combine(day, self.opens, tzinfo=zone)
            if day.weekday() in self.weekdays and start > local:
                return start.astimezone(UTC)
        raise ValueError("no open weekday")  # only when ``weekdays`` is empty


# The hours of USCIS's own live chat: weekdays, 8 a.m. to 8 p.m. Eastern.
DEFAULT_HOURS: Final = WeeklyHours()


@dataclass
class FixedDesk:
    """Agents of fixed languages, at fixed weekly hours.

    Args:
        languages: the languages an available agent speaks (empty: nobody can take a chat).
        hours: business hours; None: always open.
        queue_limit: most people waiting per language (None: no limit); counting them needs
            ``uow_factory``.
        uow_factory: where the queue is counted, joining the caller's unit of work when one is
            open.
        clock: the clock the hours are read with (default: ``uow_factory``'s, else the
            system's).
        available: False: nobody is available (an agent's "away").
    """

    languages: Collection[str] = ()
    hours: WeeklyHours | None = DEFAULT_HOURS
    queue_limit: int | None = None
    uow_factory: UnitOfWorkFactory | None = None
    clock: Clock | None = None
    available: bool = True
    _langs: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self._langs = frozenset(self.languages)
        if self.queue_limit is not None and self.uow_factory is None:
            raise ValueError("a queue limit needs uow_factory to count the queue")

    async def can_take(self, language: str) -> bool:
        if not self.available or language not in self._langs:
            return False
        if self.hours is not None and not self.hours.is_open(self._now()):
            return False
        if self.queue_limit is None or self.uow_factory is None:
            return True
        async with self.uow_factory() as uow:
            waiting = await uow.session.scalar(
                select(func.count(Handoff.id)).where(
                    Handoff.status == HandoffStatus.WAITING, Handoff.language == language
                )
            )
            return (waiting or 0) < self.queue_limit

    def _now(self) -> datetime:
        if self.clock is not None:
            return self.clock.now()
        if self.uow_factory is not None:
            return self.uow_factory.clock.now()
        return SystemClock().now()

    def next_opening(self, now: datetime) -> datetime:
        return now if self.hours is None else self.hours.next_opening(now)
