"""Every flow of the demo through the real python-telegram-bot Application, against the fake
Bot API server, in polling and in webhook mode."""

from __future__ import annotations

from sqlalchemy import select

from core.accounts.links import link_chat
from core.accounts.models import Account
from core.accounts.otp import totp
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_RESET_ANSWER, DEMO_TOTP_SECRET
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock, FakeMailer
from tests.telegram.conftest import CHAT, Harness, TelegramUser

WAC = "WAC2212345678"
READY = "IOE0912345679"
SECOND = "IOE0912345679 · I-485 · Fingerprint Fee Was Received"
NEW_PASSWORD = "lantern-harbor-orchid-97"
DELETED = "I deleted your message to keep your password safe."


def deleted(user: TelegramUser) -> list[int]:
    """Ids of the user's messages the bot deleted in the last exchange."""
    return [int(c.params["message_id"]) for c in user.last if c.method == "deleteMessage"]


def own_message_id(user: TelegramUser) -> int:
    return int(user.last_update["message"]["message_id"])


async def sign_in_as_ana(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        account_id = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert account_id is not None
        await link_chat(uow, account_id, "telegram", str(CHAT))
        await uow.commit()


async def test_checks_a_public_case_status(bot: Harness) -> None:
    ana = bot.user()
    await ana.send("/start")
    assert "Check a case status" in ana.buttons
    await ana.press("Check a case status")
    await ana.send(WAC)
    assert f"Case {WAC} (I-765)" in ana.text
    assert "Status: Case Was Approved" in ana.text
    assert deleted(ana) == []  # a receipt number is no secret


async def test_signs_in_with_the_authenticator_and_lists_the_cases(
    bot: Harness, clock: FakeClock
) -> None:
    ana = bot.user()
    await ana.send("sign in")
    await ana.send(DEMO_EMAIL)
    assert "password for a***@example.com" in ana.text
    await ana.send(DEMO_PASSWORD)
    assert deleted(ana) == [own_message_id(ana)]
    assert ana.text.startswith(DELETED)
    assert "authenticator app" in ana.text
    await ana.send(totp(DEMO_TOTP_SECRET, clock.now()))
    assert deleted(ana) == [own_message_id(ana)]
    assert "You are signed in as a***@example.com" in ana.text

    await ana.press("My cases")
    assert SECOND in ana.buttons
    await ana.press(SECOND)
    assert f"Case {READY} (I-485)" in ana.text
    assert "Fingerprint Fee Was Received" in ana.text


async def test_books_an_appointment_and_sends_the_calendar_file(
    bot: Harness, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_as_ana(uow_factory)
    ana = bot.user()
    await ana.send("hi")
    await ana.press("Appointments")
    await ana.press("Book an appointment")
    await ana.press("Biometrics (fingerprints and photo)")
    await ana.press(READY)
    await ana.press("Phoenix Field Office")
    await ana.press("Wednesday, March 4, 2026")
    await ana.press("7:30\u202fAM")
    assert "Office: Phoenix Field Office" in ana.text
    await ana.press("Confirm")

    assert "Your appointment is booked." in ana.text
    [document] = [c for c in ana.last if c.method == "sendDocument"]
    name, data = document.files["document"]
    assert name.startswith("appointment-")
    assert name.endswith(".ics")
    assert b"BEGIN:VCALENDAR" in data
    assert document.chat_id == CHAT


async def test_resets_a_forgotten_password_with_the_mailed_code(
    bot: Harness, mailer: FakeMailer
) -> None:
    ana = bot.user()
    await ana.send("hi")
    await ana.press("Password and sign-in help")
    await ana.press("I forgot my password")
    await ana.send(DEMO_EMAIL)
    assert "6-digit code" in ana.text
    await ana.send(mailer.last_code(DEMO_EMAIL))
    assert deleted(ana) == [own_message_id(ana)]
    assert "What was the name of your first pet?" in ana.text
    await ana.send(DEMO_RESET_ANSWER)
    assert deleted(ana) == [own_message_id(ana)]
    await ana.send(NEW_PASSWORD)
    assert deleted(ana) == [own_message_id(ana)]
    assert DELETED in ana.text
    assert "Your password is changed" in ana.text
