"""Authorization over HTTP: a web chat token opens its own session and nothing else, tokens are
unguessable and stored only as a digest, and every admin route refuses a missing or wrong token
(a web chat token included) before it reads or changes anything.

Already proven elsewhere: wrong schemes and unknown sessions (tests/integration/
test_webchat_errors.py::test_unknown_sessions_and_bad_tokens_are_refused), another session's
token on a transcript read and on an attachment (test_webchat_api.py::
test_attachments_download_with_the_token_only), one admin route's bearer challenge and the
fingerprint in the audit log (test_admin_api.py).
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text

from bot.settings import Settings
from core.db import Database
from tests.integration.webchat_support import ChatSession

pytestmark = pytest.mark.usefixtures("demo")

ADMIN_TOKEN = "operator-token-of-the-authorization-tests-42"
SAMPLE_PARAMETERS = {"receipt": "WAC2212345678", "code": "PHX", "day": "2026-03-04"}


@pytest.fixture
def web_settings() -> Settings:
    return Settings(admin_token=ADMIN_TOKEN)


async def error_code(response: Any) -> str:
    body = await response.json()
    return str(body["error"]["code"])


async def test_a_token_opens_its_own_session_and_no_other(client: TestClient[Any, Any]) -> None:
    victim = await ChatSession.open(client)
    await victim.send("WAC2212345678")
    before = await victim.transcript()
    intruder = await ChatSession.open(client)
    base = f"/api/chat/sessions/{victim.id}"

    response = await client.post(f"{base}/messages", json={"text": "hi"}, headers=intruder.auth)
    assert response.status == 401
    assert await error_code(response) == "unauthorized"
    response = await client.post(
        f"{base}/messages", json={"payload": "1:g:menu"}, headers=intruder.auth
    )
    assert response.status == 401
    assert (await client.get(f"{base}/messages", headers=intruder.auth)).status == 401
    assert (await client.get(f"{base}/ws?token={intruder.token}")).status == 401
    assert (await client.get(f"{base}/ws")).status == 401

    assert await victim.transcript() == before  # nothing was added or read in its name


async def test_tokens_are_256_random_bits_and_only_their_digest_is_stored(
    client: TestClient[Any, Any], db: Database
) -> None:
    sessions = [await ChatSession.open(client) for _ in range(40)]
    tokens = [session.token for session in sessions]
    assert len(set(tokens)) == len(tokens)
    for session in sessions:
        raw = base64.urlsafe_b64decode(session.token + "=" * (-len(session.token) % 4))
        assert len(raw) == 32  # 256 bits from the system's CSPRNG (secrets.token_urlsafe)
        assert re.fullmatch(r"[0-9a-f]{32}", session.id)
        assert session.token not in session.id
    async with db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT id, token_hash, locale FROM web_sessions"))).all()
    stored = {str(row[0]): [str(value) for value in row] for row in rows}
    for session in sessions:
        columns = stored[session.id]
        assert all(session.token not in value for value in columns)
        assert columns[1] == hashlib.sha256(session.token.encode()).hexdigest()


def admin_requests(client: TestClient[Any, Any]) -> list[tuple[str, str]]:
    """Every admin route with its parameters filled in: (method, path)."""
    found: list[tuple[str, str]] = []
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if not path.startswith("/api/admin") or route.method in ("HEAD", "OPTIONS", "*"):
            continue
        for name, value in SAMPLE_PARAMETERS.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, f"no sample value for a parameter of {path}"
        found.append((route.method, path))
    return sorted(set(found))


async def audit_entries(client: TestClient[Any, Any]) -> list[Any]:
    response = await client.get(
        "/api/admin/audit", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert response.status == 200
    entries: list[Any] = (await response.json())["entries"]
    return entries


async def test_every_admin_route_refuses_a_missing_or_wrong_token_and_changes_nothing(
    client: TestClient[Any, Any], db: Database
) -> None:
    chat = await ChatSession.open(client)
    requests = admin_requests(client)
    assert len(requests) >= 10  # the routes were found (a renamed prefix would find none)
    async with db.engine.connect() as conn:
        before = (await conn.execute(text("SELECT receipt_number, status_code FROM cases"))).all()
    refusals = [
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Bearer {ADMIN_TOKEN[:-1]}"},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
        {"Authorization": f"Bearer {chat.token}"},
        {"Authorization": f"bearer  {ADMIN_TOKEN}x"},
    ]
    for method, path in requests:
        for headers in refusals:
            response = await client.request(
                method, path, json={"status": "approved", "capacity": 3}, headers=headers
            )
            assert response.status == 401, f"{method} {path} {headers}: {response.status}"
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert await error_code(response) == "unauthorized"
    assert await audit_entries(client) == []
    async with db.engine.connect() as conn:
        after = (await conn.execute(text("SELECT receipt_number, status_code FROM cases"))).all()
    assert sorted(after) == sorted(before)
