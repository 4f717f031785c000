"""The agents' desk through the real web app: a person asks for a person in the web chat, an
agent signed in to the console sees them waiting (live, on the console's WebSocket), claims
the chat (exactly one of many agents clicking at once wins), writes to them (the person's
page shows it), reads what they answer, passes the chat on and closes it; every action in the
audit log. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import App
from bot.channels.background import setup_notifications
from bot.channels.web import console_desk
from bot.channels.web.server import create_web_app
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.settings import Settings
from core.accounts.models import Account
from core.admin.audit import list_audit
from core.db import Database
from core.demo import DEMO_EMAIL
from core.handoff import request_agent, send_secure_message
from core.staff import StaffRole
from core.staff.desk import StaffDesk
from core.staff.models import StaffMember
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock, FakeMailer
from tests.integration.console_support import Agent, ready_agents, signed_in_agent
from tests.integration.webchat_support import ChatSession

Client = TestClient[Any, Any]
METRICS_TOKEN = "console-desk-metrics-token-0123456789"


@asynccontextmanager
async def server(db: Database, clock: FakeClock, *, dispatch: bool = True) -> AsyncIterator[Client]:
    """The web app whose desk is the staff's (as ``casebot serve`` composes it)."""
    uow_factory = UnitOfWorkFactory(db, clock)
    settings = Settings(metrics_token=METRICS_TOKEN)
    app = App(settings=settings, db=db, uow_factory=uow_factory, clock=clock)
    desk = StaffDesk(uow_factory, Settings().agent_hours)
    services = Services(uow_factory=uow_factory, mailer=FakeMailer(), clock=clock, agent_desk=desk)
    web_app: web.Application = create_web_app(app, engine=Engine(services, all_dialogs()))
    setup_notifications(web_app, app, dispatch=dispatch, interval=0.05)
    async with TestClient(TestServer(web_app)) as client:
        yield client


async def frame(ws: Any, **expected: Any) -> dict[str, Any]:
    """The next frame on the socket that has the ``expected`` values (``text`` in it)."""
    while True:
        got: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), 10)
        if all(
            (value in got.get(key, "")) if key == "text" else got.get(key) == value
            for key, value in expected.items()
        ):
            return got


async def waiting_of(client: Client, agent: Agent) -> list[dict[str, Any]]:
    response = await client.get("/api/console/queue", headers=agent.auth)
    assert response.status == 200
    waiting: list[dict[str, Any]] = (await response.json())["waiting"]
    return waiting


async def available(client: Client, agent: Agent) -> None:
    response = await client.post(
        "/api/console/me/availability", json={"available": True}, headers=agent.auth
    )
    assert response.status == 200


