"""Text notifications through the outbox dispatcher on SQLite and PostgreSQL: worded in the
payload's language with how to stop, sent once, retried without loss, deferred in quiet hours
and over the daily cap, never sent to a number that replied STOP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry
from sqlalchemy import select

from bot.dialogs.registry import all_dialogs
from bot.notify.dispatcher import OutboxDispatcher
from bot.notify.sms import SmsSender
from bot.ops.housekeeping import Housekeeper
from bot.ops.metrics import CasebotMetrics
from bot.wording.i18n import LOCALES, translator
from core.outbox.models import OutboxStatus
from core.outbox.service import add_notification
from core.ports import OutgoingSms, SmsRefused, SmsUnavailable
from core.sms.models import SmsDelivery
from core.sms.rules import DAILY_CAP
from core.sms.segments import MAX_SEGMENTS, segments
from core.sms.service import is_opted_out, opt_in, opt_out, record_accepted, record_status
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock
from tests.outbox_support import change_statuses, outbox_rows, seed_cases

NUMBER = "+12025550123"
OTHER = "+13105550188"


class FakeProvider:
    """The SMS provider port in memory: records texts, fails on demand."""

    def __init__(self) -> None:
        self.sent: list[OutgoingSms] = []
        self.plan: list[Exception] = []

    async def send(self, sms: OutgoingSms) -> str:
        if self.plan:
            raise self.plan.pop(0)
        self.sent.append(sms)
        return f"SM{len(self.sent):032d}"

    async def close(self) -> None:
        return None


def dispatcher(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, provider: FakeProvider, **options: int
) -> OutboxDispatcher:
    sender = SmsSender(provider, uow_factory, clock, **options)
    return OutboxDispatcher(uow_factory, clock, [sender])


async def queue(
    uow_factory: UnitOfWorkFactory,
    key: str,
    *,
    number: str = NUMBER,
    kind: str = "case_status_changed",
    **payload: object,
) -> None:
    body = {
        "receipt_number": "IOE0900000001",
        "status_code": "approved",
        "changed_at": "2026-03-02T14:00:00+00:00",
        **payload,
    }
    async with uow_factory() as uow:
        await add_notification(
            uow, kind=kind, channel="sms", address=number, payload=body, dedupe_key=key
        )
        await uow.commit()


async def test_a_status_change_reaches_a_subscribed_number_once_with_how_to_stop(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    numbers = await seed_cases(uow_factory, 1, channel="sms", chats=[NUMBER])
    await change_statuses(uow_factory, numbers, "approved")
    provider = FakeProvider()
    outbox = dispatcher(uow_factory, clock, provider)

    report = await outbox.run_once("sms")
    again = await outbox.run_once("sms")

    assert (report.sent, again.claimed) == (1, 0)
    [text] = provider.sent
    assert text.to == NUMBER
    assert numbers[0] in text.body
    assert text.body.endswith("\nReply STOP to stop.")
    assert "Open the menu" not in text.body  # a text has no menu to open
    assert len(segments(text.body)) <= MAX_SEGMENTS
    [row] = await outbox_rows(uow_factory)
    assert row.status is OutboxStatus.SENT
    async with uow_factory() as uow:
        [delivery] = await uow.session.scalars(select(SmsDelivery))
    assert (delivery.outbox_id, delivery.status) == (row.id, "queued")


async def test_every_language_says_how_to_stop_in_at_most_three_parts(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    for n, locale in enumerate(LOCALES):
        await queue(uow_factory, f"k{n}", number=f"+1202555{n:04d}", locale=locale)
    provider = FakeProvider()
    await dispatcher(uow_factory, clock, provider).run_once("sms")
    assert len(provider.sent) == len(LOCALES)
    by_number = {text.to: text for text in provider.sent}
    for n, locale in enumerate(LOCALES):
        text = by_number[f"+1202555{n:04d}"]
        footer = translator(locale)._("Reply STOP to stop.")
        assert text.body.endswith(footer), locale
        assert len(segments(text.body)) <= MAX_SEGMENTS, locale
        assert (footer == "Reply STOP to stop.") is (locale == "en")


async def test_a_429_then_success_sends_once_and_loses_nothing(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await queue(uow_factory, "a")
    provider = FakeProvider()
    provider.plan = [SmsUnavailable(429, 1.0)]
    outbox = dispatcher(uow_factory, clock, provider)

    first = await outbox.run_once("sms")
    assert (first.failed, first.sent, provider.sent) == (1, 0, [])
    clock.advance(minutes=1)  # past the first backoff
    second = await outbox.run_once("sms")
    assert second.sent == 1
    assert len(provider.sent) == 1
    [row] = await outbox_rows(uow_factory)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 2)


async def test_a_refusal_parks_the_text_at_once(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await queue(uow_factory, "a")
    await queue(uow_factory, "b", number="+1202555012")  # not a number at all
    provider = FakeProvider()
    provider.plan = [SmsRefused(400, 21610)]
    report = await dispatcher(uow_factory, clock, provider).run_once("sms")
    assert (report.parked, report.sent) == (2, 0)
    rows = await outbox_rows(uow_factory)
    assert [r.status for r in rows] == [OutboxStatus.PARKED] * 2
    assert "21610" in (rows[0].last_error or "")
    assert "not a US phone number" in (rows[1].last_error or "")


async def test_quiet_hours_defer_a_text_to_eight_local_and_a_code_goes_at_once(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    los_angeles = ZoneInfo("America/Los_Angeles")
    clock.set(datetime(2026, 3, 2, 22, 30, tzinfo=los_angeles).astimezone(UTC))
    await queue(uow_factory, "status", time_zone="America/Los_Angeles")
    await queue(
        uow_factory, "code", kind="code_sms", time_zone="America/Los_Angeles", code="482913"
    )
    provider = FakeProvider()
    outbox = dispatcher(uow_factory, clock, provider)

    report = await outbox.run_once("sms")
    assert (report.deferred, report.sent) == (1, 1)
    [code] = provider.sent
    assert "482913" in code.body
    assert code.body.endswith("Reply STOP to stop.")
    status = (await outbox_rows(uow_factory))[0]
    assert status.status is OutboxStatus.PENDING
    assert status.attempts == 0
    eight = datetime(2026, 3, 3, 8, 0, tzinfo=los_angeles).astimezone(UTC)
    assert status.next_attempt_at == eight

    clock.set(eight - timedelta(minutes=1))
    assert (await outbox.run_once("sms")).claimed == 0
    clock.set(eight)
    assert (await outbox.run_once("sms")).sent == 1
    assert len(provider.sent) == 2


async def test_over_the_daily_cap_texts_wait_for_the_next_morning(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    for n in range(DAILY_CAP + 2):
        await queue(uow_factory, f"k{n}")
    await queue(uow_factory, "other", number=OTHER)
    provider = FakeProvider()
    outbox = dispatcher(uow_factory, clock, provider)
    report = await outbox.run_once("sms")
    assert (report.sent, report.deferred) == (DAILY_CAP + 1, 2)  # the other number is not capped
    assert (await outbox.run_once("sms")).claimed == 0
    clock.advance(days=1)
    assert (await outbox.run_once("sms")).sent == 2


async def test_stop_parks_what_is_pending_and_nothing_goes_until_start(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await queue(uow_factory, "a", locale="es")
    await queue(uow_factory, "b")
    await queue(uow_factory, "other", number=OTHER)
    async with uow_factory() as uow:
        first = await opt_out(uow, NUMBER, keyword="STOP", now=clock.now())
        again = await opt_out(uow, NUMBER, keyword="QUIT", now=clock.now())
        await uow.commit()
    assert (first.new, first.parked, first.locale) == (True, 2, "es")
    assert (again.new, again.parked) == (False, 0)  # confirmed once

    await queue(uow_factory, "later")
    provider = FakeProvider()
    outbox = dispatcher(uow_factory, clock, provider)
    report = await outbox.run_once("sms")
    assert [t.to for t in provider.sent] == [OTHER]
    assert report.parked == 1  # the later one, checked against the table

    async with uow_factory() as uow:
        assert await opt_in(uow, NUMBER)
        await uow.commit()
    await queue(uow_factory, "after start")
    await outbox.run_once("sms")
    assert [t.to for t in provider.sent] == [OTHER, NUMBER]


async def test_a_stop_while_a_batch_is_sending_stops_the_next_text(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await queue(uow_factory, "a")
    await queue(uow_factory, "b")
    provider = FakeProvider()
    sender = SmsSender(provider, uow_factory, clock)
    outbox = OutboxDispatcher(uow_factory, clock, [sender])
    real_send = provider.send

    async def send_then_stop(sms: OutgoingSms) -> str:
        sid = await real_send(sms)
        async with uow_factory() as uow:  # the person replies STOP to the first text
            await opt_out(uow, sms.to, keyword="STOP", now=clock.now())
            await uow.commit()
        return sid

    provider.send = send_then_stop  # type: ignore[method-assign]
    await outbox.run_once("sms")
    assert len(provider.sent) == 1
    rows = await outbox_rows(uow_factory)
    assert {r.status for r in rows} <= {OutboxStatus.SENT, OutboxStatus.PARKED}
    async with uow_factory() as uow:
        assert await is_opted_out(uow, NUMBER)


async def test_a_late_status_never_replaces_a_final_one(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        for status in ("delivered", "sent"):
            await record_status(
                uow, "SM1", number=NUMBER, status=status, error_code=None, now=clock.now()
            )
        await record_status(
            uow, "SM2", number=NUMBER, status="undelivered", error_code=30003, now=clock.now()
        )
        await uow.commit()
        rows = {r.sid: (r.status, r.error_code) for r in await uow.session.scalars(
            select(SmsDelivery))}  # fmt: skip
    assert rows == {"SM1": ("delivered", None), "SM2": ("undelivered", 30003)}


async def test_a_status_that_comes_before_the_acceptance_is_written_is_kept(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        await record_status(
            uow, "SM9", number=NUMBER, status="delivered", error_code=None, now=clock.now()
        )
        await record_accepted(uow, "SM9", number=NUMBER, outbox_id=7, now=clock.now())
        await uow.commit()
    async with uow_factory() as uow:
        [row] = await uow.session.scalars(select(SmsDelivery))
    assert (row.sid, row.outbox_id, row.status) == ("SM9", 7, "delivered")


async def test_deferred_texts_are_counted_in_the_metrics(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC))
    await queue(uow_factory, "night")
    metrics = CasebotMetrics(CollectorRegistry(), all_dialogs())
    sender = SmsSender(FakeProvider(), uow_factory, clock)
    await OutboxDispatcher(uow_factory, clock, [sender], metrics=metrics).run_once("sms")
    deferred = metrics.registry.get_sample_value(
        "casebot_notifications_total", {"channel": "sms", "outcome": "deferred"}
    )
    assert deferred == 1


async def test_housekeeping_deletes_old_delivery_records_and_keeps_opt_outs(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        await record_accepted(uow, "SMold", number=NUMBER, outbox_id=1, now=clock.now())
        await opt_out(uow, NUMBER, keyword="STOP", now=clock.now())
        await uow.commit()
    clock.advance(days=20)
    async with uow_factory() as uow:
        await record_accepted(uow, "SMnew", number=NUMBER, outbox_id=2, now=clock.now())
        await uow.commit()
    clock.advance(days=11)
    purged = await Housekeeper(uow_factory, timedelta(hours=24)).run_once()
    assert purged is not None
    assert purged.sms_deliveries == 1
    async with uow_factory() as uow:
        assert list(await uow.session.scalars(select(SmsDelivery.sid))) == ["SMnew"]
        assert await is_opted_out(uow, NUMBER)
