"""What the web chat's transcript keeps and replays (findings 3 and 4), through the HTTP API on
SQLite and PostgreSQL:

- an authenticator key, its QR code and a new backup code are shown in the answer to the turn,
  and only there: the stored transcript and every replay have a placeholder instead, and the
  QR code is not kept;
- signing out ends what the browser can read back: the transcript from before the sign-out
  (case histories, confirmation codes, calendar files) is deleted.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.engine import Engine
from core.demo import DEMO_BACKUP_CODE, DEMO_EMAIL, DEMO_PASSWORD, DEMO_RESET_ANSWER
from core.uow import UnitOfWorkFactory
from core.web_sessions import WebAttachment, WebMessage
from tests.chat import FakeChat
from tests.conversation.account_flows import NEW_PASSWORD, reach_reset_code
from tests.fakes import FakeMailer
from tests.integration.webchat_support import ChatSession
from tests.serve_support import serving

pytestmark = pytest.mark.usefixtures("demo")

BACKUP_CODE_RE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
BACKUP_EXAMPLE = "4F7K-2MQX-9WRT"  # the example in the prompt that asks for one
PLACEHOLDER = "[hidden: shown only once]"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def new_backup_codes(text: str) -> list[str]:
    return [c for c in BACKUP_CODE_RE.findall(text) if c not in (DEMO_BACKUP_CODE, BACKUP_EXAMPLE)]


async def stored(uow_factory: UnitOfWorkFactory, session_id: str) -> str:
    """Everything the database keeps of the session's transcript, as one string."""
    async with uow_factory() as uow:
        messages = await uow.session.scalars(
            select(WebMessage).where(WebMessage.session_id == session_id)
        )
        files = await uow.session.scalars(
            select(WebAttachment).where(WebAttachment.session_id == session_id)
        )
        return json.dumps(
            [[m.text, m.attachments] for m in messages]
            + [[f.name, base64.b64encode(f.data).decode()] for f in files]
        )


async def sign_in_with_a_new_app(client: TestClient[Any, Any]) -> ChatSession:
    chat = await ChatSession.open(client)
    await chat.send("hi")
    await chat.press("Password and sign-in help")
    await chat.press("I lost my phone / authenticator")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.press("Yes, set up a new app")
    await chat.send(DEMO_BACKUP_CODE)
    return chat