async def test_an_agent_takes_a_person_from_the_web_chat(db: Database, clock: FakeClock) -> None:
    uow_factory = UnitOfWorkFactory(db, clock)
    async with server(db, clock) as client:
        person = await ChatSession.open(client, locale="en")
        await person.send("I want to talk to a real person")
        assert "You are number 1" not in person.text  # nobody signed in: no line to join

        maria = await signed_in_agent(client, uow_factory, clock)
        await available(client, maria)
        console = await client.ws_connect(f"/api/console/ws?token={maria.token}")
        assert (await console.receive_json())["type"] == "ready"

        page = await client.ws_connect(f"/api/chat/sessions/{person.id}/ws?token={person.token}")
        await person.send("I want to talk to a real person")
        assert "You are number 1 in the line" in person.text
        waiting = await frame(console, type="handoff", event="requested")

        queue = await (await client.get("/api/console/queue", headers=maria.auth)).json()
        assert queue["waiting"] == [
            {
                "conversation_id": waiting["id"],
                "language": "en",
                "channel": "webchat",
                "waiting_seconds": 0,
                "topic": queue["waiting"][0]["topic"],
                "signed_in": False,
            }
        ]
        conversation = f"/api/console/conversations/{waiting['id']}"
        response = await client.post(conversation + "/claim", headers=maria.auth)
        assert response.status == 200, await response.text()
        [other] = await ready_agents(uow_factory, 1)
        refused = await client.post(conversation + "/claim", headers=other.auth)
        assert refused.status == 409
        assert (await refused.json())["error"]["code"] == "already_claimed"
        intruder = await client.post(
            conversation + "/messages", json={"text": "x"}, headers=other.auth
        )
        assert intruder.status == 403
        await frame(page, text="You are now chatting with Maria.")

        sent = await client.post(
            conversation + "/messages", json={"text": "Hello, how can I help?"}, headers=maria.auth
        )
        assert sent.status == 201
        said = await frame(page, text="Hello, how can I help?")
        assert said["text"] == "Maria: Hello, how can I help?"

        hostile = "<img src=x onerror=alert(document.domain)> where is my card?"
        await person.send(hostile)
        await frame(console, type="handoff", event="message", sender="person")
        seen = await (await client.get(conversation, headers=maria.auth)).json()
        assert seen["status"] == "claimed"
        assert ("person", hostile) in [(m["sender"], m["text"]) for m in seen["messages"]]
        assert "I want to talk to a real person" in [m["text"] for m in seen["bot_transcript"]]
        assert seen["context"] == {"cases": [], "appointments": []}

        response = await client.get("/api/console/canned?language=es", headers=maria.auth)
        canned = await response.json()
        assert canned["replies"][0]["text"].startswith("Hola")

        moved = await client.post(
            conversation + "/transfer", json={"staff_id": 999999}, headers=maria.auth
        )
        assert moved.status == 400
        bad = await client.post(
            conversation + "/close", json={"outcome": "bored"}, headers=maria.auth
        )
        assert (await bad.json())["error"]["code"] == "bad_outcome"
        closed = await client.post(
            conversation + "/close", json={"outcome": "resolved"}, headers=maria.auth
        )
        assert closed.status == 200
        await frame(page, text="Maria ended the chat.")
        await frame(console, type="handoff", event="closed")
        again = await client.post(
            conversation + "/close", json={"outcome": "resolved"}, headers=maria.auth
        )
        assert again.status == 409

        metrics = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        figures = await metrics.text()
        assert 'casebot_handoff_handled_total{outcome="resolved"} 1.0' in figures
        assert 'casebot_handoff_wait_seconds_count{language="en"} 1.0' in figures
        assert 'casebot_handoff_queue_length{language="en"} 0.0' in figures

        back = await person.send("menu")
        assert back
        assert "Maria" not in back[0]["text"]
        async with uow_factory() as uow:
            actions = [entry.action for entry in await list_audit(uow)]
        for action in ("handoff.claim", "handoff.message", "handoff.view", "handoff.close"):
            assert action in actions
        await console.close()
        await page.close()


async def test_transfer_to_another_language_and_agent(db: Database, clock: FakeClock) -> None:
    uow_factory = UnitOfWorkFactory(db, clock)
    async with server(db, clock) as client:
        english, spanish = await ready_agents(uow_factory, 2, ("en", "es"))
        [only_english] = await ready_agents(uow_factory, 1, ("en",), prefix="english")
        person = await ChatSession.open(client, locale="en")
        await person.send("I want to talk to a real person")
        [waiting] = await waiting_of(client, english)
        conversation = f"/api/console/conversations/{waiting['conversation_id']}"
        assert (await client.post(conversation + "/claim", headers=english.auth)).status == 200
        moved = await client.post(
            conversation + "/transfer", json={"language": "es"}, headers=english.auth
        )
        assert moved.status == 200
        assert (
            await waiting_of(client, only_english) == []
        )  # Spanish now: not for an English-only agent
        seen = await client.get(conversation, headers=only_english.auth)
        assert seen.status == 403
        assert (await client.post(conversation + "/claim", headers=spanish.auth)).status == 200
        async with uow_factory() as uow:
            staff_id = await uow.session.scalar(
                select(StaffMember.id).where(StaffMember.email == english.email)
            )
        handed = await client.post(
            conversation + "/transfer", json={"staff_id": staff_id}, headers=spanish.auth
        )
        assert handed.status == 200
        closed = await client.post(
            conversation + "/close", json={"outcome": "referred"}, headers=english.auth
        )
        assert closed.status == 200


async def test_fifty_agents_claim_at_once_and_one_wins(db: Database, clock: FakeClock) -> None:
    uow_factory = UnitOfWorkFactory(db, clock)
    async with server(db, clock) as client:
        agents = await ready_agents(uow_factory, 50)
        person = await ChatSession.open(client, locale="en")
        await person.send("I want to talk to a real person")
        [waiting] = await waiting_of(client, agents[0])
        path = f"/api/console/conversations/{waiting['conversation_id']}/claim"

        async def try_claim(agent: Agent) -> int:
            response = await client.post(path, headers=agent.auth)
            await response.read()
            return response.status

        statuses = await asyncio.gather(*(try_claim(agent) for agent in agents))
        assert sorted(statuses) == [200] + [409] * 49


