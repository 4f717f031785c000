"""The terminal masks secret input: a password or code is read without echo (``getpass``, here
a recording reader) and never printed back; what was typed is kept nowhere (no history file,
no transcript). Telegram deletes such messages (tests/telegram/test_channel.py::
test_a_password_message_is_deleted_and_the_reply_says_so); the web transcript stores them
masked (tests/integration/test_webchat_api.py::test_a_password_is_masked_and_never_stored)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.channels.console import run_console
from bot.engine import Engine
from core.accounts.otp import totp
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")


async def test_passwords_and_codes_are_read_without_echo_and_never_printed(
    engine: Engine, clock: FakeClock, tmp_path: Path
) -> None:
    code = totp(DEMO_TOTP_SECRET, clock.now())
    secrets = [DEMO_PASSWORD, code]
    prompts: list[str] = []

    def read_secret(prompt: str) -> str:
        prompts.append(prompt)
        if not secrets:
            raise EOFError
        return secrets.pop(0)

    stdout = io.StringIO()
    await run_console(
        engine,
        chat_id="console-test",
        stdin=io.StringIO(f"sign in\n{DEMO_EMAIL}\n"),
        stdout=stdout,
        attachments_dir=tmp_path / "attachments",
        read_secret=read_secret,
    )

    shown = stdout.getvalue()
    assert "You are signed in as a***@example.com" in shown
    # Both secrets went through the no-echo reader, whose prompt ends in the lock (the first
    # one also says in words that the typing stays hidden).
    assert len(prompts) >= 2
    assert all(prompt.endswith("🔒 ") for prompt in prompts[:2])
    assert DEMO_PASSWORD not in shown
    assert code not in shown
    assert not (tmp_path / "attachments").exists()  # no file written with what was typed
