"""The supervisors' waiting-time figures through the console API (``GET /api/console/stats``):
a supervisor reads every line's figures, an agent is refused with a JSON 403, and a chat token
or none is not a console token. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from core.handoff import claim, close, end_by_person, request_agent
from core.staff import StaffRole
from core.staff.models import STAFF_LANGUAGES
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.console_support import ready_agents
from tests.integration.webchat_support import ChatSession

Client = TestClient[Any, Any]
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York, the agents' time zone
EMPTY = {
    "waiting": 0,
    "longest_wait_seconds": 0,
    "with_agent": 0,
    "claims": 0,
    "wait_p50_seconds": None,
    "wait_p95_seconds": None,
    "handled_today": 0,
    "abandoned_today": 0,
}


async def known_handoffs(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> None:
    """English: waits of 30 s (then closed) and 90 s (chatting still), one who left the line;
    Spanish: two waiting, for 120 and 60 s."""

    async def ask(chat_id: str, language: str, at: datetime) -> int:
        clock.set(at)
        async with uow_factory() as uow:
            handoff = await request_agent(
                uow, channel="webchat", chat_id=chat_id, language=language
            )
            await uow.commit()
            return handoff.id

    async def take(handoff_id: int, at: datetime) -> None:
        clock.set(at)
        async with uow_factory() as uow:
            await claim(uow, handoff_id, 1, "Maria")
            await uow.commit()

    first = await ask("a", "en", NOW - timedelta(hours=2))
    await take(first, NOW - timedelta(hours=2) + timedelta(seconds=30))
    clock.set(NOW - timedelta(hours=1))
    async with uow_factory() as uow:
        await close(uow, first, "resolved", staff_id=1)
        await uow.commit()
    second = await ask("b", "en", NOW - timedelta(minutes=30))
    await take(second, NOW - timedelta(minutes=30) + timedelta(seconds=90))
    left = await ask("c", "en", NOW - timedelta(minutes=20))
    clock.set(NOW - timedelta(minutes=19))
    async with uow_factory() as uow:
        await end_by_person(uow, left)
        await uow.commit()
    await ask("d", "es", NOW - timedelta(seconds=120))
    await ask("e", "es", NOW - timedelta(seconds=60))
    clock.set(NOW)


async def test_a_supervisor_reads_the_figures_of_every_line(
    client: Client, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await known_handoffs(uow_factory, clock)
    [boss] = await ready_agents(uow_factory, 1, ("en",), "boss", StaffRole.SUPERVISOR)

    response = await client.get("/api/console/stats", headers=boss.auth)

    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    stats = await response.json()
    assert stats["time_zone"] == "America/New_York"
    assert stats["day_start"] == "2026-03-02T05:00:00+00:00"
    assert stats["window_seconds"] == 24 * 3600
    lines = {line.pop("language"): line for line in stats["languages"]}
    assert list(lines) == list(STAFF_LANGUAGES)  # every line, a quiet one too
    assert lines["en"] == {
        "waiting": 0,
        "longest_wait_seconds": 0,
        "with_agent": 1,
        "claims": 2,
        "wait_p50_seconds": 30,
        "wait_p95_seconds": 90,
        "handled_today": 1,
        "abandoned_today": 1,
    }
    assert lines["es"] == {**EMPTY, "waiting": 2, "longest_wait_seconds": 120}
    assert lines["ko"] == EMPTY
    assert stats["all"] == {
        "waiting": 2,
        "longest_wait_seconds": 120,
        "with_agent": 1,
        "claims": 2,
        "wait_p50_seconds": 30,
        "wait_p95_seconds": 90,
        "handled_today": 1,
        "abandoned_today": 1,
    }


async def test_an_agent_is_refused_the_figures(
    client: Client, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await known_handoffs(uow_factory, clock)
    [agent] = await ready_agents(uow_factory, 1, STAFF_LANGUAGES)

    response = await client.get("/api/console/stats", headers=agent.auth)

    assert response.status == 403
    assert response.content_type == "application/json"
    body = await response.json()
    assert list(body) == ["error"]  # no figure in it
    assert body["error"]["code"] == "supervisors_only"


async def test_no_console_token_no_figures(client: Client) -> None:
    person = await ChatSession.open(client, locale="en")
    for headers in ({}, person.auth, {"Authorization": "Bearer not-a-token"}):
        response = await client.get("/api/console/stats", headers=headers)
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"
