"""Every bad input to the web chat API is a 4xx with a JSON error; limits, expiry and CORS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.channels.web.chat import WebChatConfig
from tests.fakes import FakeClock
from tests.integration.webchat_support import ChatSession

pytestmark = pytest.mark.usefixtures("demo")


@pytest.fixture
def chat_config() -> WebChatConfig:
    return WebChatConfig(rate_limit=3, origins=("https://partner.example",))


async def assert_error(response: Any, status: int, code: str | None = None) -> None:
    assert response.status == status, await response.text()
    body = await response.json()
    assert set(body["error"]) == {"code", "message"}
    if code is not None:
        assert body["error"]["code"] == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "bad_json"),
        (b"\xff\xfe", "bad_json"),
        (b"[1, 2]", "bad_request"),
        (b'"text"', "bad_request"),
        (b"{}", "bad_request"),
        (b'{"text": "a", "payload": "b"}', "bad_request"),
        (b'{"text": 5}', "bad_request"),
        (b'{"payload": ["x"]}', "bad_request"),
        (b'{"text": "\\ud800"}', "bad_request"),
        (b'{"text": "a\\u0000b"}', "bad_request"),
        (b'{"text": "' + b"x" * 2001 + b'"}', "too_long"),
        (b'{"payload": "' + b"x" * 201 + b'"}', "too_long"),
        (b'{"text": "' + b"x" * 9000 + b'"}', "body_too_large"),
    ],
)
async def test_a_bad_message_body_is_refused_with_a_json_error(
    client: TestClient[Any, Any], body: bytes, code: str
) -> None:
    chat = await ChatSession.open(client)
    response = await client.post(
        f"/api/chat/sessions/{chat.id}/messages",
        data=body,
        headers={**chat.auth, "Content-Type": "application/json"},
    )
    await assert_error(response, 413 if code == "body_too_large" else 400, code)


async def test_a_huge_body_is_refused_before_it_is_read(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/chat/sessions", data=b"x" * 100_000)
    await assert_error(response, 413)


@pytest.mark.parametrize("body", [b'{"locale": 5}', b'{"locale": "not a locale"}', b"[]", b"{x"])
async def test_a_bad_new_session_is_refused(client: TestClient[Any, Any], body: bytes) -> None:
    await assert_error(await client.post("/api/chat/sessions", data=body), 400)


async def test_an_empty_new_session_body_is_fine(client: TestClient[Any, Any]) -> None:
    assert (await client.post("/api/chat/sessions")).status == 201


async def test_unknown_sessions_and_bad_tokens_are_refused(client: TestClient[Any, Any]) -> None:
    chat = await ChatSession.open(client)
    url = f"/api/chat/sessions/{chat.id}/messages"
    await assert_error(await client.post(url, json={"text": "hi"}), 401, "unauthorized")
    wrong = {"Authorization": "Bearer nope"}
    await assert_error(await client.post(url, json={"text": "hi"}, headers=wrong), 401)
    basic = {"Authorization": "Basic abc"}
    await assert_error(await client.get(url, headers=basic), 401, "unauthorized")
    other = await ChatSession.open(client)
    await assert_error(await client.get(url, headers=other.auth), 401)
    for session_id in ["0" * 32, "nope", "x" * 500]:
        response = await client.post(
            f"/api/chat/sessions/{session_id}/messages", json={"text": "hi"}, headers=chat.auth
        )
        await assert_error(response, 404, "session_not_found")
    await assert_error(await client.get(url + "?after=-1", headers=chat.auth), 400)
    await assert_error(await client.get(url + "?after=abc", headers=chat.auth), 400)
    await assert_error(await client.get("/api/nothing"), 404, "not_found")
    await assert_error(await client.delete(url), 405, "method_not_allowed")


async def test_an_idle_session_expires(client: TestClient[Any, Any], clock: FakeClock) -> None:
    chat = await ChatSession.open(client)
    await chat.send("hi")
    clock.advance(timedelta(hours=23))
    await chat.send("hi")
    clock.advance(timedelta(hours=24, seconds=1))
    await assert_error(await chat.post({"text": "hi"}), 401, "session_expired")


async def test_too_many_messages_are_refused_with_retry_after(
    client: TestClient[Any, Any],
) -> None:
    chat = await ChatSession.open(client)
    for _ in range(3):
        await chat.send("hi")
    response = await chat.post({"text": "hi"})
    await assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    other = await ChatSession.open(client)
    await other.send("hi")  # the limit is per session


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://partner.example", True),
        ("https://evil.example", False),
        ("http://localhost:3000", False),  # configured origins replace the local default
    ],
)
async def test_cors_preflight_follows_the_allowed_origins(
    client: TestClient[Any, Any], origin: str, allowed: bool
) -> None:
    response = await client.options(
        "/api/chat/sessions",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    if allowed:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
        created = await client.post("/api/chat/sessions", headers={"Origin": origin})
        assert created.status == 201
        assert created.headers["Access-Control-Allow-Origin"] == origin
    else:
        await assert_error(response, 403, "origin_not_allowed")
        assert "Access-Control-Allow-Origin" not in response.headers
        refused = await client.post("/api/chat/sessions", headers={"Origin": origin})
        await assert_error(refused, 403, "origin_not_allowed")


@pytest.mark.parametrize("chat_config", [None])  # the default origins
async def test_the_same_origin_and_local_pages_are_allowed_by_default(
    client: TestClient[Any, Any],
) -> None:
    own = f"http://{client.host}:{client.port}"
    for origin in [own, "http://localhost:5173", "http://127.0.0.1:9"]:
        response = await client.post("/api/chat/sessions", headers={"Origin": origin})
        assert response.status == 201, origin
    response = await client.post("/api/chat/sessions", headers={"Origin": "https://other.example"})
    await assert_error(response, 403)


async def test_the_widget_files_are_served_or_missing_gracefully(
    client: TestClient[Any, Any],
) -> None:
    for path in ["/", "/widget.js"]:
        response = await client.get(path)
        assert response.status in (200, 404)
        if response.status == 404:
            await assert_error(response, 404)


async def test_the_openapi_document_is_served(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/openapi.json")
    document = await response.json()
    assert document["openapi"].startswith("3.")
    assert "/api/chat/sessions/{session_id}/messages" in document["paths"]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
