"""Text messages in every language: updates by text without signing in, ended by STOP (which
reaches the contact point: nothing more is queued for the number, and START turns on only what
STOP turned off); and sign-in codes by text message (enrol a number, sign in with the texted
code, ask again too soon, and what happens when the number replied STOP)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.engine import Engine
from bot.notify.notifications import SMS_FOOTER, render_message
from bot.wording.i18n import LOCALES, translator
from core.accounts.links import account_id_for_chat
from core.accounts.otp import totp
from core.accounts.service import find_account_by_email
from core.cases import service as cases
from core.contacts.models import ContactPoint
from core.contacts.service import stop_contact
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.outbox.models import OutboxMessage
from core.outbox.service import pending_notifications
from core.sms.service import opt_in, opt_out
from core.uow import UnitOfWork, UnitOfWorkFactory
from core.web_sessions import WEB_CHANNEL
from tests.chat import FakeChat
from tests.conversation.account_flows import open_help
from tests.conversation.test_every_locale import assert_no_english, translated
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")

APPROVED = "WAC2212345678"  # a public demo case: anyone may follow it
NUMBER = "+12025550123"
KEY_MSGIDS = (
    "Sign-in codes by text",
    "Send the code by email",
    "Send a code to my phone",
    "Reply STOP to stop.",
    "Your casebot code is {code}. Never share it with anyone.",
    "We can email your code instead, or you can type your backup code.",
)


async def pending_texts(uow_factory: UnitOfWorkFactory, kind: str) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        return [
            m for m in await pending_notifications(uow) if m.kind == kind and m.channel == "sms"
        ]


async def change_status(uow_factory: UnitOfWorkFactory, status: str) -> None:
    async with uow_factory() as uow:
        await cases.update_status(uow, APPROVED, status)
        await uow.commit()


async def texted_code(uow_factory: UnitOfWorkFactory, number: str) -> tuple[str, str]:
    """The newest code texted to ``number``, and the language it is worded in."""
    rows = [m for m in await pending_texts(uow_factory, "code_sms") if m.address == number]
    assert rows, f"no code was texted to {number}"
    payload = rows[-1].payload
    return str(payload["code"]), str(payload["locale"])


@pytest.mark.parametrize("locale", LOCALES)
async def test_updates_by_text_without_signing_in_end_with_stop(
    locale: str, engine: Engine, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    t = translator(locale)
    if locale != "en":
        for msgid in KEY_MSGIDS:
            assert msgid in translated(locale), f"{locale} does not translate {msgid!r}"
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id=f"stop-{locale}", locale_hint=locale)
    await chat.send("")
    await chat.press(t._("Check a case status"))
    await chat.send(APPROVED)
    await chat.press(t._("Get updates"))
    await chat.press(t._("By text message"))
    await chat.send("202 555 0123")
    code, code_locale = await texted_code(uow_factory, NUMBER)
    assert code_locale == locale
    await chat.send(code)
    assert NUMBER in chat.text
    assert_no_english(chat, locale)

    # A status change: one text, worded in the person's language, saying how to stop.
    await change_status(uow_factory, "Card Was Mailed To Me")
    [status] = await pending_texts(uow_factory, cases.STATUS_CHANGED)
    assert status.address == NUMBER
    async with uow_factory() as uow:
        text = (await render_message(uow, status)).text
    assert text.endswith(t._(SMS_FOOTER)), (locale, text)
    assert APPROVED in text

    # STOP from the phone: the pending text is parked, the contact point is stopped, and the
    # next status change queues nothing for the number.
    async with uow_factory() as uow:
        done = await opt_out(uow, NUMBER, keyword="STOP", now=clock.now())
        await uow.commit()
    # Parked: the status text and the code's (no dispatcher ran in this test).
    assert (done.new, done.parked, done.stopped_contacts) == (True, 2, 1)
    await change_status(uow_factory, "Case Was Approved")
    assert await pending_texts(uow_factory, cases.STATUS_CHANGED) == []

    # START turns on again what STOP turned off.
    async with uow_factory() as uow:
        assert await opt_in(uow, NUMBER)
        await uow.commit()
    await change_status(uow_factory, "Card Was Delivered To Me By The Post Office")
    assert len(await pending_texts(uow_factory, cases.STATUS_CHANGED)) == 1


async def test_start_does_not_undo_a_stop_the_person_chose(
    engine: Engine, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id="own-stop")
    await chat.send("")
    await chat.press("Check a case status")
    await chat.send(APPROVED)
    await chat.press("Get updates")
    await chat.press("By text message")
    await chat.send("202 555 0123")
    code, _ = await texted_code(uow_factory, NUMBER)
    await chat.send(code)
    async with uow_factory() as uow:
        contact = await uow.session.scalar(
            select(ContactPoint).where(ContactPoint.address == NUMBER)
        )
        assert contact is not None
        # The person stops it themselves (as Notifications or the link would).
        contact.account_id = await account_id_of(uow, DEMO_EMAIL)
        await uow.flush()
        assert await stop_contact(uow, contact.account_id, contact.id)
        await opt_out(uow, NUMBER, keyword="STOP", now=clock.now())
        await opt_in(uow, NUMBER)
        await uow.commit()
    await change_status(uow_factory, "Card Was Mailed To Me")
    assert await pending_texts(uow_factory, cases.STATUS_CHANGED) == []


async def sign_in_with_app(chat: FakeChat, clock: FakeClock, locale: str) -> None:
    t = translator(locale)
    await chat.send("")
    await chat.press(t._("Sign in"))
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(totp(DEMO_TOTP_SECRET, clock.now()))


async def account_id_of(uow: UnitOfWork, email: str) -> int:
    account = await find_account_by_email(uow, email)
    assert account is not None
    return account.id


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


@pytest.mark.parametrize("locale", LOCALES)
async def test_sign_in_codes_by_text_message(
    locale: str,
    engine: Engine,
    clock: FakeClock,
    uow_factory: UnitOfWorkFactory,
    mailer: FakeMailer,
) -> None:
    t = translator(locale)
    number = "+12025550199"

    # Enrol: signed in, Notifications, "Sign-in codes by text", the number, the texted code.
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id=f"enrol-{locale}", locale_hint=locale)
    await sign_in_with_app(chat, clock, locale)
    await chat.send("menu")
    await chat.press(t._("Notifications"))
    await chat.press(t._("Sign-in codes by text"))
    await chat.send("1 800 555 0123")  # toll-free: a reason, with an example
    assert "(202) 555-0123" in chat.text
    await chat.send("(202) 555-0199")
    code, code_locale = await texted_code(uow_factory, number)
    assert code_locale == locale
    await chat.send(wrong(code))
    assert chat.text.startswith(
        t.ngettext(
            "That code is not right. You have {n} more try.",
            "That code is not right. You have {n} more tries.",
            4,
        ).format(n=4)
    )
    await chat.send(code)
    assert number in chat.text
    assert_no_english(chat, locale)

    # Sign in from another chat: the code comes by text, in this language.
    clock.advance(timedelta(minutes=2))
    other = FakeChat(engine, channel=WEB_CHANNEL, chat_id=f"texted-{locale}", locale_hint=locale)
    await other.send("")
    await other.press(t._("Sign in"))
    await other.send(DEMO_EMAIL)
    await other.send(DEMO_PASSWORD)
    assert "0199" in other.text
    _, code_locale = await texted_code(uow_factory, number)
    assert code_locale == locale
    await other.press(t._("Send a new code"))  # too soon: wait, and no second text
    wait = t._("We sent a code a moment ago. Please use that one, or ask for a new code in {time}.")
    assert wait.split("{time}")[0] in other.text, (locale, other.text)
    assert len(await pending_texts(uow_factory, "code_sms")) == 2  # the enrolment's, this one
    clock.advance(timedelta(seconds=61))
    await other.press(t._("Send a new code"))
    second, _ = await texted_code(uow_factory, number)
    await other.send(wrong(second))
    assert "0199" in other.text  # asked again
    await other.send(second)
    assert_no_english(other, locale)
    async with uow_factory() as uow:
        assert await account_id_for_chat(uow, WEB_CHANNEL, f"texted-{locale}") is not None

    # The number replied STOP: no code by text; the chat says so and offers email.
    clock.advance(timedelta(minutes=2))
    async with uow_factory() as uow:
        await opt_out(uow, number, keyword="STOP", now=clock.now())
        await uow.commit()
    before = len(await pending_texts(uow_factory, "code_sms"))
    stopped = FakeChat(engine, channel=WEB_CHANNEL, chat_id=f"stopped-{locale}", locale_hint=locale)
    await stopped.send("")
    await stopped.press(t._("Sign in"))
    await stopped.send(DEMO_EMAIL)
    await stopped.send(DEMO_PASSWORD)
    assert len(await pending_texts(uow_factory, "code_sms")) == before
    assert any("0199" in reply.text for reply in stopped.turn.replies), locale
    await stopped.press(t._("Send the code by email"))
    mail = mailer.last_to(DEMO_EMAIL)
    [mailed] = re.findall(r"(?<!\d)\d{6}(?!\d)", mail.body)
    await stopped.send(mailed)
    assert_no_english(stopped, locale)
    async with uow_factory() as uow:
        assert await account_id_for_chat(uow, WEB_CHANNEL, f"stopped-{locale}") is not None


async def test_the_lost_device_flow_offers_a_code_by_text(
    engine: Engine, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id="enrol-lost")
    await sign_in_with_app(chat, clock, "en")
    await chat.send("menu")
    await chat.press("Notifications")
    await chat.press("Sign-in codes by text")
    await chat.send("(202) 555-0199")
    code, _ = await texted_code(uow_factory, "+12025550199")
    await chat.send(code)

    lost = FakeChat(engine, channel=WEB_CHANNEL, chat_id="lost")
    await open_help(lost, "I lost my phone / authenticator")
    await lost.send(DEMO_EMAIL)
    await lost.send(DEMO_PASSWORD)
    await lost.press("Not now")
    assert "Send a code to my phone" in lost.buttons
    before = len(await pending_texts(uow_factory, "code_sms"))
    await lost.press("Send a code to my phone")
    assert len(await pending_texts(uow_factory, "code_sms")) == before + 1
    texted, _ = await texted_code(uow_factory, "+12025550199")
    await lost.send(texted)
    assert "You are signed in." in lost.text
