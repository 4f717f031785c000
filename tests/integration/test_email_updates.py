"""Status changes by email: sent once through a real SMTP server (aiosmtpd) by the email
sender, in the person's language, each with its one-click unsubscribe (RFC 8058), and the
unsubscribe page over HTTP: a button, then off; forged and reused links change nothing."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.dialogs.model import Reply
from bot.notify.dispatcher import OutboxDispatcher
from bot.notify.email import EmailSender
from bot.notify.mail import SmtpMailer
from core.cases import service as cases
from core.contacts.models import ContactPoint
from core.contacts.service import (
    CODE_EMAIL,
    Choice,
    confirm_contact,
    request_contact,
    unsubscribe_token,
)
from core.outbox.models import OutboxMessage, OutboxStatus
from core.outbox.service import pending_notifications
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock, FakeMailer
from tests.integration.test_mail import smtp_server  # noqa: F401  (the aiosmtpd fixture)

pytestmark = pytest.mark.usefixtures("demo", "quiet_smtp_server")


@pytest.fixture
def quiet_smtp_server() -> Iterator[None]:
    """The test SMTP server (the receiving side, not casebot) logs every line it receives at
    DEBUG, unsubscribe links included: keep its log at INFO."""
    server_log = logging.getLogger("mail.log")
    level = server_log.level
    server_log.setLevel(logging.INFO)
    yield
    server_log.setLevel(level)


APPROVED = "WAC2212345678"
PUBLIC = "https://help.example.org"


async def confirmed(uow_factory: UnitOfWorkFactory, address: str, locale: str) -> int:
    async with uow_factory() as uow:
        contact_id = await request_contact(uow, "email", address, locale=locale)
        await uow.commit()
    async with uow_factory() as uow:
        [code_row] = [m for m in await pending_notifications(uow) if m.address == address]
        await confirm_contact(
            uow, "email", address, code_row.payload["code"], Choice(locale, receipt_number=APPROVED)
        )
        await uow.commit()
    return contact_id


async def token_of(uow_factory: UnitOfWorkFactory, contact_id: int) -> str:
    async with uow_factory() as uow:
        contact = await uow.session.get(ContactPoint, contact_id)
        assert contact is not None
        token = unsubscribe_token(uow, contact)
    assert token is not None
    return token


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_a_status_change_is_mailed_once_in_the_persons_language_with_one_click_unsubscribe(
    uow_factory: UnitOfWorkFactory,
    clock: FakeClock,
    smtp_server: Any,  # noqa: F811
) -> None:
    recorder, port = smtp_server()
    sender = EmailSender(SmtpMailer(f"smtp://127.0.0.1:{port}"), uow_factory, public_url=PUBLIC)
    dispatcher = OutboxDispatcher(uow_factory, clock, [sender])
    async with uow_factory() as uow:
        contact_id = await request_contact(uow, "email", "sam@example.com", locale="fr")
        await uow.commit()
    assert (await dispatcher.run_once("email")).sent == 1
    code_mail = parsed(recorder.messages[0].content)
    assert "List-Unsubscribe" not in code_mail  # nothing to stop before it is confirmed
    code_body = code_mail.get_body(("plain",))
    assert code_body is not None
    [code] = re.findall(r"\b\d{6}\b", code_body.get_content())
    async with uow_factory() as uow:
        await confirm_contact(
            uow, "email", "sam@example.com", code, Choice("fr", receipt_number=APPROVED)
        )
        await uow.commit()
    async with uow_factory() as uow:
        await cases.update_status(uow, APPROVED, "Card Was Mailed To Me")
        await uow.commit()
    assert (await dispatcher.run_once("email")).sent == 1
    again = await dispatcher.run_once("email")
    assert again.claimed == 0
    assert len(recorder.messages) == 2

    status_mail = parsed(recorder.messages[1].content)
    token = await token_of(uow_factory, contact_id)
    assert status_mail["List-Unsubscribe"] == f"<{PUBLIC}/unsubscribe?t={token}>"
    assert status_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert recorder.messages[1].rcpt_tos == ["sam@example.com"]
    body = status_mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert APPROVED in status_mail["Subject"]
    assert "Mise à jour" in status_mail["Subject"] or "dossier" in status_mail["Subject"]
    assert f"{PUBLIC}/unsubscribe?t={token}" in text
    assert "menu" not in text  # an email has no menu to point to


async def test_a_refused_recipient_is_parked_and_a_down_server_is_retried(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await confirmed(uow_factory, "sam@example.com", "en")
    sender = EmailSender(SmtpMailer("smtp://127.0.0.1:9"), uow_factory, public_url=PUBLIC)
    report = await OutboxDispatcher(uow_factory, clock, [sender]).run_once("email")
    assert report.failed == 1
    assert report.sent == 0
    async with uow_factory() as uow:
        [row] = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == CODE_EMAIL)
        )
        assert row.status == OutboxStatus.PENDING
        assert row.attempts == 1


# --- the page --------------------------------------------------------------------------------


async def test_the_page_shows_a_button_and_the_one_click_post_turns_updates_off_once(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    contact_id = await confirmed(uow_factory, "sam@example.com", "es")
    token = await token_of(uow_factory, contact_id)

    page = await client.get(f"/unsubscribe?t={token}")
    assert page.status == 200
    html = await page.text()
    assert 'lang="es"' in html
    assert "s***@example.com" in html
    assert "<form" in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "http" not in html.replace('"/unsubscribe"', "")  # nothing loaded from elsewhere

    # What a mail client sends (RFC 8058): the link's own address, the one-click form.
    done = await client.post(f"/unsubscribe?t={token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status == 200
    async with uow_factory() as uow:
        contact = await uow.session.get(ContactPoint, contact_id)
        assert contact is not None
        assert contact.stopped_at is not None

    reused = await client.post("/unsubscribe", data={"t": token, "List-Unsubscribe": "One-Click"})
    assert reused.status == 410
    assert (await client.get(f"/unsubscribe?t={token}")).status == 410


@pytest.mark.parametrize(
    ("query", "form", "status"),
    [
        ("?t=forged-token", {"List-Unsubscribe": "One-Click"}, 404),
        ("", {"List-Unsubscribe": "One-Click"}, 400),
        ("?t=forged-token", {}, 400),
        ("?t=" + "x" * 5000, {"List-Unsubscribe": "One-Click"}, 404),
    ],
)
async def test_a_forged_or_incomplete_request_changes_nothing(
    client: TestClient[Any, Any],
    uow_factory: UnitOfWorkFactory,
    query: str,
    form: dict[str, str],
    status: int,
) -> None:
    contact_id = await confirmed(uow_factory, "sam@example.com", "en")
    answer = await client.post(f"/unsubscribe{query}", data=form)
    assert answer.status == status
    assert "Nothing was changed" in await answer.text()
    assert (await client.get("/unsubscribe?t=nope")).status == 404
    async with uow_factory() as uow:
        contact = await uow.session.get(ContactPoint, contact_id)
        assert contact is not None
        assert contact.active


async def test_a_row_sent_again_after_a_crash_carries_the_same_message_id(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """Between the server's "accepted" and the sent mark a killed worker leaves the row to be
    sent again (at least once): the copy, worded the same, is the same message to mail stores."""
    await confirmed(uow_factory, "sam@example.com", "en")
    mailer = FakeMailer()
    sender = EmailSender(mailer, uow_factory, public_url=PUBLIC)
    update_mail = Reply(text="Update on your case WAC2212345678: Card Was Mailed To Me")
    await sender.send("sam@example.com", update_mail)
    await sender.send("sam@example.com", update_mail)  # the same row, after a restart
    await sender.send("sam@example.com", Reply(text="Update on your case: Case Was Approved"))
    first, again, other = (dict(mail.headers)["Message-ID"] for mail in mailer.sent)
    assert first == again != other
