"""The staff desk: a chat is put through only within the agents' hours, when a signed-in,
available agent speaks its language, and while that language's line is under its limit."""

from __future__ import annotations

from datetime import UTC, datetime

from core.handoff import request_agent
from core.staff.desk import StaffDesk
from core.staff.hours import parse_hours
from core.staff.models import StaffMember
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.console_support import ready_agents

HOURS = parse_hours("America/New_York Mon-Fri 08:00-20:00")


async def test_an_available_agent_of_the_language_within_hours(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    desk = StaffDesk(uow_factory, HOURS, queue_limit=2)
    assert not await desk.can_take("es")  # nobody signed in
    await ready_agents(uow_factory, 1, ("es",))
    assert await desk.can_take("es")
    assert not await desk.can_take("ko")  # nobody speaks Korean

    async with uow_factory() as uow:
        for n in range(2):
            await request_agent(uow, channel="webchat", chat_id=f"chat-{n}", language="es")
        await uow.commit()
    assert not await desk.can_take("es")  # the line is full

    async with uow_factory() as uow:
        member = await uow.session.get(StaffMember, 1)
        assert member is not None
        member.available = False  # away
        await uow.commit()
    assert not await StaffDesk(uow_factory, HOURS, queue_limit=None).can_take("es")


async def test_outside_hours_and_the_next_opening(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    saturday = datetime(2026, 3, 7, 15, tzinfo=UTC)
    clock.advance(saturday - clock.now())
    await ready_agents(uow_factory, 1, ("en",))
    desk = StaffDesk(uow_factory, HOURS)
    assert not await desk.can_take("en")
    weekends = parse_hours("America/New_York Sat-Sun 08:00-20:00")
    assert await StaffDesk(uow_factory, weekends).can_take("en")
    assert desk.next_opening(saturday) == datetime(2026, 3, 9, 12, tzinfo=UTC)  # Mon 8:00 EDT
