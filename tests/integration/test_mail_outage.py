"""The mail server down while a code must be mailed: the person is told, in their language,
that the email could not be sent (never "check your inbox"), the step is taken back, and the
same request works as soon as the server is back, without waiting out the resend cooldown.

A real SMTP server (aiosmtpd) on a port where, while it is "down", nothing listens (connection
refused) or a silent listener swallows the connection (timeout); the real ``SmtpMailer``.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.notify.mail import SmtpMailer
from bot.wording.i18n import translator
from bot.wording.outage import mail_not_sent
from core.accounts.models import CodePurpose, EmailCode, OtpMethod
from core.accounts.service import register_account
from core.demo import DEMO_EMAIL, DEMO_RESET_ANSWER
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.account_flows import reach_reset_code
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")

MAIL_USER = "bruno.mail@example.com"
MAIL_USER_PASSWORD = "violet-harbor-passage-58"


class Inbox:
    """An aiosmtpd handler that keeps the codes it receives, by recipient."""

    def __init__(self) -> None:
        self.received: list[tuple[str, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            self.received.append((rcpt, envelope.original_content))
        return "250 OK"

    def last_code(self, address: str) -> str:
        for rcpt, content in reversed(self.received):
            if rcpt == address:
                # The body is UTF-8 text, maybe quoted-printable: the code is plain digits.
                codes = re.findall(rb"\b(\d{6})\b", content)
                assert codes, "the mail holds no code"
                return codes[-1].decode()
        raise AssertionError(f"no mail to {address}")


class SmtpPort:
    """One port: down (nothing listens), silent (accepts, never answers) or up (aiosmtpd)."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self.inbox = Inbox()
        self._controller: Controller | None = None
        self._silent: socket.socket | None = None
        self._held: list[socket.socket] = []

    def up(self) -> None:
        self.down()
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def silent(self) -> None:
        """A server that takes the connection and never says a word (a hung relay)."""
        self.down()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        self._silent = listener

        def accept() -> None:
            while True:
                try:
                    connection, _ = listener.accept()
                except OSError:
                    return
                self._held.append(connection)  # kept open, never answered

        threading.Thread(target=accept, daemon=True).start()

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._silent is not None:
            # shutdown wakes the thread blocked in accept(); close alone would not.
            self._silent.shutdown(socket.SHUT_RDWR)
            self._silent.close()
            self._silent = None
        for connection in self._held:
            connection.close()
        self._held.clear()


@pytest.fixture
def smtp() -> Iterator[SmtpPort]:
    port = SmtpPort()
    yield port
    port.down()


@pytest.fixture
def mail_engine(uow_factory: UnitOfWorkFactory, clock: FakeClock, smtp: SmtpPort) -> Engine:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{smtp.port}", timeout=1.0)
    return Engine(Services(uow_factory=uow_factory, mailer=mailer, clock=clock), all_dialogs())


def said(chat: FakeChat) -> str:
    return "\n".join(reply.text for reply in chat.turn.replies)


async def current_codes(uow_factory: UnitOfWorkFactory, email: str) -> list[EmailCode]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(EmailCode).where(EmailCode.email == email)))


async def test_a_reset_code_that_cannot_be_mailed_is_said_and_works_once_the_server_is_back(
    mail_engine: Engine, smtp: SmtpPort, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(mail_engine)
    await reach_reset_code(chat)  # the server is down: nothing listens on its port

    assert mail_not_sent(translator("en")) in said(chat)
    assert "we have sent" not in said(chat).lower()
    assert "please type the email address of your account" in said(chat)  # the step before
    assert not chat.asks_secret  # not waiting for a code that never left
    assert await current_codes(uow_factory, DEMO_EMAIL) == []  # withdrawn

    smtp.up()
    await chat.send(DEMO_EMAIL)  # at once: no "wait a minute", nothing was sent

    assert "we have sent a 6-digit code" in said(chat)
    assert chat.asks_secret
    await chat.send(smtp.inbox.last_code(DEMO_EMAIL))
    assert "first pet" in said(chat)
    await chat.send(DEMO_RESET_ANSWER)
    assert "new password" in said(chat)


async def test_a_mail_server_that_never_answers_times_out_into_the_same_answer(
    mail_engine: Engine, smtp: SmtpPort
) -> None:
    smtp.silent()
    chat = FakeChat(mail_engine)
    await reach_reset_code(chat)
    assert mail_not_sent(translator("en")) in said(chat)
    smtp.up()
    await chat.send(DEMO_EMAIL)
    assert "we have sent a 6-digit code" in said(chat)


async def test_a_sign_in_code_that_cannot_be_mailed_takes_the_person_back_to_the_password(
    mail_engine: Engine, smtp: SmtpPort, uow_factory: UnitOfWorkFactory
) -> None:
    await register_account(
        uow_factory,
        email=MAIL_USER,
        password=MAIL_USER_PASSWORD,
        reset_answers={"first_pet": "maple"},
        email_code=None,
        otp_method=OtpMethod.EMAIL,
        skip_email_verification=True,
    )
    chat = FakeChat(mail_engine, locale_hint="es")
    es = translator("es")
    await chat.send("iniciar sesión")
    await chat.send(MAIL_USER)
    await chat.send(MAIL_USER_PASSWORD)

    assert mail_not_sent(es) in said(chat)  # in the chat's language
    password_prompt = es._("Please type your password for {email}.").format(
        email="b***@example.com"
    )
    assert password_prompt in said(chat)
    assert chat.asks_secret  # the password again: the code never left
    assert chat.turn.input_was_secret  # and the password just typed is still masked
    assert [c for c in await current_codes(uow_factory, MAIL_USER)
            if c.purpose is CodePurpose.SIGN_IN] == []  # fmt: skip

    smtp.up()
    await chat.send(MAIL_USER_PASSWORD)  # not "we sent you a code less than a minute ago"
    assert mail_not_sent(es) not in said(chat)
    await chat.send(smtp.inbox.last_code(MAIL_USER))
    signed_in = es._("You are signed in as {email} in this chat.")
    assert signed_in.format(email="b***@example.com") in said(chat)


async def test_a_notice_that_cannot_be_mailed_does_not_undo_what_was_done(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, smtp: SmtpPort
) -> None:
    # The "your password was changed" notice carries no code: the reset stands, the mail is
    # only logged as not sent (it is a courtesy; the person is in the chat and was told).
    smtp.up()
    mailer = SmtpMailer(f"smtp://127.0.0.1:{smtp.port}", timeout=1.0)
    engine = Engine(Services(uow_factory=uow_factory, mailer=mailer, clock=clock), all_dialogs())
    chat = FakeChat(engine)
    await reach_reset_code(chat)
    await chat.send(smtp.inbox.last_code(DEMO_EMAIL))
    await chat.send(DEMO_RESET_ANSWER)
    smtp.down()
    await chat.send("a-brand-new-passphrase-2026")
    assert "Your password is changed" in said(chat)
    assert mail_not_sent(translator("en")) not in said(chat)
