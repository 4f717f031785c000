"""The supervisors' waiting-time figures on a real database (SQLite and PostgreSQL): who waits
now and for how long, the wait before an agent's first claim (p50/p95 over the last day), and
the chats handled and abandoned since the day began in the agents' time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.handoff import claim, close, end_by_person, request_agent, transfer
from core.handoff.figures import FIGURES_WINDOW, LineFigures, wait_figures
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

ZONE = "America/New_York"
# 10:00 in New York: the agents' day began at 05:00 UTC.
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
AGENT = 7


class Desk:
    """Handoffs written at chosen moments of the fake clock."""

    def __init__(self, uow_factory: UnitOfWorkFactory, clock: FakeClock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.chats = 0

    async def ask(self, at: datetime, language: str = "en") -> int:
        self.clock.set(at)
        self.chats += 1
        async with self.uow_factory() as uow:
            handoff = await request_agent(
                uow, channel="webchat", chat_id=f"chat-{self.chats}", language=language
            )
            await uow.commit()
            return handoff.id

    async def claim(self, handoff_id: int, at: datetime, staff_id: int = AGENT) -> None:
        self.clock.set(at)
        async with self.uow_factory() as uow:
            await claim(uow, handoff_id, staff_id, f"Agent {staff_id}")
            await uow.commit()

    async def close(self, handoff_id: int, at: datetime) -> None:
        self.clock.set(at)
        async with self.uow_factory() as uow:
            await close(uow, handoff_id, "resolved", staff_id=AGENT)
            await uow.commit()

    async def leave(self, handoff_id: int, at: datetime) -> None:
        self.clock.set(at)
        async with self.uow_factory() as uow:
            await end_by_person(uow, handoff_id)
            await uow.commit()

    async def to_language(self, handoff_id: int, language: str, at: datetime) -> None:
        self.clock.set(at)
        async with self.uow_factory() as uow:
            await transfer(uow, handoff_id, AGENT, to_language=language)
            await uow.commit()


def seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


async def test_figures_of_each_line_and_of_all(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    desk = Desk(uow_factory, clock)
    # Two days ago: a long wait, out of the last day's window.
    old = await desk.ask(NOW - timedelta(days=2))
    await desk.claim(old, NOW - timedelta(days=2) + seconds(1000))
    await desk.close(old, NOW - timedelta(days=2) + seconds(2000))
    # Last night (before the agents' day began, within the last 24 hours): a 60 s wait, handled
    # and closed yesterday; one who left the line yesterday.
    night = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    late = await desk.ask(night)
    await desk.claim(late, night + seconds(60))
    await desk.close(late, night + seconds(600))
    gone = await desk.ask(night + seconds(700))
    await desk.leave(gone, night + seconds(800))
    # This morning: waits of 10, 20, 30 and 40 s; two closed by the agent, one ended by the
    # person, one still chatting; and one who left the line.
    morning = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    ids = []
    for n, wait in enumerate((10, 20, 30, 40)):
        start = morning + timedelta(minutes=10 * n)
        handoff_id = await desk.ask(start)
        await desk.claim(handoff_id, start + seconds(wait))
        ids.append(handoff_id)
    await desk.close(ids[0], morning + timedelta(minutes=50))
    await desk.close(ids[1], morning + timedelta(minutes=51))
    await desk.leave(ids[2], morning + timedelta(minutes=52))
    left = await desk.ask(morning + timedelta(minutes=53))
    await desk.leave(left, morning + timedelta(minutes=54))
    # Claimed after 5 s in the English line, passed to the Spanish line and claimed again
    # there 100 s later: one wait, the first (5 s), counted in the line it is in now.
    moved = await desk.ask(morning + timedelta(minutes=55))
    await desk.claim(moved, morning + timedelta(minutes=55) + seconds(5))
    await desk.to_language(moved, "es", morning + timedelta(minutes=56))
    await desk.claim(moved, morning + timedelta(minutes=56) + seconds(100), staff_id=8)
    # Waiting now: two in English (for 90 and 30 s), one in Spanish (for 45 s).
    await desk.ask(NOW - seconds(90))
    await desk.ask(NOW - seconds(45), "es")
    await desk.ask(NOW - seconds(30))

    clock.set(NOW)
    async with uow_factory() as uow:
        figures = await wait_figures(uow, ("en", "es", "ko"), zone=ZONE)

    assert figures.day_start == datetime(2026, 3, 2, 5, 0, tzinfo=UTC)
    assert figures.window == FIGURES_WINDOW
    assert list(figures.languages) == ["en", "es", "ko"]
    assert figures.languages["en"] == LineFigures(
        waiting=2,
        longest_wait=seconds(90),
        with_agent=1,
        claims=5,  # 60, 10, 20, 30, 40 s
        wait_p50=seconds(30),
        wait_p95=seconds(60),
        handled_today=3,
        abandoned_today=1,
    )
    assert figures.languages["es"] == LineFigures(
        waiting=1,
        longest_wait=seconds(45),
        with_agent=1,
        claims=1,
        wait_p50=seconds(5),
        wait_p95=seconds(5),
        handled_today=0,
        abandoned_today=0,
    )
    assert figures.languages["ko"] == LineFigures(
        waiting=0,
        longest_wait=timedelta(),
        with_agent=0,
        claims=0,
        wait_p50=None,
        wait_p95=None,
        handled_today=0,
        abandoned_today=0,
    )
    assert figures.all == LineFigures(
        waiting=3,
        longest_wait=seconds(90),
        with_agent=2,
        claims=6,  # 5, 10, 20, 30, 40, 60 s
        wait_p50=seconds(20),
        wait_p95=seconds(60),
        handled_today=3,
        abandoned_today=1,
    )


async def test_a_line_not_asked_for_is_still_reported(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    desk = Desk(uow_factory, clock)
    await desk.ask(NOW - seconds(12), "xx")
    clock.set(NOW)
    async with uow_factory() as uow:
        figures = await wait_figures(uow, ("en",), zone=ZONE)
    assert list(figures.languages) == ["en", "xx"]
    assert figures.languages["xx"].waiting == 1
    assert figures.languages["xx"].longest_wait == seconds(12)
    assert figures.all.waiting == 1


async def test_nobody_at_all_gives_zeros_and_no_percentiles(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        figures = await wait_figures(uow, ("en",), zone=ZONE)
    assert figures.all == LineFigures(
        waiting=0,
        longest_wait=timedelta(),
        with_agent=0,
        claims=0,
        wait_p50=None,
        wait_p95=None,
        handled_today=0,
        abandoned_today=0,
    )
