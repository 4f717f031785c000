"""The web chat API through HTTP (SQLite and PostgreSQL): a whole lookup, buttons, the
transcript, secrets, the WebSocket and pushed messages, attachments, metrics."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.channels.web.api import HUB_KEY
from bot.dialogs.model import Attachment, Button, Reply
from bot.settings import Settings
from core.conversations import Conversation
from core.demo import DEMO_EMAIL
from core.uow import UnitOfWorkFactory
from core.web_sessions import WebMessage
from tests.integration.webchat_support import ChatSession

pytestmark = pytest.mark.usefixtures("demo")

PASSWORD = "sunflower-passport-42"
METRICS_TOKEN = "scraper-token-of-the-webchat-tests"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


async def test_looks_up_a_case_status_through_the_api(client: TestClient[Any, Any]) -> None:
    chat = await ChatSession.open(client)
    await chat.send("hi")
    await chat.press("Check a case status")
    assert "receipt number" in chat.text
    await chat.send("WAC2212345678")
    assert "Case Was Approved" in chat.text
    reply = chat.replies[-1]
    assert set(reply) == {
        "id",
        "from",
        "text",
        "buttons",
        "attachments",
        "secret_input",
        "input",
        "at",
    }
    assert reply["from"] == "bot"


async def test_the_session_locale_or_the_browser_language_is_the_hint(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    chat = await ChatSession.open(client, locale="es")
    await chat.send("")
    browser = await ChatSession.open(client)
    response = await client.post(
        f"/api/chat/sessions/{browser.id}/messages",
        json={"text": ""},
        headers={**browser.auth, "Accept-Language": "fr-CA,fr;q=0.8"},
    )
    assert response.status == 200
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(Conversation.chat_id, Conversation.locale).where(
                Conversation.channel == "webchat"
            )
        )
        locales = {chat_id: locale for chat_id, locale in rows}
    assert locales == {chat.id: "es", browser.id: "fr"}


async def test_a_pressed_button_is_shown_by_its_label_in_the_transcript(
    client: TestClient[Any, Any],
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("hi")
    await chat.press("Check a case status")
    messages = await chat.transcript()
    users = [m["text"] for m in messages if m["from"] == "user"]
    assert users == ["hi", "Check a case status"]
    ids = [m["id"] for m in messages]
    assert ids == sorted(ids)
    assert messages[1]["buttons"], "the menu's buttons are kept"


async def test_the_transcript_resumes_after_an_id(client: TestClient[Any, Any]) -> None:
    chat = await ChatSession.open(client)
    await chat.send("hi")
    first = await chat.transcript()
    await chat.press("Check a case status")
    rest = await chat.transcript(after=first[-1]["id"])
    assert rest[0]["text"] == "Check a case status"
    assert all(m["id"] > first[-1]["id"] for m in rest)
    assert await chat.transcript(after=rest[-1]["id"]) == []


async def test_a_password_is_masked_and_never_stored(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    assert chat.replies[-1]["secret_input"] is True
    await chat.send(PASSWORD)
    messages = await chat.transcript()
    assert "••••••" in [m["text"] for m in messages if m["from"] == "user"]
    assert all(PASSWORD not in m["text"] for m in messages)
    async with uow_factory() as uow:
        stored = list(await uow.session.scalars(select(WebMessage.text)))
    assert all(PASSWORD not in text for text in stored)


async def test_the_websocket_carries_replies_and_pushed_messages(
    client: TestClient[Any, Any],
) -> None:
    chat = await ChatSession.open(client)
    ws = await client.ws_connect(f"/api/chat/sessions/{chat.id}/ws?token={chat.token}")
    await chat.send("hi")
    seen = [await ws.receive_json(timeout=5) for _ in range(1 + len(chat.replies))]
    assert seen[0]["from"] == "user"
    assert [m["id"] for m in seen[1:]] == [r["id"] for r in chat.replies]
    hub = client.app[HUB_KEY]
    pushed = await hub.push(chat.id, Reply("Your case was updated.", buttons=(Button("OK", "x"),)))
    message = await ws.receive_json(timeout=5)
    assert message["id"] == pushed.id
    assert message["text"] == "Your case was updated."
    assert (await chat.transcript())[-1]["text"] == "Your case was updated."
    await ws.close()


async def test_a_websocket_needs_the_token(client: TestClient[Any, Any]) -> None:
    chat = await ChatSession.open(client)
    response = await client.get(f"/api/chat/sessions/{chat.id}/ws?token=wrong")
    assert response.status == 401
    response = await client.get(f"/api/chat/sessions/{chat.id}/ws?token={chat.token}")
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "websocket_expected"


async def test_attachments_download_with_the_token_only(client: TestClient[Any, Any]) -> None:
    chat = await ChatSession.open(client)
    other = await ChatSession.open(client)
    hub = client.app[HUB_KEY]
    reply = Reply("Your code", attachments=(Attachment("image", "qr.png", "image/png", PNG),))
    await hub.push(chat.id, reply)
    (message,) = await chat.transcript()
    (attachment,) = message["attachments"]
    assert attachment["kind"] == "image"
    response = await client.get(attachment["url"])
    assert response.status == 200
    assert response.content_type == "image/png"
    assert await response.read() == PNG
    bare = attachment["url"].split("?")[0]
    assert (await client.get(bare)).status == 401
    assert (await client.get(bare + "?token=" + other.token)).status == 401
    assert (
        await client.get(bare.replace(chat.id, other.id) + "?token=" + other.token)
    ).status == 404


@pytest.fixture
def web_settings() -> Settings:
    return Settings(metrics_token=METRICS_TOKEN)


async def test_metrics_count_turns_and_errors(client: TestClient[Any, Any]) -> None:
    chat = await ChatSession.open(client)
    await chat.send("hi")
    await chat.post({"nope": 1})
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status == 200
    body = await response.text()
    assert "casebot_webchat_turns_total 1.0" in body
    assert 'casebot_http_errors_total{code="bad_request"} 1.0' in body
    assert "casebot_webchat_turn_seconds_count 1.0" in body


async def test_concurrent_messages_of_one_session_keep_their_order(
    client: TestClient[Any, Any],
) -> None:
    chat = await ChatSession.open(client)
    await asyncio.gather(*(chat.post({"text": "hi"}) for _ in range(5)))
    messages = await chat.transcript()
    senders = [m["from"] for m in messages]
    assert senders.count("user") == 5
    assert senders[0] == "user"
