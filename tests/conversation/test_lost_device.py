"""Signing in without the phone: the backup code, a new backup code, a new authenticator app;
and a new sign-in code when the first did not come."""

from __future__ import annotations

import re

import pytest

from core.accounts.links import account_for_chat
from core.accounts.models import OtpMethod
from core.accounts.otp import totp
from core.accounts.questions import RESET_QUESTION_IDS
from core.accounts.service import register_account
from core.accounts.signin import complete_sign_in, start_sign_in
from core.demo import DEMO_BACKUP_CODE, DEMO_EMAIL, DEMO_PASSWORD
from core.errors import InvalidCode
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.account_flows import (
    BACKUP_CODE,
    BACKUP_EXAMPLE,
    all_texts,
    open_help,
    readable,
    stored_state,
)
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _sign_in_elsewhere(uow_factory: UnitOfWorkFactory, code: str) -> None:
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "test", "elsewhere")
    await complete_sign_in(uow_factory, challenge.account_id, code, "test", "elsewhere")


def _backup_codes_shown(chat: FakeChat) -> list[str]:
    return [c for c in BACKUP_CODE.findall(all_texts(chat)) if c != BACKUP_EXAMPLE]


async def _up_to_the_question(chat: FakeChat) -> None:
    await open_help(chat, "I lost my phone / authenticator")
    assert "backup code" in chat.text
    await chat.send(DEMO_EMAIL)
    assert chat.asks_secret
    await chat.send(DEMO_PASSWORD)
    assert "set up an authenticator app" in chat.text


async def test_signs_in_with_the_backup_code_and_shows_a_new_one(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await _up_to_the_question(chat)
    await chat.press("Not now")
    assert chat.asks_secret
    await chat.send(DEMO_BACKUP_CODE.lower().replace("-", " "))

    assert "You are signed in." in chat.text
    assert "Write it down" in chat.text
    shown = _backup_codes_shown(chat)
    assert len(shown) == 1
    assert shown[0] != DEMO_BACKUP_CODE
    async with uow_factory() as uow:
        assert await account_for_chat(uow, chat.channel, chat.chat_id) is not None
    with pytest.raises(InvalidCode):
        await _sign_in_elsewhere(uow_factory, DEMO_BACKUP_CODE)
    await _sign_in_elsewhere(uow_factory, shown[0])


async def test_a_new_authenticator_comes_with_the_last_backup_code_only(
    chat: FakeChat, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await _up_to_the_question(chat)
    await chat.press("Yes, set up a new app")
    await chat.send(DEMO_BACKUP_CODE)

    assert "You are signed in." in chat.text
    (image,) = [a for reply in chat.replies for a in reply.attachments]
    assert (image.kind, image.name, image.content_type) == (
        "image",
        "authenticator.png",
        "image/png",
    )
    assert image.data.startswith(PNG_SIGNATURE)
    found = re.search(r"type this key:\n([A-Z2-7 ]+)\n", chat.text)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    assert chat.asks_secret

    await chat.send("123 456" if totp(secret, clock.now()) != "123456" else "654321")
    assert "That code is not right" in chat.text
    await chat.send(totp(secret, clock.now()))
    assert "Your new authenticator app is set up" in chat.text

    shown = _backup_codes_shown(chat)
    assert len(shown) == 1  # the one from the sign-in was replaced before it was shown
    clock.advance(seconds=60)
    await _sign_in_elsewhere(uow_factory, totp(secret, clock.now()))
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "test", "third")
    await complete_sign_in(uow_factory, challenge.account_id, shown[0], "test", "third")


async def test_a_wrong_password_or_backup_code_is_refused(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await open_help(chat, "I lost my phone / authenticator")
    await chat.send(DEMO_EMAIL)
    await chat.send("not-my-password")
    assert "The email or password is not right" in chat.text
    assert chat.asks_secret
    await chat.send(DEMO_PASSWORD)
    await chat.press("Not now")
    await chat.send("hello")
    assert "12 letters and digits" in chat.text
    await chat.send("AAAA-BBBB-CCCC")
    # The wrong password counted too: failures reset only on a complete sign-in.
    assert "After 3 more wrong tries, the account is locked." in chat.text
    state = readable(await stored_state(uow_factory, chat))
    assert DEMO_PASSWORD not in state
    assert "AAAA-BBBB-CCCC" not in state


async def test_a_missing_sign_in_code_is_sent_again_after_the_cooldown(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    email, password = "mail.codes@example.com", "copper-kettle-meadow-3"
    await register_account(
        uow_factory,
        email=email,
        password=password,
        reset_answers={RESET_QUESTION_IDS[0]: "rex"},
        email_code=None,
        otp_method=OtpMethod.EMAIL,
        skip_email_verification=True,
    )
    await open_help(chat, "I did not get my code")
    await chat.press("The code to sign in")
    await chat.send(email)
    await chat.send(password)
    assert f"We have sent a new 6-digit code to {email}." in chat.text
    assert "spam" in chat.text
    first = mailer.last_code(email)

    await chat.press("Send a new code")
    assert "type your password again" in chat.text
    await chat.send(password)
    assert "less than a minute ago" in chat.text
    assert mailer.last_code(email) == first

    clock.advance(seconds=61)
    await chat.press("Send a new code")
    await chat.send(password)
    assert "We have sent a new 6-digit code" in chat.text
    await chat.send(mailer.last_code(email))
    assert "You are signed in." in chat.text


async def test_an_authenticator_account_is_told_where_its_code_comes_from(chat: FakeChat) -> None:
    await open_help(chat, "I did not get my code")
    await chat.press("The code to sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    assert "codes from an authenticator app, not by email" in chat.text
