"""The web chat API against its own OpenAPI document, with schemathesis, on a live server.

The server runs on 127.0.0.1 in a thread of its own (SQLite, demo data). Each generated request
is sent with a real session's id and token, so the success paths are exercised too (the refusals
have their own tests); no answer may be a server error or break the document.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.app import build_app
from bot.channels.web.chat import WebChatConfig
from bot.channels.web.server import create_web_app
from bot.settings import Settings, SmsSettings
from core.accounts.otp import totp
from core.demo import load_demo
from core.handoff import request_agent, send_secure_message
from core.staff import StaffRole, add_staff
from tests.fuzzing import examples

ADMIN_TOKEN = "schemathesis-admin-token-0123456789"
# The admin import takes CSV: good files, files with bad rows, and noise (200 and 422 both).
GOOD_ROWS = ["WAC2212345678,I-765,approved", "EAC2190099901,I-130,Case Was Received"]
BAD_ROWS = ["EAC21900,I-130,approved", "LIN2390001234,I-485,lost", "", "a,b,c,d"]
CSV_BODIES = (
    st.lists(st.sampled_from(GOOD_ROWS), min_size=1, max_size=3)
    | st.lists(st.sampled_from(GOOD_ROWS + BAD_ROWS), max_size=5)
).map(lambda rows: "\n".join(["receipt_number,form_type,status", *rows]).encode())
schemathesis.openapi.media_type("text/csv", CSV_BODIES | st.binary(max_size=200))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


class LiveServer:
    """casebot's web app served from a thread with its own event loop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = ""
        self.setup_code = ""
        self.supervisor_setup_code = ""
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{self.folder / 'db.sqlite3'}",
            admin_token=ADMIN_TOKEN,
            sms=SmsSettings(
                url="https://api.twilio.com",
                account="AC" + "0" * 32,
                token="schemathesis-sms-token",
                sender="+12025550100",
            ),
        )
        app = build_app(settings)
        await app.prepare_database(demo_if_empty=False)
        await load_demo(app.uow_factory)
        async with app.uow_factory() as uow:
            added = await add_staff(uow, "agent@agency.example", "Maria", ["en", "es"])
            supervisor = await add_staff(
                uow, "boss@agency.example", "Ada", ["en"], StaffRole.SUPERVISOR
            )
            # People waiting and a secure message, so the console's success paths run too.
            for n in range(1, 4):
                await request_agent(uow, channel="webchat", chat_id=f"chat-{n}", language="en")
                await send_secure_message(
                    uow, channel="webchat", chat_id=f"chat-{n}", locale="es", text="¿Hola?"
                )
            await uow.commit()
        self.setup_code = added.setup_code
        self.supervisor_setup_code = supervisor.setup_code
        web_app = create_web_app(app, chat_config=WebChatConfig(rate_limit=100_000))
        runner = web.AppRunner(web_app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()
        await app.close()

    def __enter__(self) -> LiveServer:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the server did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._loop is not None
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(tmp_path_factory.mktemp("schemathesis")) as server:
        yield server


@pytest.fixture(scope="module")
def chat_session(live_server: LiveServer) -> dict[str, str]:
    response = requests.post(f"{live_server.url}/api/chat/sessions", json={}, timeout=10)
    assert response.status_code == 201
    data: dict[str, str] = response.json()
    return data


def staff_token(url: str, code: str, email: str) -> str:
    """A staff member's console token: set up with their set-up code, then signed in."""
    password = "fuzz-harbor-lantern-42"
    response = requests.post(
        f"{url}/api/console/setup", json={"code": code, "password": password}, timeout=10
    )
    assert response.status_code == 200, response.text
    secret = response.json()["secret"]
    now = datetime.now(UTC)
    response = requests.post(
        f"{url}/api/console/setup/confirm",
        json={"code": code, "totp": totp(secret, now)},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    response = requests.post(
        f"{url}/api/console/sessions",
        json={
            "email": email,
            "password": password,
            "code": totp(secret, now + timedelta(seconds=30)),
        },
        timeout=10,
    )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


@pytest.fixture(scope="module")
def console_token(live_server: LiveServer) -> str:
    """An agent's console token."""
    return staff_token(live_server.url, live_server.setup_code, "agent@agency.example")


@pytest.fixture(scope="module")
def supervisor_token(live_server: LiveServer) -> str:
    """A supervisor's console token (the figures only supervisors read)."""
    return staff_token(live_server.url, live_server.supervisor_setup_code, "boss@agency.example")


def test_the_api_keeps_to_its_openapi_document(
    live_server: LiveServer,
    chat_session: dict[str, str],
    console_token: str,
    supervisor_token: str,
) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json")
    chat_headers = {"Authorization": f"Bearer {chat_session['token']}"}
    console_headers = {"Authorization": f"Bearer {console_token}"}
    supervisor_headers = {"Authorization": f"Bearer {supervisor_token}"}
    admin_headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    tested: set[str] = set()
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples(25),
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            tags = case.operation.tags or []
            headers = (
                admin_headers
                if "admin" in tags
                else supervisor_headers
                if case.operation.path == "/api/console/stats"
                else console_headers
                if "console" in tags
                else chat_headers
            )
            if "session_id" in (case.path_parameters or {}):
                case.path_parameters["session_id"] = chat_session["session_id"]
            if case.query is not None and "token" in case.query:
                case.query["token"] = console_token if "console" in tags else chat_session["token"]
            case.call_and_validate(
                base_url=live_server.url, headers=headers, checks=CHECKS, timeout=10
            )

        check()
        tested.add(operation.label)
    # (schemathesis leaves out the document's own address)
    assert "POST /api/chat/sessions/{session_id}/messages" in tested
    assert "POST /unsubscribe" in tested
    assert "POST /api/admin/cases/import" in tested
    assert "PUT /api/admin/offices/{code}/closures/{day}" in tested
    assert "POST /api/console/sessions" in tested
    assert "POST /api/console/me/availability" in tested
    assert {
        "GET /api/console/queue",
        "POST /api/console/conversations/{conversation_id}/claim",
        "GET /api/console/conversations/{conversation_id}",
        "POST /api/console/conversations/{conversation_id}/messages",
        "POST /api/console/conversations/{conversation_id}/transfer",
        "POST /api/console/conversations/{conversation_id}/close",
        "GET /api/console/messages",
        "POST /api/console/messages/{message_id}/reply",
        "GET /api/console/canned",
        "GET /api/console/stats",
        "GET /api/console/ws",
    } <= tested
    assert {"POST /api/sms/status", "POST /api/sms/inbound"} <= tested
    assert len(tested) >= 30
