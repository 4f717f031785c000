"""Getting a case's updates by email or text message without signing in, in every language:
the web chat offers email, text, sign in or this chat; the address is confirmed with a code
(wrong codes refused with the tries left); a status change is mailed in the person's language
with its one-click unsubscribe, and the link turns the updates off."""

from __future__ import annotations

import mailbox
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient

from bot.engine import Engine
from bot.notify.dispatcher import OutboxDispatcher
from bot.notify.email import EmailSender
from bot.notify.mail import MaildirMailer
from bot.wording.i18n import LOCALES, translator
from core.accounts.otp import totp
from core.cases import service as cases
from core.contacts.service import CODE_SMS
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.outbox.service import pending_notifications
from core.uow import UnitOfWorkFactory
from core.web_sessions import WEB_CHANNEL
from tests.chat import FakeChat
from tests.conversation.test_every_locale import assert_no_english, translated
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")

APPROVED = "WAC2212345678"  # a public demo case: anyone may follow it
OWNED = "IOE0912345678"  # the demo account's
PUBLIC = "https://help.example.org"
KEY_MSGIDS = (
    "By email",
    "By text message",
    "Only in this chat",
    "Please type the 6-digit code we sent you.",
    "Your confirmation code: {code}",
    "To stop these emails, open this link: {url}",
    "Stop all updates sent to {address}?",
    "Stop updates",
    "Did you mean {address}? Please type the address again.",
)


def mails(folder: Path) -> list[EmailMessage]:
    box = mailbox.Maildir(folder, create=True)
    found = []
    for key in box.iterkeys():
        message = message_from_bytes(box.get_bytes(key), policy=policy.default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


def body_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    text: str = part.get_content()
    return text


async def open_case(chat: FakeChat, locale: str) -> None:
    t = translator(locale)
    await chat.send("")
    await chat.press(t._("Check a case status"))
    await chat.send(APPROVED)
    await chat.press(t._("Get updates"))


@pytest.mark.parametrize("locale", LOCALES)
async def test_updates_by_email_without_signing_in_and_unsubscribe_by_link(
    locale: str,
    engine: Engine,
    clock: FakeClock,
    uow_factory: UnitOfWorkFactory,
    client: TestClient[Any, Any],
    tmp_path: Path,
) -> None:
    t = translator(locale)
    if locale != "en":
        for msgid in KEY_MSGIDS:
            assert msgid in translated(locale), f"{locale} does not translate {msgid!r}"
    folder = tmp_path / "mail"
    dispatcher = OutboxDispatcher(
        uow_factory,
        clock,
        [EmailSender(MaildirMailer(folder, clock=clock), uow_factory, public_url=PUBLIC)],
    )
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id=f"updates-{locale}", locale_hint=locale)
    await open_case(chat, locale)
    for label in ("By email", "By text message", "Sign in", "Only in this chat"):
        assert t._(label) in chat.buttons, (locale, label)

    # The address, then the code that was mailed to it.
    await chat.press(t._("By email"))
    await chat.send("not an email")
    assert "@example.com" in chat.text  # a reason with an example
    await chat.send(f"sam.{locale}@gmial.com")  # a provider misspelled: asked, not mailed
    assert chat.text == t._("Did you mean {address}? Please type the address again.").format(
        address=f"sam.{locale}@gmail.com"
    )
    await chat.send(f"sam.{locale}@mail.invalid")  # no mail ever reaches it
    assert chat.text.startswith(t._("No email can reach that address. Please type an address "
                                    "you use, like name@example.com."))  # fmt: skip
    assert (await dispatcher.run_once("email")).sent == 0  # nothing went to either
    address = f"sam.{locale}@example.com"
    await chat.send(address)
    assert address in chat.text
    assert (await dispatcher.run_once("email")).sent == 1
    [code_mail] = mails(folder)
    assert "List-Unsubscribe" not in code_mail  # not confirmed yet: nothing to stop
    [code] = re.findall(r"\b\d{6}\b", body_of(code_mail))
    wrong = "000000" if code != "000000" else "111111"
    await chat.send(wrong)
    assert chat.text == t.ngettext(
        "That code is not right. You have {n} more try.",
        "That code is not right. You have {n} more tries.",
        4,
    ).format(n=4) + "\n" + t._("Please type the 6-digit code we sent you.")
    await chat.send(code)
    assert address in chat.text
    assert APPROVED in chat.text
    assert_no_english(chat, locale)

    # A status change: mailed once, in the person's language, with the one-click unsubscribe.
    async with uow_factory() as uow:
        await cases.update_status(uow, APPROVED, "Card Was Mailed To Me")
        await uow.commit()
    assert (await dispatcher.run_once("email")).sent == 1
    assert (await dispatcher.run_once("email")).claimed == 0
    [status_mail] = [m for m in mails(folder) if "List-Unsubscribe" in m]
    title = t._("Update on your case {receipt}: {title}").split("{receipt}")[0]
    assert status_mail["Subject"].startswith(title.strip()), (locale, status_mail["Subject"])
    assert status_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = status_mail["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{PUBLIC}/unsubscribe?t=")
    assert link in body_of(status_mail)

    # The link: a page with a button in the person's language, then the one-click POST.
    path = urlsplit(link)._replace(scheme="", netloc="").geturl()
    page = await client.get(path)
    assert page.status == 200
    assert t._("Stop updates") in await page.text()
    done = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert done.status == 200
    assert (await client.post(path, data={"List-Unsubscribe": "One-Click"})).status == 410
    async with uow_factory() as uow:
        await cases.update_status(uow, APPROVED, "Case Was Approved")
        await uow.commit()
    assert (await dispatcher.run_once("email")).claimed == 0  # nothing more to that address


