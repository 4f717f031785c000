"""Notifications on Telegram: case changes and appointment reminders reach the linked and
subscribed chats in each chat's language, through the real Application and the fake Bot API;
failures back off, then park with the reason kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from sqlalchemy import select

from bot.channels.telegram.sender import TelegramSender
from bot.notify.dispatcher import OutboxDispatcher
from bot.wording.i18n import translator
from core.accounts.links import link_chat
from core.accounts.models import Account
from core.appointments.models import Appointment, AppointmentKind, AppointmentStatus, Office
from core.cases.models import Case
from core.cases.service import update_status
from core.cases.subscriptions import subscribe
from core.conversations import open_conversation
from core.outbox.dispatch import backoff
from core.outbox.models import OutboxMessage, OutboxStatus
from core.outbox.reminders import queue_reminders
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.telegram.conftest import Harness
from tests.telegram.fake_bot_api import FakeBotApi

RECEIPT: Final = "IOE0955512345"
OWNER: Final = 5001  # signed in as the case's owner, chose Spanish
SUBSCRIBER: Final = 5002  # subscribed to the case, never chose a language


async def seed(uow_factory: UnitOfWorkFactory) -> int:
    """The owner's account and case, its linked chat (in Spanish) and a subscriber; returns
    the account id."""
    async with uow_factory() as uow:
        account = Account(email="notify@example.com", password_hash="not-a-real-hash")
        uow.session.add(account)
        await uow.flush()
        uow.session.add(
            Case(
                receipt_number=RECEIPT, form_type="I-485", status_code="fingerprint_fee_received",
                owner_id=account.id,
            )
        )  # fmt: skip
        await link_chat(uow, account.id, "telegram", str(OWNER))
        await subscribe(uow, RECEIPT, channel="telegram", chat_id=str(SUBSCRIBER))
        conversation = await open_conversation(uow, "telegram", str(OWNER))
        conversation.locale = "es"
        await uow.commit()
        return account.id


async def book(uow_factory: UnitOfWorkFactory, account_id: int, hours_ahead: float) -> int:
    async with uow_factory() as uow:
        office = Office(
            code="ZZT", name="Test ASC", address="1 Test Plaza", city="New York", state="NY",
            zip_code="10278", timezone="America/New_York", services=["biometrics"],
        )  # fmt: skip
        uow.session.add(office)
        await uow.flush()
        starts_at = uow.clock.now() + timedelta(hours=hours_ahead)
        appointment = Appointment(
            confirmation_code="BIO-NT1234", account_id=account_id, office_id=office.id,
            kind=AppointmentKind.BIOMETRICS, starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
        )  # fmt: skip
        uow.session.add(appointment)
        await uow.commit()
        return appointment.id


async def set_status(uow_factory: UnitOfWorkFactory, status: str) -> None:
    """What ``casebot admin set-status`` does."""
    async with uow_factory() as uow:
        assert await update_status(uow, RECEIPT, status)
        await uow.commit()


def texts(api: FakeBotApi, chat_id: int) -> list[str]:
    return [c.text for c in api.calls_of("sendMessage", chat_id) if c.ok]


def notifier(
    harness: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock, **options: Any
) -> OutboxDispatcher:
    """The outbox dispatcher with the Telegram sender only."""
    return OutboxDispatcher(uow_factory, clock, [TelegramSender(harness.channel)], **options)


async def outbox(uow_factory: UnitOfWorkFactory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_status_change_reaches_the_owner_and_a_subscriber_in_their_language(
    polling: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await seed(uow_factory)
    dispatcher = notifier(polling, uow_factory, clock)
    await set_status(uow_factory, "approved")

    report = await dispatcher.run_once("telegram")

    assert (report.sent, report.failed, report.parked) == (2, 0, 0)
    (owner,) = texts(polling.api, OWNER)
    (subscriber,) = texts(polling.api, SUBSCRIBER)
    assert subscriber.startswith(f"Update on your case {RECEIPT}: Case Was Approved")
    assert "USCIS approved your case" in subscriber
    assert "Changed on March 2, 2026." in subscriber
    # The owner chose Spanish: Spanish words (as far as the catalog has them) and dates.
    spanish = translator("es")
    heading = spanish._("Update on your case {receipt}: {title}").split("{")[0]
    assert owner.startswith(f"{heading}{RECEIPT}")
    assert spanish._("Changed on {day}.").format(day="2 de marzo de 2026") in owner
    assert all(c.json("reply_markup") is None for c in polling.api.calls_of("sendMessage"))
    assert (await dispatcher.run_once("telegram")).claimed == 0
    assert len(texts(polling.api, OWNER)) == 1


async def test_reminders_arrive_24_hours_and_2_hours_before_once_each(
    polling: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await seed(uow_factory)
    await book(uow_factory, account_id, hours_ahead=30)  # Tuesday 8:00 pm in New York
    dispatcher = notifier(polling, uow_factory, clock)
    starts_at = clock.now() + timedelta(hours=30)

    await dispatcher.run_once("telegram")
    assert texts(polling.api, OWNER) == []
    clock.set(starts_at - timedelta(hours=23))
    await dispatcher.run_once("telegram")
    await dispatcher.run_once("telegram")
    (day_before,) = texts(polling.api, OWNER)
    assert "martes, 3 de marzo de 2026" in day_before  # the office's day, in Spanish
    assert "Test ASC, 1 Test Plaza, New York, NY 10278" in day_before
    assert "BIO-NT1234" in day_before
    clock.set(starts_at - timedelta(hours=1, minutes=30))
    await dispatcher.run_once("telegram")
    await dispatcher.run_once("telegram")
    assert len(texts(polling.api, OWNER)) == 2
    soon = (
        translator("es")
        ._("Reminder: your biometrics appointment starts in about 2 hours: {when}.")
        .split("{")[0]
    )
    assert texts(polling.api, OWNER)[1].startswith(soon)
    clock.set(starts_at + timedelta(minutes=1))
    await dispatcher.run_once("telegram")
    assert len(texts(polling.api, OWNER)) == 2
    assert texts(polling.api, SUBSCRIBER) == []  # reminders go to the account's chats only


async def test_a_reminder_of_a_cancelled_appointment_is_parked_not_sent(
    polling: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await seed(uow_factory)
    appointment_id = await book(uow_factory, account_id, hours_ahead=5)
    async with uow_factory() as uow:
        assert await queue_reminders(uow, now=clock.now()) == 1
        appointment = await uow.session.get(Appointment, appointment_id)
        assert appointment is not None
        appointment.status = AppointmentStatus.CANCELLED
        await uow.commit()
    report = await notifier(polling, uow_factory, clock).run_once("telegram")
    assert report.parked == 1
    assert texts(polling.api, OWNER) == []
    (row,) = await outbox(uow_factory)
    assert (row.status, row.last_error) == (OutboxStatus.PARKED, "appointment_cancelled")


async def test_a_5xx_leaves_the_row_pending_and_the_next_pass_delivers_it(
    polling: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await seed(uow_factory)
    dispatcher = notifier(polling, uow_factory, clock)
    polling.api.fail("sendMessage", status=502, chat_id=SUBSCRIBER, times=1)
    await set_status(uow_factory, "approved")

    report = await dispatcher.run_once("telegram")

    assert (report.sent, report.failed) == (1, 1)
    failed = [m for m in await outbox(uow_factory) if m.address == str(SUBSCRIBER)]
    assert [(m.status, m.attempts) for m in failed] == [(OutboxStatus.PENDING, 1)]
    assert "Bad Gateway" in (failed[0].last_error or "")
    assert (await dispatcher.run_once("telegram")).claimed == 0  # not before the backoff
    clock.advance(backoff(1))
    assert (await dispatcher.run_once("telegram")).sent == 1
    assert len(texts(polling.api, SUBSCRIBER)) == 1
    assert len(texts(polling.api, OWNER)) == 1
    assert {m.status for m in await outbox(uow_factory)} == {OutboxStatus.SENT}


async def test_a_row_that_keeps_failing_is_parked_with_the_reason(
    polling: Harness, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await seed(uow_factory)
    dispatcher = notifier(polling, uow_factory, clock, max_attempts=3)
    polling.api.fail("sendMessage", status=502, chat_id=SUBSCRIBER, times=100)
    await set_status(uow_factory, "approved")

    for attempt in range(1, 4):
        await dispatcher.run_once("telegram")
        clock.advance(backoff(attempt))
    assert (await dispatcher.run_once("telegram")).claimed == 0

    (row,) = [m for m in await outbox(uow_factory) if m.address == str(SUBSCRIBER)]
    assert (row.status, row.attempts) == (OutboxStatus.PARKED, 3)
    assert (row.last_error or "").startswith("gave up after 3 attempts: NetworkError")
    assert "Bad Gateway" in (row.last_error or "")
    assert len(polling.api.calls_of("sendMessage", SUBSCRIBER)) == 3
    assert texts(polling.api, SUBSCRIBER) == []
