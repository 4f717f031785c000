"""Creating an account in the chat: email code, password, reset questions, account type, an
authenticator app, the backup code, and signed in."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from core.accounts.links import account_for_chat
from core.accounts.models import Account, AccountKind, ResetAnswer
from core.accounts.otp import totp
from core.accounts.service import register_account
from core.accounts.signin import complete_sign_in, start_sign_in
from core.accounts.totp_store import totp_secret_of
from core.demo import DEMO_EMAIL
from core.errors import CodeReused
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.account_flows import (
    BACKUP_CODE,
    all_texts,
    open_help,
    other_code,
    readable,
    restarted,
    sealed_values,
    stored_state,
)
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")
EMAIL = "new.person@example.com"
PASSWORD = "river-candle-mosaic-8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _up_to_the_questions(chat: FakeChat, mailer: FakeMailer) -> None:
    await open_help(chat, "Create an account")
    await chat.send(EMAIL)
    assert f"We have sent a 6-digit code to {EMAIL}" in chat.text
    assert chat.asks_secret
    code = mailer.last_code(EMAIL)
    await chat.send(other_code(code))
    assert "4 more tries" in chat.text
    await chat.send(code)
    assert chat.asks_secret
    await chat.send("12345678")
    assert "too common" in chat.text
    await chat.send(PASSWORD)


def _shown_key(chat: FakeChat) -> str:
    """The authenticator key the last turn showed (the QR code's secret, as text)."""
    found = re.search(r"type this key:\n([A-Z2-7 ]+)\n", chat.text)
    assert found is not None
    return found.group(1).replace(" ", "")


async def _up_to_the_app(chat: FakeChat, mailer: FakeMailer) -> str:
    """Through the account type to the authenticator step; the key shown."""
    await _up_to_the_questions(chat, mailer)
    await chat.press("First pet")
    await chat.send("Biscuit")
    await chat.press("City of birth")
    await chat.send("Guadalajara")
    await chat.press("Done")
    await chat.press("Applicant, petitioner or requestor")
    assert chat.asks_secret
    return _shown_key(chat)


async def _account_exists(uow_factory: UnitOfWorkFactory, email: str = EMAIL) -> bool:
    async with uow_factory() as uow:
        found = await uow.session.scalar(select(Account.id).where(Account.email == email))
        return found is not None


async def test_creates_an_account_with_an_authenticator_and_signs_the_chat_in(
    chat: FakeChat,
    mailer: FakeMailer,
    uow_factory: UnitOfWorkFactory,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    states = []
    await _up_to_the_questions(chat, mailer)
    assert "Done" not in chat.buttons
    await chat.press("First pet")
    assert "What was the name of your first pet?" in chat.text
    assert chat.asks_secret
    await chat.send("Biscuit")
    states.append(await stored_state(uow_factory, chat))
    assert "Done" not in chat.buttons
    assert "First pet" not in chat.buttons
    await chat.press("City of birth")
    await chat.send("Guadalajara")
    states.append(await stored_state(uow_factory, chat))
    await chat.press("Done")
    await chat.press("Applicant, petitioner or requestor")

    assert "Your account is created." not in chat.text  # not before the app works
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
    assert not BACKUP_CODE.search(all_texts(chat))  # not before the app works
    states.append(await stored_state(uow_factory, chat))

    await chat.send(totp(secret, clock.now()))
    assert "Your account is created." in chat.text
    assert "Write it down" in chat.text
    assert "you are signed in" in chat.text
    shown = BACKUP_CODE.findall(all_texts(chat))
    assert len(shown) == 1

    async with uow_factory() as uow:
        account = await account_for_chat(uow, chat.channel, chat.chat_id)
        assert account is not None
        assert account.email == EMAIL
        assert account.kind is AccountKind.APPLICANT
        answers = await uow.session.scalars(
            select(ResetAnswer.question_id).where(ResetAnswer.account_id == account.id)
        )
        assert sorted(answers) == ["birth_city", "first_pet"]
    for state in states:
        assert sealed_values(state)
        for secret_text in (PASSWORD, "Biscuit", "Guadalajara", shown[0], secret):
            assert secret_text not in readable(state)
    for secret_text in (PASSWORD, "Biscuit", "Guadalajara", shown[0]):
        assert secret_text not in caplog.text

    challenge = await start_sign_in(uow_factory, EMAIL, PASSWORD, "test", "elsewhere")
    await complete_sign_in(uow_factory, challenge.account_id, shown[0], "test", "elsewhere")


async def test_a_taken_email_offers_sign_in_or_a_reset(chat: FakeChat, mailer: FakeMailer) -> None:
    await open_help(chat, "Create an account")
    await chat.send(DEMO_EMAIL)
    assert "already exists" in chat.text
    assert {"Sign in", "Reset my password"} <= set(chat.buttons)
    await chat.press("Reset my password")
    assert f"send a code to reset your password to {DEMO_EMAIL}" in chat.text
    await chat.press("Yes, send the code")
    assert mailer.last_to(DEMO_EMAIL).subject == "Your password reset code"
    assert chat.asks_secret


async def test_a_restart_before_the_account_type_keeps_the_answers(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await _up_to_the_questions(chat, mailer)
    await chat.press("First school")
    await chat.send("Lincoln")
    await chat.press("Favorite teacher")
    await chat.send("Ms Rivera")
    again = restarted(uow_factory, mailer, clock, chat)
    await again.send("Done")
    await again.send("Legal representative")
    secret = _shown_key(again)
    later = restarted(uow_factory, mailer, clock, again)
    await later.send(totp(secret, clock.now()))
    assert "Your account is created." in later.text
    async with uow_factory() as uow:
        account = await uow.session.scalar(select(Account).where(Account.email == EMAIL))
        assert account is not None
        assert account.kind is AccountKind.REPRESENTATIVE
        assert totp_secret_of(uow, account) == secret


async def test_an_idle_registration_times_out(
    chat: FakeChat, mailer: FakeMailer, clock: FakeClock
) -> None:
    await _up_to_the_questions(chat, mailer)
    clock.advance(minutes=16)
    await chat.send("Done")
    assert "timed out" in chat.text


async def test_stopping_before_the_app_code_leaves_no_account(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    # Whoever stops here never saw the backup code and may not have the app: an account made
    # now could never be signed in to, and a password reset would not fix its second factor.
    await _up_to_the_app(chat, mailer)
    (image,) = [a for reply in chat.replies for a in reply.attachments]
    assert image.data.startswith(PNG_SIGNATURE)
    assert not await _account_exists(uow_factory)
    clock.advance(minutes=16)
    await chat.send("hi")
    assert not await _account_exists(uow_factory)


async def test_the_key_stays_the_same_when_the_step_is_shown_again(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory
) -> None:
    secret = await _up_to_the_app(chat, mailer)
    state = await stored_state(uow_factory, chat)
    assert secret not in readable(state)
    await chat.send("000000")  # wrong: the step is shown again
    assert _shown_key(chat) == secret
    await chat.press("Back")
    assert "what kind of account" in chat.text
    await chat.press("Applicant, petitioner or requestor")
    assert _shown_key(chat) == secret  # an app that scanned it already keeps working
    assert not await _account_exists(uow_factory)


async def test_a_wrong_app_code_asks_again_and_the_right_one_creates_the_account(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    secret = await _up_to_the_app(chat, mailer)
    await chat.send(other_code(totp(secret, clock.now())))
    assert "That code is not right" in chat.text
    assert chat.asks_secret
    assert not await _account_exists(uow_factory)
    assert not BACKUP_CODE.search(all_texts(chat))

    code = totp(secret, clock.now())
    await chat.send(code)
    assert "Your account is created." in chat.text
    assert "you are signed in" in chat.text
    async with uow_factory() as uow:
        account = await account_for_chat(uow, chat.channel, chat.chat_id)
        assert account is not None
        assert account.email == EMAIL
        assert totp_secret_of(uow, account) == secret

    # The enrolment code cannot sign in again; the app's next code can.
    challenge = await start_sign_in(uow_factory, EMAIL, PASSWORD, "test", "elsewhere")
    with pytest.raises(CodeReused):
        await complete_sign_in(uow_factory, challenge.account_id, code, "test", "elsewhere")
    clock.advance(seconds=30)
    challenge = await start_sign_in(uow_factory, EMAIL, PASSWORD, "test", "elsewhere")
    await complete_sign_in(
        uow_factory, challenge.account_id, totp(secret, clock.now()), "test", "elsewhere"
    )


async def test_an_email_taken_during_enrolment_offers_sign_in_or_a_reset(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    secret = await _up_to_the_app(chat, mailer)
    await register_account(
        uow_factory,
        email=EMAIL,
        password="another-password-for-it-42",
        reset_answers={"first_pet": "Rex"},
        email_code=None,
        skip_email_verification=True,
    )
    await chat.send(totp(secret, clock.now()))
    assert "already exists" in chat.text
    assert {"Sign in", "Reset my password", "Use another email"} <= set(chat.buttons)
    assert "Your account is created." not in chat.text
    assert not BACKUP_CODE.search(all_texts(chat))
    await chat.press("Reset my password")
    assert f"send a code to reset your password to {EMAIL}" in chat.text


async def test_an_email_code_that_expired_during_enrolment_is_sent_again(
    chat: FakeChat, mailer: FakeMailer, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    secret = await _up_to_the_app(chat, mailer)
    clock.advance(minutes=11)
    await chat.send(totp(secret, clock.now()))
    assert "The email code expired before we finished" in chat.text
    assert not await _account_exists(uow_factory)
    await chat.send(mailer.last_code(EMAIL))
    # The app was proven already: the account is made with it, nothing asked twice.
    assert "Your account is created." in chat.text
    assert "you are signed in" in chat.text
    assert len(BACKUP_CODE.findall(all_texts(chat))) == 1
    async with uow_factory() as uow:
        account = await account_for_chat(uow, chat.channel, chat.chat_id)
        assert account is not None
        assert totp_secret_of(uow, account) == secret