async def test_a_new_key_its_qr_code_and_backup_code_are_shown_once_then_masked(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    chat = await sign_in_with_a_new_app(client)
    live = chat.text
    (code,) = new_backup_codes(live)
    found = re.search(r"type this key:\n([A-Z2-7 ]+)\n", live)
    assert found is not None
    key = found.group(1)
    (image,) = [a for reply in chat.replies for a in reply["attachments"]]
    assert image["kind"] == "image"
    # The live answer carries the image itself: it is nowhere to download later.
    assert image["url"].startswith("data:image/png;base64,")
    assert base64.b64decode(image["url"].partition(",")[2]).startswith(PNG_SIGNATURE)

    replayed = await chat.transcript()
    replayed_text = json.dumps(replayed)
    assert code not in replayed_text
    assert key not in replayed_text
    assert key.replace(" ", "") not in replayed_text
    assert PLACEHOLDER in replayed_text
    assert not [a for m in replayed for a in m["attachments"]]  # the QR code is not replayed
    at_rest = await stored(uow_factory, chat.id)
    assert code not in at_rest
    assert key not in at_rest
    assert key.replace(" ", "") not in at_rest
    assert PLACEHOLDER in at_rest
    # The answer's messages are the transcript's, with the same ids (the widget's dedupe).
    assert {r["id"] for r in chat.replies} <= {m["id"] for m in replayed}


async def test_a_backup_code_given_after_a_sign_in_is_masked_in_the_replay(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(DEMO_BACKUP_CODE)
    assert "You are signed in" in chat.text
    (code,) = new_backup_codes(chat.text)
    replayed = json.dumps(await chat.transcript())
    assert code not in replayed
    assert "Your NEW backup code is" in replayed  # the rest of the message is kept
    assert PLACEHOLDER in replayed
    assert code not in await stored(uow_factory, chat.id)


async def test_the_placeholder_is_in_the_conversation_language(
    client: TestClient[Any, Any],
) -> None:
    chat = await ChatSession.open(client, locale="es")
    await chat.send("iniciar sesión")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(DEMO_BACKUP_CODE)
    (code,) = new_backup_codes(chat.text)
    replayed = json.dumps(await chat.transcript(), ensure_ascii=False)
    assert code not in replayed
    assert PLACEHOLDER not in replayed
    assert "[oculto: se mostró una sola vez]" in replayed


async def test_signing_out_deletes_the_transcript_before_it(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    chat = await ChatSession.open(client)
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(DEMO_BACKUP_CODE)
    assert "IOE0912345678" in chat.text  # the welcome lists the account's cases
    before = await chat.transcript()
    assert "IOE0912345678" in json.dumps(before)

    await chat.press("Sign out")
    assert "You are signed out" in chat.text

    replayed = await chat.transcript()
    text = json.dumps(replayed)
    assert "IOE0912345678" not in text
    assert DEMO_EMAIL not in text
    assert "a***@example.com" not in text
    assert "You are signed out" in text  # what the sign-out answered stays, and the menu
    assert min(m["id"] for m in replayed) > max(m["id"] for m in before)
    assert "IOE0912345678" not in await stored(uow_factory, chat.id)


# --- the same, replayed against a real `casebot serve` -----------------------------------------


class _Http:
    """A browser's session with a running server, through urllib."""

    def __init__(self, base: str) -> None:
        self.base = base
        opened = self.call("POST", "/api/chat/sessions", {})
        self.id, self.token = opened["session_id"], opened["token"]
        self.replies: list[dict[str, Any]] = []

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310  (a local test server)
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {self.token}"} if hasattr(self, "token") else {}),
        )
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read())

    def send(self, **body: str) -> str:
        self.replies = self.call("POST", f"/api/chat/sessions/{self.id}/messages", body)["replies"]
        return "\n".join(r["text"] for r in self.replies)

    def press(self, label: str) -> str:
        buttons = [b for reply in self.replies for b in reply["buttons"]]
        (payload,) = [b["payload"] for b in buttons if b["label"] == label]
        return self.send(payload=payload)

    def transcript(self) -> str:
        return json.dumps(self.call("GET", f"/api/chat/sessions/{self.id}/messages")["messages"])


def test_replayed_against_casebot_serve(tmp_path: Path) -> None:
    with serving(tmp_path, None, "--demo") as served:
        chat = _Http(served.base)
        chat.send(text="sign in")
        chat.send(text=DEMO_EMAIL)
        chat.send(text=DEMO_PASSWORD)
        live = chat.send(text=DEMO_BACKUP_CODE)
        (code,) = new_backup_codes(live)
        replayed = chat.transcript()
        assert code not in replayed
        assert PLACEHOLDER in replayed
        assert "IOE0912345678" in replayed  # the welcome, with the account's cases

        assert "You are signed out" in chat.press("Sign out")
        replayed = chat.transcript()
        assert "IOE0912345678" not in replayed
        assert "You are signed out" in replayed
    with sqlite3.connect(tmp_path / "var" / "casebot.sqlite3") as db:
        kept = json.dumps(db.execute("SELECT sender, text FROM web_messages").fetchall())
    assert code not in kept
    assert "IOE0912345678" not in kept


async def test_a_password_reset_elsewhere_ends_the_transcript_of_the_web_chats_it_signs_out(
    client: TestClient[Any, Any], engine: Engine, mailer: FakeMailer
) -> None:
    web = await ChatSession.open(client)
    await web.send("sign in")
    await web.send(DEMO_EMAIL)
    await web.send(DEMO_PASSWORD)
    await web.send(DEMO_BACKUP_CODE)
    assert "IOE0912345678" in json.dumps(await web.transcript())

    other = FakeChat(engine)  # the person, on another device, resets the password
    await reach_reset_code(other)
    await other.send(mailer.last_code(DEMO_EMAIL))
    await other.send(DEMO_RESET_ANSWER)
    await other.send(NEW_PASSWORD)
    assert "1 other chat was signed out" in other.text

    assert "IOE0912345678" not in json.dumps(await web.transcript())
