"""The waiting-time figures supervisors watch, per language and for all lines together: who
waits now and the longest wait among them, who chats with an agent now, the wait before an
agent's first claim over the last day (p50 and p95), and the chats handled and abandoned since
the agents' day began.

Definitions (the same on SQLite and PostgreSQL):

- a wait runs from the person's request to the first time an agent claimed the chat (a chat
  passed to another language's line and claimed again there is counted once, by its first
  wait); waits are those of first claims within ``FIGURES_WINDOW`` before now, each in the
  line of the language the chat is in now;
- p50 and p95 are nearest-rank percentiles of those waits (``percentile``): a wait some person
  really had, never an interpolation;
- handled: chats closed since the day began that an agent held (closed by the agent, or ended
  by the person while chatting with one); abandoned: people who left the line before an
  agent took them, since the day began;
- the day begins at midnight in the agents' time zone (``start_of_day``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from core.handoff.models import Handoff, HandoffMessage, HandoffStatus, Sender
from core.handoff.service import OPEN
from core.uow import UnitOfWork

__all__ = [
    "FIGURES_WINDOW",
    "LineFigures",
    "WaitFigures",
    "percentile",
    "start_of_day",
    "wait_figures",
]

# The waits p50 and p95 are measured on: the first claims of the last day.
FIGURES_WINDOW: Final = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class LineFigures:
    """The figures of one line (or of all of them).

    Attributes:
        waiting: people waiting now.
        longest_wait: how long the one who has waited longest has waited (zero: nobody).
        with_agent: people chatting with an agent now.
        claims: first claims in the window: how many waits the percentiles are taken of.
        wait_p50: the median wait (None: no claims in the window).
        wait_p95: the wait 95 in 100 people did not exceed (None: no claims).
        handled_today: chats an agent held, closed since the day began.
        abandoned_today: people who left the line since the day began.
    """

    waiting: int = 0
    longest_wait: timedelta = timedelta()
    with_agent: int = 0
    claims: int = 0
    wait_p50: timedelta | None = None
    wait_p95: timedelta | None = None
    handled_today: int = 0
    abandoned_today: int = 0


@dataclass(frozen=True, slots=True)
class WaitFigures:
    """The figures of each line, in the order asked for (then any other line that has some),
    and of all lines together, as of ``day_start`` (the day) and ``window`` (the waits)."""

    day_start: datetime
    window: timedelta
    languages: dict[str, LineFigures]
    all: LineFigures


def percentile(values: Sequence[timedelta], share: float) -> timedelta | None:
    """The nearest-rank percentile: the smallest of ``values`` that at least ``share`` of them
    do not exceed (None when there are none).

    Raises:
        ValueError: ``share`` is not in (0, 1].
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], not {share}")
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def start_of_day(now: datetime, zone: str) -> datetime:
    """Midnight of ``now``'s day in ``zone``, as aware UTC."""
    tz = ZoneInfo(zone)
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz).astimezone(UTC)


@dataclass
class _Tally:
    waiting: int = 0
    oldest: datetime | None = None
    with_agent: int = 0
    waits: list[timedelta] = field(default_factory=list)
    handled: int = 0
    abandoned: int = 0

    def add(self, other: _Tally) -> None:
        self.waiting += other.waiting
        if other.oldest is not None and (self.oldest is None or other.oldest < self.oldest):
            self.oldest = other.oldest
        self.with_agent += other.with_agent
        self.waits.extend(other.waits)
        self.handled += other.handled
        self.abandoned += other.abandoned

    def figures(self, now: datetime) -> LineFigures:
        longest = timedelta() if self.oldest is None else max(timedelta(), now - self.oldest)
        return LineFigures(
            waiting=self.waiting,
            longest_wait=longest,
            with_agent=self.with_agent,
            claims=len(self.waits),
            wait_p50=percentile(self.waits, 0.5),
            wait_p95=percentile(self.waits, 0.95),
            handled_today=self.handled,
            abandoned_today=self.abandoned,
        )


async def wait_figures(
    uow: UnitOfWork,
    languages: Iterable[str],
    *,
    zone: str,
    window: timedelta = FIGURES_WINDOW,
) -> WaitFigures:
    """The figures of the lines of ``languages`` and of all lines, now (the unit of work's
    clock), the day beginning at midnight in ``zone`` (see the module docstring)."""
    now = uow.clock.now()
    day_start = start_of_day(now, zone)
    since = now - window
    tallies: defaultdict[str, _Tally] = defaultdict(_Tally)
    for language in languages:
        tallies[language] = _Tally()

    open_rows = await uow.session.execute(
        select(
            Handoff.language, Handoff.status, func.count(Handoff.id), func.min(Handoff.created_at)
        )
        .where(Handoff.status.in_(OPEN))
        .group_by(Handoff.language, Handoff.status)
    )
    for language, status, count, oldest in open_rows:
        tally = tallies[language]
        if status == HandoffStatus.WAITING:
            tally.waiting, tally.oldest = count, oldest
        else:
            tally.with_agent = count

    ended_rows = await uow.session.execute(
        select(Handoff.language, Handoff.status, func.count(Handoff.id))
        .where(
            Handoff.closed_at >= day_start,
            or_(
                Handoff.status == HandoffStatus.ABANDONED,
                (Handoff.status == HandoffStatus.CLOSED) & Handoff.staff_id.is_not(None),
            ),
        )
        .group_by(Handoff.language, Handoff.status)
    )
    for language, status, count in ended_rows:
        if status == HandoffStatus.ABANDONED:
            tallies[language].abandoned = count
        else:
            tallies[language].handled = count

    # A chat first claimed in the window was open at some time in it: still open, or ended
    # after it began. Only their events are read.
    recent = select(Handoff.id).where(or_(Handoff.status.in_(OPEN), Handoff.closed_at >= since))
    first_claims = (
        select(
            HandoffMessage.handoff_id.label("handoff_id"),
            func.min(HandoffMessage.created_at).label("at"),
        )
        .where(
            HandoffMessage.sender == Sender.SYSTEM,
            HandoffMessage.event == "claimed",
            HandoffMessage.handoff_id.in_(recent),
        )
        .group_by(HandoffMessage.handoff_id)
        .subquery()
    )
    claim_rows = await uow.session.execute(
        select(Handoff.language, Handoff.created_at, first_claims.c.at)
        .join(first_claims, first_claims.c.handoff_id == Handoff.id)
        .where(first_claims.c.at >= since)
    )
    for language, created_at, claimed_at in claim_rows:
        tallies[language].waits.append(max(timedelta(), claimed_at - created_at))

    everyone = _Tally()
    for tally in tallies.values():
        everyone.add(tally)
    return WaitFigures(
        day_start=day_start,
        window=window,
        languages={language: tally.figures(now) for language, tally in tallies.items()},
        all=everyone.figures(now),
    )
