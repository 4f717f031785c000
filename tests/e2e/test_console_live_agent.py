"""``casebot chat`` in a real process while staff act on its chat: what the outbox has for the
terminal's chat (an agent joined, wrote, passed the chat on, ended it; an answer to a secure
message) shows in the terminal while the person sits at the prompt. The agent is played by
the core services, on the same database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.db import Database
from core.handoff import (
    claim,
    close,
    post_agent_message,
    reply_to_secure_message,
    request_agent,
    secure_messages,
    transfer,
)
from core.uow import UnitOfWorkFactory

CHAT_ID = "console:ana"
# Only a guard against a hung test: each wait ends as soon as the text shows.
GIVE_UP = 60.0


class Terminal:
    """``casebot chat`` with a person typing into it."""

    def __init__(self, cwd: Path, database_url: str) -> None:
        environment = {
            k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_") and k != "COLUMNS"
        }
        environment.update(LOGNAME="ana", USER="ana", CASEBOT_DATABASE_URL=database_url)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--lang", "en"],
            cwd=cwd,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.output = ""
        self._seen = 0
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := self.process.stdout.read(1):
            with self._lock:
                self.output += chunk

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str) -> str:
        """What the terminal showed since the last wait, up to and with ``text``."""
        give_up = time.monotonic() + GIVE_UP
        while time.monotonic() < give_up and self.process.poll() is None:
            with self._lock:
                found = self.output.find(text, self._seen)
                if found >= 0:
                    shown = self.output[self._seen : found + len(text)]
                    self._seen = found + len(text)
                    return shown
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never showed; the terminal shows:\n{self.output}")

    def end(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=GIVE_UP)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'casebot.sqlite3'}"


@pytest.fixture
def terminal(tmp_path: Path, database_url: str) -> Iterator[Terminal]:
    terminal = Terminal(tmp_path, database_url)
    terminal.wait_for("> ")  # the menu, the database ready
    yield terminal
    terminal.end()


def staff(database_url: str, act: str, **values: object) -> None:
    """An agent's action on the terminal's chat, through the core services."""

    async def run() -> None:
        db = Database(database_url)
        try:
            async with UnitOfWorkFactory(db)() as uow:
                if act == "queue":
                    await request_agent(uow, channel="console", chat_id=CHAT_ID, language="en")
                elif act == "claim":
                    await claim(uow, 1, 7, "Maria")
                elif act == "write":
                    await post_agent_message(uow, 1, 7, str(values["text"]))
                elif act == "pass":
                    await transfer(uow, 1, 7, to_language="es")
                elif act == "close":
                    await close(uow, 1, "resolved")
                elif act == "answer":
                    [message] = await secure_messages(uow)
                    await reply_to_secure_message(uow, message.id, 7, str(values["text"]))
                await uow.commit()
        finally:
            await db.dispose()

    asyncio.run(run())


def test_an_agents_news_shows_in_the_terminal_while_the_person_waits(
    terminal: Terminal, database_url: str
) -> None:
    staff(database_url, "queue")
    staff(database_url, "claim")
    shown = terminal.wait_for("You are now chatting with Maria.")
    assert "End chat" in terminal.wait_for("> ")  # the prompt again, after the news
    staff(database_url, "write", text="Hello, I am looking at your case.")
    terminal.wait_for("Maria: Hello, I am looking at your case.")
    staff(database_url, "pass")
    terminal.wait_for("Your chat was passed to another agent.")
    staff(database_url, "claim")
    terminal.wait_for("You are now chatting with Maria.")
    staff(database_url, "close")
    shown = terminal.wait_for("You are back with the assistant.")
    assert "Maria ended the chat." in shown
    terminal.type("7")  # the menu is still there to use: Help
    terminal.wait_for("I can check a case status")


def test_the_answer_to_a_secure_message_shows_in_the_terminal(
    terminal: Terminal, database_url: str
) -> None:
    terminal.type("talk to a person")
    terminal.wait_for("Write a message")
    terminal.type("Write a message")
    terminal.wait_for("> ")
    terminal.type("My green card never arrived after the approval.")
    terminal.wait_for("> ")
    staff(database_url, "answer", text="We sent a request to trace your card.")
    shown = terminal.wait_for("We sent a request to trace your card.")
    assert "Our answer to your message:" in shown