async def test_secure_messages_of_the_agents_languages(db: Database, clock: FakeClock) -> None:
    uow_factory = UnitOfWorkFactory(db, clock)
    async with uow_factory() as uow:
        for locale, text in (("es", "¿Dónde está mi tarjeta?"), ("ko", "카드는 어디에 있나요?")):
            await send_secure_message(
                uow, channel="webchat", chat_id="gone", locale=locale, text=text
            )
        await uow.commit()
    async with server(db, clock) as client:
        [agent] = await ready_agents(uow_factory, 1, ("en", "es"))
        listed = await (await client.get("/api/console/messages", headers=agent.auth)).json()
        assert [m["text"] for m in listed["messages"]] == ["¿Dónde está mi tarjeta?"]
        reply = f"/api/console/messages/{listed['messages'][0]['id']}/reply"
        answered = await client.post(reply, json={"text": "Fue enviada."}, headers=agent.auth)
        assert answered.status == 200
        assert (await answered.json())["reply_text"] == "Fue enviada."
        twice = await client.post(reply, json={"text": "Otra vez."}, headers=agent.auth)
        assert twice.status == 409
        listed = await (await client.get("/api/console/messages", headers=agent.auth)).json()
        assert listed["messages"] == []


async def test_chat_tokens_are_refused_by_the_desk(db: Database, clock: FakeClock) -> None:
    uow_factory = UnitOfWorkFactory(db, clock)
    async with server(db, clock) as client:
        [agent] = await ready_agents(uow_factory, 1)
        person = await ChatSession.open(client, locale="en")
        for method, path in (
            ("GET", "/api/console/queue"),
            ("POST", "/api/console/conversations/1/claim"),
            ("GET", "/api/console/conversations/1"),
            ("GET", "/api/console/messages"),
            ("GET", "/api/console/canned"),
        ):
            response = await client.request(method, path, headers=person.auth)
            assert response.status == 401, path
        refused = await client.get(f"/api/console/ws?token={person.token}")
        assert refused.status == 401
        as_person = await client.get(f"/api/chat/sessions/{person.id}/messages", headers=agent.auth)
        assert as_person.status == 401


async def test_a_supervisor_sees_every_line_and_a_signed_in_persons_cases(
    db: Database, clock: FakeClock, demo: None
) -> None:
    uow_factory = UnitOfWorkFactory(db, clock)
    async with uow_factory() as uow:
        ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        await request_agent(
            uow,
            channel="telegram",
            chat_id="42",
            language="ko",
            topic="case_status",
            account_id=ana,
        )
        await uow.commit()
    async with server(db, clock) as client:
        [agent] = await ready_agents(uow_factory, 1, ("en",))
        [boss] = await ready_agents(uow_factory, 1, ("en",), "boss", StaffRole.SUPERVISOR)
        assert await waiting_of(client, agent) == []
        [waiting] = await waiting_of(client, boss)
        assert waiting["language"] == "ko"
        assert waiting["channel"] == "telegram"
        assert waiting["topic"] == "case_status"
        assert waiting["signed_in"] is True
        path = f"/api/console/conversations/{waiting['conversation_id']}"
        assert (await client.get(path, headers=agent.auth)).status == 403
        seen = await (await client.get(path, headers=boss.auth)).json()
        assert seen["bot_transcript"] == []  # Telegram keeps none
        assert seen["context"]["cases"]
        assert all(len(case["receipt"]) == 13 for case in seen["context"]["cases"])


@pytest.mark.postgres
async def test_the_console_hears_a_person_on_another_worker(
    postgres_db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's console on one worker, the person on another: the person's message reaches
    the console by LISTEN/NOTIFY (the hub's fallback read is pushed out of the test's reach)."""
    monkeypatch.setattr(console_desk, "FALLBACK_TICK", 3600.0)
    other_process = Database(postgres_db.url)
    uow_factory = UnitOfWorkFactory(postgres_db, clock)
    try:
        async with (
            server(postgres_db, clock) as agents_worker,
            server(other_process, clock, dispatch=False) as persons_worker,
        ):
            [agent] = await ready_agents(uow_factory, 1)
            console = await agents_worker.ws_connect(f"/api/console/ws?token={agent.token}")
            assert (await console.receive_json())["type"] == "ready"
            person = await ChatSession.open(persons_worker, locale="en")
            await person.send("I want to talk to a real person")
            waiting = await frame(console, type="handoff", event="requested")
            claimed = await agents_worker.post(
                f"/api/console/conversations/{waiting['id']}/claim", headers=agent.auth
            )
            assert claimed.status == 200
            await person.send("Is anyone there?")
            await frame(console, type="handoff", event="message", sender="person")
            await console.close()
    finally:
        await other_process.dispose()
