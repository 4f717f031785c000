"""The console API through a real HTTP server: set-up with the one-time code, sign-in with
password and authenticator code, who am I, the availability switch, sign-out; tokens that
expire and are never a chat token; JSON errors for everything refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from core.accounts.lockout import MAX_FAILURES
from core.accounts.otp import totp
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.integration.console_support import (
    PASSWORD,
    add_agent,
    set_up,
    signed_in_agent,
)
from tests.integration.webchat_support import ChatSession

Client = TestClient[Any, Any]


async def error_of(response: Any) -> str:
    body = await response.json()
    assert set(body["error"]) == {"code", "message"}
    code: str = body["error"]["code"]
    return code


async def test_set_up_sign_in_switch_and_sign_out(
    client: Client, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    code = await add_agent(uow_factory)
    response = await client.post("/api/console/setup", json={"code": code, "password": PASSWORD})
    assert response.status == 200
    started = await response.json()
    assert started["otpauth_uri"].startswith("otpauth://totp/casebot%20console:maria")
    response = await client.post(
        "/api/console/setup/confirm",
        json={"code": code, "totp": totp(started["secret"], clock.now())},
    )
    assert response.status == 200
    assert (await response.json())["display_name"] == "Maria"
    clock.advance(seconds=30)

    response = await client.post(
        "/api/console/sessions",
        json={
            "email": "maria@agency.example",
            "password": PASSWORD,
            "code": totp(started["secret"], clock.now()),
        },
    )
    assert response.status == 201
    token = (await response.json())["token"]
    auth = {"Authorization": f"Bearer {token}"}

    me = await (await client.get("/api/console/me", headers=auth)).json()
    assert me["display_name"] == "Maria"
    assert me["languages"] == ["en", "es"]
    assert me["role"] == "agent"
    assert me["available"] is False
    # The fake clock says Monday 2 March 2026, 10:00 in New York: open.
    assert me["hours"] == {
        "open": True,
        "next_opening": clock.now().isoformat(),  # open now
        "time_zone": "America/New_York",
    }

    response = await client.post(
        "/api/console/me/availability", json={"available": True}, headers=auth
    )
    assert response.status == 200
    assert (await response.json())["available"] is True
    assert (await (await client.get("/api/console/me", headers=auth)).json())["available"]

    response = await client.delete("/api/console/sessions/current", headers=auth)
    assert response.status == 204
    response = await client.get("/api/console/me", headers=auth)
    assert response.status == 401
    assert await error_of(response) == "unauthorized"


async def test_a_wrong_password_or_code_is_401_and_five_lock(
    client: Client, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    agent = await set_up(client, clock, await add_agent(uow_factory))
    for _ in range(MAX_FAILURES - 1):
        response = await client.post(
            "/api/console/sessions",
            json={"email": agent.email, "password": PASSWORD, "code": "000000"},
        )
        assert response.status == 401
        assert await error_of(response) == "invalid_credentials"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = await client.post(
        "/api/console/sessions",
        json={"email": agent.email, "password": "not-the-password", "code": "000000"},
    )
    assert response.status == 401
    assert await error_of(response) == "account_locked"
    assert response.headers["Retry-After"] == str(20 * 60)
    response = await client.post(
        "/api/console/sessions",
        json={"email": agent.email, "password": PASSWORD, "code": totp(agent.secret, clock.now())},
    )
    assert await error_of(response) == "account_locked"
    response = await client.post(
        "/api/console/sessions",
        json={"email": "nobody@agency.example", "password": PASSWORD, "code": "123456"},
    )
    assert await error_of(response) == "invalid_credentials"


async def test_console_and_chat_tokens_are_never_interchangeable(
    client: Client, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    agent = await signed_in_agent(client, uow_factory, clock)
    chat = await ChatSession.open(client)
    response = await client.get(
        "/api/console/me", headers={"Authorization": f"Bearer {chat.token}"}
    )
    assert response.status == 401
    assert await error_of(response) == "unauthorized"
    response = await client.post(
        f"/api/chat/sessions/{chat.id}/messages", json={"text": "hello"}, headers=agent.auth
    )
    assert response.status == 401
    response = await client.get(f"/api/chat/sessions/{chat.id}/messages", headers=agent.auth)
    assert response.status == 401


async def test_tokens_expire_after_8_idle_hours(
    client: Client, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    agent = await signed_in_agent(client, uow_factory, clock)
    clock.advance(timedelta(hours=8, seconds=1))
    response = await client.get("/api/console/me", headers=agent.auth)
    assert response.status == 401
    assert await error_of(response) == "session_expired"


async def test_set_up_refusals(
    client: Client, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    code = await add_agent(uow_factory)
    response = await client.post(
        "/api/console/setup", json={"code": "x" * 32, "password": PASSWORD}
    )
    assert (response.status, await error_of(response)) == (400, "setup_code_invalid")
    response = await client.post("/api/console/setup", json={"code": code, "password": "short"})
    assert (response.status, await error_of(response)) == (400, "weak_password")
    response = await client.post(
        "/api/console/setup/confirm", json={"code": code, "totp": "123456"}
    )
    assert (response.status, await error_of(response)) == (409, "setup_not_started")
    await client.post("/api/console/setup", json={"code": code, "password": PASSWORD})
    response = await client.post("/api/console/setup/confirm", json={"code": code, "totp": "12"})
    assert (response.status, await error_of(response)) == (400, "invalid_code")


async def test_bad_bodies_are_json_errors(client: Client) -> None:
    cases = [
        ("/api/console/sessions", b"{", 400, "bad_json"),
        ("/api/console/sessions", b"[]", 400, "bad_request"),
        ("/api/console/sessions", b'{"email": 1}', 400, "bad_request"),
        ("/api/console/sessions", b'{"email": "a@b.example", "password": "p"}', 400, "bad_request"),
        ("/api/console/setup", b"[" * 100 + b"]" * 100, 400, "bad_json"),
        ("/api/console/setup", b'{"code": "' + b"x" * 9000 + b'"}', 413, "body_too_large"),
        ("/api/console/me/availability", b'{"available": "yes"}', 400, "bad_request"),
    ]
    for path, body, status, code in cases:
        response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
        assert response.status == status, (path, body[:40], await response.text())
        assert await error_of(response) == code
    response = await client.get("/api/console/me")
    assert (response.status, await error_of(response)) == (401, "unauthorized")
    response = await client.get("/api/console/me", headers={"Authorization": "Bearer " + "x" * 500})
    assert response.status == 401


async def test_the_page_loads_only_its_own_files_under_a_strict_policy(client: Client) -> None:
    response = await client.get("/console")
    assert response.status == 200
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    page = await response.text()
    assert "http://" not in page
    assert "https://" not in page
    for asset in ("/console.js", "/console.css"):
        response = await client.get(asset)
        assert response.status == 200
        assert "Content-Security-Policy" in response.headers
