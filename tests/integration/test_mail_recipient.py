"""Mail goes to the address that was checked, and to no other (finding 7).

An address is parsed and checked once, by ``core.accounts.policy.validate_email``: a local part
that an email header would read as two addresses, a group or a comment
(``postmaster,victim@example.org``, ``x;y@example.org``, ``a(comment)b@example.org``) is
refused when it is typed. The SMTP envelope recipient is that checked address itself, never
re-read from the ``To`` header. Checked against a real SMTP server (aiosmtpd) in a process of
its own, which records each envelope it receives.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest

from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.notify.mail import SmtpMailer
from core.accounts.policy import validate_email
from core.errors import InvalidEmail
from core.ports import OutgoingMail
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.account_flows import open_help
from tests.fakes import FakeClock

SMUGGLING: Final = (
    "postmaster,victim@example.org",
    "x;y@example.org",
    "a(comment)b@example.org",
    "victim@example.org,ana@example.org",
    "<victim@example.org>ana@example.org",
    '"ana victim"@example.org',
    "ana:victim@example.org",
    "ana[1]@example.org",
    "ana\\victim@example.org",
)
FINE: Final = (
    "ana.demo@example.com",
    "o'brien+case_1@example.co.uk",
    "josé.garcía@correo.example",
    "~{x}|y!#$%&*=?^`@example.org",
)

RECORDING_SERVER: Final = """
import json, sys, time
from aiosmtpd.controller import Controller

class Record:
    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos}) + "\\n")
        return "250 OK"

controller = Controller(Record(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.readline()
controller.stop()
"""


@pytest.mark.parametrize("address", SMUGGLING)
def test_an_address_a_header_would_read_otherwise_is_refused(address: str) -> None:
    with pytest.raises(InvalidEmail):
        validate_email(address)


@pytest.mark.parametrize("address", FINE)
def test_an_ordinary_address_is_accepted_as_typed(address: str) -> None:
    assert validate_email(address) == address


@pytest.fixture
def smtp_process(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A recording SMTP server in its own process: its port, and the file of its envelopes."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    received = tmp_path / "envelopes.jsonl"
    received.touch()
    process = subprocess.Popen(
        [sys.executable, "-c", RECORDING_SERVER, str(port), str(received)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield port, received
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def envelopes(received: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in received.read_text().splitlines()]


async def test_the_envelope_recipient_is_the_checked_address_itself(
    smtp_process: tuple[int, Path],
) -> None:
    port, received = smtp_process
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}")
    await mailer.send(OutgoingMail(to="o'brien+case_1@example.co.uk", subject="s", body="b"))
    assert [e["to"] for e in envelopes(received)] == [["o'brien+case_1@example.co.uk"]]


@pytest.mark.parametrize("address", SMUGGLING[:3])
async def test_the_mailer_sends_nothing_to_an_address_that_is_not_one(
    smtp_process: tuple[int, Path], address: str
) -> None:
    port, received = smtp_process
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}")
    with pytest.raises(ValueError, match="recipient"):
        await mailer.send(OutgoingMail(to=address, subject="s", body="b"))
    assert envelopes(received) == []


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize("address", SMUGGLING[:3])
async def test_signing_up_with_such_an_address_is_asked_again_and_mails_no_one(
    smtp_process: tuple[int, Path], uow_factory: UnitOfWorkFactory, address: str
) -> None:
    port, received = smtp_process
    services = Services(
        uow_factory=uow_factory, mailer=SmtpMailer(f"smtp://127.0.0.1:{port}"), clock=FakeClock()
    )
    chat = FakeChat(Engine(services, all_dialogs()))
    await open_help(chat, "Create an account")
    await chat.send(address)
    assert "We have sent" not in chat.text
    await chat.send("new.person@example.com")
    assert "We have sent a 6-digit code to new.person@example.com" in chat.text
    assert [e["to"] for e in envelopes(received)] == [["new.person@example.com"]]
