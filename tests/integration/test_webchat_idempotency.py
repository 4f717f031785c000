"""A message sent again with the same Idempotency-Key runs its turn once (SQLite and
PostgreSQL): the widget retries a message whose answer did not arrive (the server restarting,
the network gone), and the person must not book twice or be counted twice."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.channels.web.chat import WebChatHub
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from core.accounts.otp import totp
from core.db import Database
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.uow import UnitOfWorkFactory
from core.web_sessions import WebMessage
from tests.fakes import FakeClock, FakeMailer
from tests.integration.webchat_support import ChatSession

pytestmark = pytest.mark.usefixtures("demo")


async def _post(chat: ChatSession, body: dict[str, Any], key: str | None) -> Any:
    headers = dict(chat.auth)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await chat.client.post(
        f"/api/chat/sessions/{chat.id}/messages", json=body, headers=headers
    )


async def _user_messages(uow_factory: UnitOfWorkFactory, session_id: str) -> int:
    async with uow_factory() as uow:
        count = await uow.session.scalar(
            select(func.count())
            .select_from(WebMessage)
            .where(WebMessage.session_id == session_id, WebMessage.sender == "user")
        )
    return int(count or 0)


async def test_the_same_key_twice_runs_one_turn_and_answers_the_first_reply(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("")
    await chat.press("Check a case status")
    first = await _post(chat, {"text": "WAC2212345678"}, "3f1c9a7e-0b2d-4c55-9e61-7a8b9c0d1e2f")
    assert first.status == 200
    replies = (await first.json())["replies"]
    assert "Case Was Approved" in replies[-1]["text"]
    users = await _user_messages(uow_factory, chat.id)

    again = await _post(chat, {"text": "WAC2212345678"}, "3f1c9a7e-0b2d-4c55-9e61-7a8b9c0d1e2f")
    assert again.status == 200
    assert (await again.json())["replies"] == replies  # the first reply, ids included
    assert await _user_messages(uow_factory, chat.id) == users  # no second turn
    transcript = await chat.transcript()
    assert [m["id"] for m in transcript][-len(replies) :] == [r["id"] for r in replies]

    # A new key is a new message: its turn runs.
    other = await _post(chat, {"text": "WAC2212345678"}, "another-key")
    assert other.status == 200
    assert (await other.json())["replies"][-1]["id"] > replies[-1]["id"]
    assert await _user_messages(uow_factory, chat.id) == users + 1


async def test_a_pressed_button_sent_again_with_its_key_is_not_pressed_twice(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("")
    payload = next(
        b["payload"] for b in chat.replies[-1]["buttons"] if b["label"] == "Check a case status"
    )
    first = await _post(chat, {"payload": payload}, "k1")
    again = await _post(chat, {"payload": payload}, "k1")
    assert first.status == again.status == 200
    assert await first.json() == await again.json()
    assert await _user_messages(uow_factory, chat.id) == 1


async def test_keys_belong_to_their_session(client: TestClient[Any, Any]) -> None:
    one = await ChatSession.open(client)
    two = await ChatSession.open(client)
    a = await _post(one, {"text": ""}, "same")
    b = await _post(two, {"text": ""}, "same")
    assert a.status == b.status == 200
    ids_a = [r["id"] for r in (await a.json())["replies"]]
    ids_b = [r["id"] for r in (await b.json())["replies"]]
    assert ids_a
    assert ids_b
    assert not set(ids_a) & set(ids_b)


@pytest.mark.parametrize("key", ["", "has space", "x" * 65, "é"])
async def test_a_malformed_key_is_refused_with_a_clear_answer(
    client: TestClient[Any, Any], key: str
) -> None:
    chat = await ChatSession.open(client)
    response = await chat.client.post(
        f"/api/chat/sessions/{chat.id}/messages",
        json={"text": "hi"},
        headers={**chat.auth, "Idempotency-Key": key},
    )
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "bad_idempotency_key"


async def test_the_openapi_document_describes_the_key_the_api_honours(
    client: TestClient[Any, Any],
) -> None:
    document = await (await client.get("/api/openapi.json")).json()
    send = document["paths"]["/api/chat/sessions/{session_id}/messages"]["post"]
    (header,) = [p for p in send["parameters"] if p["name"] == "Idempotency-Key"]
    assert header["in"] == "header"
    assert not header["required"]  # a client without retries need not send one
    assert "runs once" in send["description"]
    pattern = re.compile(header["schema"]["pattern"])
    assert pattern.fullmatch("3f1c9a7e-0b2d-4c55-9e61-7a8b9c0d1e2f")  # what the widget sends
    for refused in ("", "has space", "x" * 65, "é"):  # the keys refused above
        assert not pattern.fullmatch(refused)


async def test_a_message_says_when_it_was_stored_and_which_field_comes_next(
    client: TestClient[Any, Any],
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("")
    await chat.press("Sign in")
    reply = chat.replies[-1]
    assert reply["input"] == "text"
    assert reply["at"].endswith("Z")
    await chat.send("ana.demo@example.com")
    assert chat.replies[-1]["input"] == "password"
    await chat.send("sunflower-passport-42")
    assert chat.replies[-1]["input"] == "code"  # an authenticator code or a backup code
    transcript = await chat.transcript()
    assert transcript[-1]["input"] == "code"  # a reloaded page shows the same field


@pytest.mark.parametrize(
    "db", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)  # several workers share PostgreSQL only (README, Deploying)
async def test_two_workers_given_the_same_key_at_once_run_one_turn(
    db: Database, uow_factory: UnitOfWorkFactory, engine: Engine, clock: FakeClock
) -> None:
    """A retry can reach another worker while the first try still runs there (the answer was
    lost on the way, not the request): the second waits for the first and answers its reply."""
    one = WebChatHub(engine=engine, uow_factory=uow_factory)
    # The other worker: its own engine and hub, so its own locks.
    other = Engine(
        Services(uow_factory=uow_factory, mailer=FakeMailer(), clock=clock), all_dialogs()
    )
    two = WebChatHub(engine=other, uow_factory=uow_factory)
    session_id, token = await one.open_session("en")
    await one.send(session_id, token, text="", key="open")
    for attempt in range(5):
        key = f"lookup-{attempt}"
        first, second = await asyncio.gather(
            one.send(session_id, token, text="WAC2212345678", key=key),
            two.send(session_id, token, text="WAC2212345678", key=key),
        )
        assert [m.id for m in first] == [m.id for m in second]
    assert await _user_messages(uow_factory, session_id) == 5


async def test_a_reset_asks_for_digits_then_an_answer_then_a_password(
    client: TestClient[Any, Any], mailer: FakeMailer
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("")
    await chat.press("Password and sign-in help")
    await chat.press("I forgot my password")
    await chat.send(DEMO_EMAIL)
    assert chat.replies[-1]["input"] == "digits"  # the emailed 6-digit code
    await chat.send(mailer.last_code(DEMO_EMAIL))
    assert chat.replies[-1]["input"] == "answer"  # the reset question's answer: not masked
    assert chat.replies[-1]["secret_input"]  # but never echoed or kept


async def test_an_online_access_code_is_a_code_of_letters(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("")
    await chat.press("My cases")  # asks to sign in first
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(totp(DEMO_TOTP_SECRET, clock.now()))
    await chat.press("Add a paper-filed case")
    await chat.send("EAC2190012345")
    assert chat.replies[-1]["input"] == "code"  # 12 letters and digits, copied from paper