@pytest.mark.parametrize("locale", LOCALES)
async def test_updates_by_text_refuse_a_bad_number_and_queue_the_code_as_an_sms(
    locale: str, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    t = translator(locale)
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id=f"texts-{locale}", locale_hint=locale)
    await open_case(chat, locale)
    await chat.press(t._("By text message"))
    assert "(202) 555-0123" in chat.text
    await chat.send("1 800 555 0123")  # toll-free: cannot get texts
    assert "(202) 555-0123" in chat.text
    assert chat.text.startswith(
        t._(
            "That number cannot get text messages (it is toll-free or a paid service). Please "
            "type a mobile number, for example {example}."
        ).format(example="(202) 555-0123")
    )
    await chat.send("(202) 555-0123")
    async with uow_factory() as uow:
        [row] = [m for m in await pending_notifications(uow) if m.kind == CODE_SMS]
    assert (row.channel, row.address, row.payload["locale"]) == ("sms", "+12025550123", locale)
    await chat.send(row.payload["code"])
    assert "+12025550123" in chat.text
    assert_no_english(chat, locale)
    async with uow_factory() as uow:
        await cases.update_status(uow, APPROVED, "Card Was Mailed To Me")
        await uow.commit()
        [status] = [
            m
            for m in await pending_notifications(uow)
            if m.kind == cases.STATUS_CHANGED and m.channel == "sms"
        ]
    assert status.address == "+12025550123"
    assert status.payload["locale"] == locale
    assert status.payload["time_zone"] == "America/New_York"  # 202: Washington, DC


async def test_only_in_this_chat_says_the_chat_must_stay_open(engine: Engine) -> None:
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id="here")
    await open_case(chat, "en")
    await chat.press("Only in this chat")
    assert "only while this chat stays open" in chat.text
    assert "Stop updates" in chat.buttons


async def test_other_channels_keep_getting_updates_in_the_chat(engine: Engine) -> None:
    chat = FakeChat(engine, chat_id="telegram-like")
    await open_case(chat, "en")
    assert "I will send you a message here" in chat.text


async def sign_in(chat: FakeChat, clock: FakeClock) -> None:
    await chat.send("")
    await chat.press("Sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(totp(DEMO_TOTP_SECRET, clock.now()))


async def test_notifications_are_in_the_menu_only_signed_in_after_every_other_button(
    engine: Engine, clock: FakeClock
) -> None:
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id="menu")
    await chat.send("")
    signed_out = list(chat.buttons)
    assert "Notifications" not in signed_out
    await sign_in(chat, clock)
    await chat.send("menu")
    assert chat.buttons[-1] == "Notifications"
    assert chat.buttons.index("Help") == signed_out.index("Help") == 6  # 7th, as before


async def test_a_signed_in_person_adds_an_email_and_chooses_what_it_gets(
    engine: Engine, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id="signed-in")
    await sign_in(chat, clock)
    await chat.send("menu")
    await chat.press("Notifications")
    assert "only in this chat" in chat.text
    await chat.press("Add an email")
    await chat.send("ana.updates@example.com")
    async with uow_factory() as uow:
        [row] = [m for m in await pending_notifications(uow) if m.kind == "code_email"]
    await chat.send(row.payload["code"])
    assert "ana.updates@example.com" in chat.text

    async def emailed_status_changes() -> int:
        async with uow_factory() as uow:
            rows = await pending_notifications(uow)
        return sum(m.kind == cases.STATUS_CHANGED and m.channel == "email" for m in rows)

    async with uow_factory() as uow:  # the person's own case: it hears of it
        await cases.update_status(uow, OWNED, "Case Was Approved")
        await uow.commit()
    assert await emailed_status_changes() == 1

    await chat.send("menu")
    await chat.press("Notifications")
    assert "ana.updates@example.com: on" in chat.text
    await chat.press("ana.updates@example.com")
    await chat.press("✓ Status changes")
    assert "✗ Status changes" in chat.buttons
    async with uow_factory() as uow:  # turned off: nothing more by email
        await cases.update_status(uow, OWNED, "Card Was Mailed To Me")
        await uow.commit()
    assert await emailed_status_changes() == 1
    await chat.press("Stop everything")
    assert "ana.updates@example.com: off" in chat.text


async def test_signing_in_from_get_updates_follows_the_case_in_this_chat(
    engine: Engine, clock: FakeClock
) -> None:
    chat = FakeChat(engine, channel=WEB_CHANNEL, chat_id="sign-in-for-updates")
    await open_case(chat, "en")
    await chat.press("Sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(totp(DEMO_TOTP_SECRET, clock.now()))
    assert "choose Notifications in the menu" in chat.text
    assert APPROVED in chat.text
