"""Operators' office services on SQLite and PostgreSQL: changing an office and its capacity,
closing a day (appointments cancelled, people told, seats frozen), reopening it, and finding
appointments by office, local days and status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.accounts.links import link_chat
from core.accounts.models import Account
from core.appointments import add_office, book_appointment, cancel_appointment, list_slots
from core.appointments.closures import OFFICE_CLOSED, close_office_day, reopen_office_day
from core.appointments.listing import (
    EXPORT_COLUMNS,
    AppointmentQuery,
    appointments_csv,
    find_appointments,
)
from core.appointments.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Office,
    SlotUsage,
)
from core.appointments.office_admin import OfficeChanges, set_capacity, update_office
from core.appointments.seats import take_seat
from core.cases.models import Case
from core.errors import (
    InvalidDateRange,
    InvalidOfficeData,
    InvalidZipCode,
    OfficeNotFound,
    SlotTaken,
    UnknownState,
)
from core.outbox.models import OutboxMessage
from core.uow import UnitOfWork, UnitOfWorkFactory
from tests.fakes import FakeClock

TUESDAY = date(2026, 3, 3)
TUE_8AM = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # 8:00 in New York
TUE_9AM = TUE_8AM + timedelta(hours=1)
WED_8AM = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
BIO = AppointmentKind.BIOMETRICS


@dataclass
class World:
    uow_factory: UnitOfWorkFactory
    clock: FakeClock
    office: int
    ana: int
    ana_case: int
    bob: int
    bob_case: int


async def _account(uow: UnitOfWork, email: str) -> int:
    account = Account(email=email, password_hash="not-a-real-hash")
    uow.session.add(account)
    await uow.flush()
    return account.id


async def _case(uow: UnitOfWork, owner: int, number: int) -> int:
    case = Case(
        receipt_number=f"IOE{number:010d}",
        form_type="I-485",
        status_code="fingerprint_fee_received",
        owner_id=owner,
    )
    uow.session.add(case)
    await uow.flush()
    return case.id


@pytest.fixture
async def world(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> World:
    async with uow_factory() as uow:
        office = await add_office(
            uow, code="NYC", name="New York ASC", address="26 Federal Plaza", city="New York",
            state="NY", zip_code="10278", timezone="America/New_York", capacity=2,
        )  # fmt: skip
        await add_office(
            uow, code="PHX", name="Phoenix ASC", address="1330 S 16th St", city="Phoenix",
            state="AZ", zip_code="85034", timezone="America/Phoenix",
        )  # fmt: skip
        ana = await _account(uow, "ana@example.com")
        bob = await _account(uow, "bob@example.com")
        ana_case = await _case(uow, ana, 912345679)
        bob_case = await _case(uow, bob, 912345680)
        await link_chat(uow, ana, "telegram", "111")
        await link_chat(uow, ana, "webchat", "w-ana")
        await uow.commit()
    return World(uow_factory, clock, office.id, ana, ana_case, bob, bob_case)


async def book(
    w: World, account: int, case: int | None, at: datetime, office: int | str = 0
) -> str:
    async with w.uow_factory() as uow:
        appointment = await book_appointment(
            uow,
            account_id=account,
            office_id=office or w.office,
            starts_at=at,
            kind=BIO if case else AppointmentKind.IN_PERSON,
            case_id=case,
        )
        await uow.commit()
    return appointment.confirmation_code


async def appointment(w: World, code: str) -> Appointment:
    async with w.uow_factory() as uow:
        found = await uow.session.scalar(
            select(Appointment).where(Appointment.confirmation_code == code)
        )
    assert found is not None
    return found


async def usage(w: World, at: datetime) -> tuple[int, int] | None:
    async with w.uow_factory() as uow:
        row = await uow.session.scalar(
            select(SlotUsage).where(SlotUsage.office_id == w.office, SlotUsage.starts_at == at)
        )
    return None if row is None else (row.taken, row.capacity)


# --- changing an office ----------------------------------------------------------------------


async def test_an_office_takes_new_settings_and_reports_what_changed(world: World) -> None:
    async with world.uow_factory() as uow:
        office, changed = await update_office(
            uow,
            "nyc",
            OfficeChanges(name=" New York Field Office ", services=["in_person"], capacity=2),
        )
        await uow.commit()
    assert changed == {
        "name": ("New York ASC", "New York Field Office"),
        "services": (["biometrics", "in_person"], ["in_person"]),
    }
    assert office.services == ["in_person"]
    async with world.uow_factory() as uow:
        _office, again = await update_office(
            uow, "NYC", OfficeChanges(name="New York Field Office")
        )
    assert again == {}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        (OfficeChanges(name="   "), InvalidOfficeData(field="name")),
        (OfficeChanges(address="x" * 201), InvalidOfficeData(field="address")),
        (OfficeChanges(city="New\nYork"), InvalidOfficeData(field="city")),
        (OfficeChanges(timezone="Mars/Olympus"), InvalidOfficeData(field="timezone")),
        (OfficeChanges(services=["tea"]), InvalidOfficeData(field="services")),
        (OfficeChanges(services=[]), InvalidOfficeData(field="services")),
        (OfficeChanges(slot_minutes=2), InvalidOfficeData(field="slot_minutes")),
        (OfficeChanges(capacity=0), InvalidOfficeData(field="capacity")),
        (OfficeChanges(capacity=10**12), InvalidOfficeData(field="capacity")),
        (OfficeChanges(state="Atlantis"), UnknownState(state="Atlantis")),
        (OfficeChanges(zip_code="1234"), InvalidZipCode(zip_code="1234")),
    ],
)
async def test_a_bad_setting_is_refused_and_nothing_changes(
    world: World, changes: OfficeChanges, error: Exception
) -> None:
    async with world.uow_factory() as uow:
        with pytest.raises(type(error)) as raised:
            await update_office(uow, "NYC", changes)
    assert vars(raised.value) == vars(error)
    async with world.uow_factory() as uow:
        office = await uow.session.get(Office, world.office)
    assert office is not None
    assert (office.name, office.timezone, office.capacity) == (
        "New York ASC",
        "America/New_York",
        2,
    )


async def test_an_unknown_office_is_not_found(world: World) -> None:
    async with world.uow_factory() as uow:
        with pytest.raises(OfficeNotFound):
            await update_office(uow, "ZZZ", OfficeChanges(name="Nowhere"))


async def test_a_new_capacity_reaches_future_slots_but_never_below_who_holds_them(
    world: World,
) -> None:
    await book(world, world.ana, world.ana_case, TUE_8AM)
    await book(world, world.bob, world.bob_case, TUE_8AM)
    assert await usage(world, TUE_8AM) == (2, 2)
    async with world.uow_factory() as uow:
        _office, over = await set_capacity(uow, "NYC", 1)
        await uow.commit()
    assert over == 1
    assert await usage(world, TUE_8AM) == (2, 2)  # both keep their seats, nobody more
    async with world.uow_factory() as uow:
        await set_capacity(uow, "NYC", 5)
        await uow.commit()
    assert await usage(world, TUE_8AM) == (2, 5)


# --- closing a day ---------------------------------------------------------------------------


async def test_closing_a_day_cancels_its_appointments_and_tells_each_persons_chats(
    world: World,
) -> None:
    ana_code = await book(world, world.ana, world.ana_case, TUE_8AM)
    bob_code = await book(world, world.bob, world.bob_case, TUE_9AM)
    other_day = await book(world, world.ana, None, WED_8AM)
    async with world.uow_factory() as uow:
        result = await close_office_day(uow, "NYC", TUESDAY, "  power outage ")
        await uow.commit()
    assert result.newly_closed
    assert result.changed
    assert result.cancelled == (ana_code, bob_code)
    assert result.notices == 2  # Ana's two chats; Bob has none signed in
    for code in (ana_code, bob_code):
        cancelled = await appointment(world, code)
        assert cancelled.status is AppointmentStatus.CANCELLED
        assert cancelled.cancel_reason == OFFICE_CLOSED
        assert cancelled.active_key is None
    assert (await appointment(world, other_day)).status is AppointmentStatus.BOOKED
    assert await usage(world, TUE_8AM) == (0, 0)
    async with world.uow_factory() as uow:
        notices = list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(n.kind, n.channel, n.address) for n in notices] == [
        (OFFICE_CLOSED, "telegram", "111"),
        (OFFICE_CLOSED, "webchat", "w-ana"),
    ]
    assert notices[0].payload == {
        "appointment_id": (await appointment(world, ana_code)).id,
        "confirmation_code": ana_code,
        "kind": "biometrics",
        "starts_at": TUE_8AM.isoformat(),
        "timezone": "America/New_York",
        "day": "2026-03-03",
        "office_code": "NYC",
        "office_name": "New York ASC",
        "office_address": "26 Federal Plaza, New York, NY 10278",
        "receipt_number": "IOE0912345679",
    }


async def test_a_closed_day_takes_no_booking_even_one_that_checked_the_schedule_before(
    world: World,
) -> None:
    async with world.uow_factory() as uow:
        await close_office_day(uow, "NYC", TUESDAY)
        await uow.commit()
    async with world.uow_factory() as uow:
        assert await list_slots(uow, "NYC", TUESDAY, BIO) == []
        office = await uow.session.get(Office, world.office)
        assert office is not None
        # A booking that passed the schedule check just before the closure committed gets
        # here: the frozen slot refuses it.
        with pytest.raises(SlotTaken):
            await take_seat(uow, office, TUE_9AM)


async def test_the_people_of_a_closed_day_may_book_again_and_reopening_restores_the_seats(
    world: World,
) -> None:
    await book(world, world.ana, world.ana_case, TUE_8AM)
    async with world.uow_factory() as uow:
        await close_office_day(uow, "NYC", TUESDAY)
        await uow.commit()
    await book(world, world.ana, world.ana_case, WED_8AM)  # the case's active key was freed
    async with world.uow_factory() as uow:
        assert await reopen_office_day(uow, "NYC", TUESDAY) is True
        await uow.commit()
    async with world.uow_factory() as uow:
        assert await reopen_office_day(uow, "NYC", TUESDAY) is False
        slots = await list_slots(uow, "NYC", TUESDAY, BIO)
    assert [s.remaining for s in slots if s.starts_at == TUE_8AM] == [2]
    await book(world, world.bob, world.bob_case, TUE_8AM)
    assert await usage(world, TUE_8AM) == (1, 2)


async def test_closing_again_changes_only_the_reason_and_queues_no_second_notice(
    world: World,
) -> None:
    await book(world, world.ana, world.ana_case, TUE_8AM)
    async with world.uow_factory() as uow:
        await close_office_day(uow, "NYC", TUESDAY, "storm")
        await uow.commit()
    async with world.uow_factory() as uow:
        same = await close_office_day(uow, "NYC", TUESDAY, "storm")
        other = await close_office_day(uow, "NYC", TUESDAY, "snow")
        await uow.commit()
    assert (same.newly_closed, same.changed, same.cancelled, same.notices) == (False, False, (), 0)
    assert (other.changed, other.cancelled) == (True, ())


async def test_a_capacity_change_leaves_a_closed_day_frozen(world: World) -> None:
    await book(world, world.ana, world.ana_case, TUE_8AM)
    async with world.uow_factory() as uow:
        await close_office_day(uow, "NYC", TUESDAY)
        await set_capacity(uow, "NYC", 4)
        await uow.commit()
    assert await usage(world, TUE_8AM) == (0, 0)


async def test_an_appointment_cancelled_by_its_holder_is_not_touched_nor_announced(
    world: World,
) -> None:
    code = await book(world, world.ana, world.ana_case, TUE_8AM)
    async with world.uow_factory() as uow:
        await cancel_appointment(uow, account_id=world.ana, code=code)
        await uow.commit()
    async with world.uow_factory() as uow:
        result = await close_office_day(uow, "NYC", TUESDAY)
        await uow.commit()
    assert (result.cancelled, result.notices) == ((), 0)
    assert (await appointment(world, code)).cancel_reason is None


@pytest.mark.parametrize(
    ("day", "reason", "field"),
    [
        (date(2026, 3, 1), "", "day"),  # yesterday in New York
        (date(2028, 6, 1), "", "day"),  # more than two years ahead
        (TUESDAY, "x" * 201, "reason"),
        (TUESDAY, "line\nbreak", "reason"),
    ],
)
async def test_a_day_in_the_past_or_far_ahead_or_a_bad_reason_is_refused(
    world: World, day: date, reason: str, field: str
) -> None:
    async with world.uow_factory() as uow:
        with pytest.raises(InvalidOfficeData) as raised:
            await close_office_day(uow, "NYC", day, reason)
    assert raised.value.field == field


# --- finding appointments --------------------------------------------------------------------


async def test_appointments_are_found_by_each_offices_local_days_status_and_office(
    world: World, clock: FakeClock
) -> None:
    ny_late = datetime(2026, 3, 3, 20, 30, tzinfo=UTC)  # 15:30 Tuesday in New York
    phx = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # 8:00 Wednesday in Phoenix
    first = await book(world, world.ana, world.ana_case, ny_late)
    second = await book(world, world.bob, world.bob_case, phx, office="PHX")
    third = await book(world, world.ana, None, WED_8AM)
    async with world.uow_factory() as uow:
        await cancel_appointment(uow, account_id=world.ana, code=third)
        await uow.commit()
    async with world.uow_factory() as uow:
        everything = await find_appointments(uow, AppointmentQuery())
        tuesday = await find_appointments(
            uow, AppointmentQuery(first_day=TUESDAY, last_day=TUESDAY)
        )
        wednesday = await find_appointments(uow, AppointmentQuery(first_day=date(2026, 3, 4)))
        booked = await find_appointments(uow, AppointmentQuery(status=AppointmentStatus.BOOKED))
        phoenix = await find_appointments(uow, AppointmentQuery(office="phx"))
        page = await find_appointments(uow, AppointmentQuery(offset=1, limit=1))
    assert [r.confirmation_code for r in everything] == [first, third, second]
    assert [r.confirmation_code for r in tuesday] == [first]
    assert [r.confirmation_code for r in wednesday] == [third, second]
    assert [r.confirmation_code for r in booked] == [first, second]
    assert [r.confirmation_code for r in phoenix] == [second]
    assert [r.confirmation_code for r in page] == [third]
    record = everything[0]
    assert (record.receipt_number, record.account_email) == ("IOE0912345679", "ana@example.com")
    assert record.local_start.isoformat() == "2026-03-03T15:30:00-05:00"


async def test_the_csv_export_has_a_header_and_one_line_per_appointment(world: World) -> None:
    code = await book(world, world.ana, world.ana_case, TUE_8AM)
    async with world.uow_factory() as uow:
        text = appointments_csv(await find_appointments(uow, AppointmentQuery(office="NYC")))
    header, line, end = text.split("\r\n")
    assert header.split(",") == list(EXPORT_COLUMNS)
    values = dict(zip(EXPORT_COLUMNS, line.split(","), strict=True))
    assert values["confirmation_code"] == code
    assert values["local_start"] == "2026-03-03T08:00:00-05:00"
    assert values["starts_at_utc"] == "2026-03-03T13:00:00+00:00"
    assert (values["status"], values["receipt_number"]) == ("booked", "IOE0912345679")
    assert end == ""


async def test_a_bad_filter_is_refused(world: World) -> None:
    async with world.uow_factory() as uow:
        with pytest.raises(InvalidDateRange):
            await find_appointments(
                uow, AppointmentQuery(first_day=TUESDAY, last_day=date(2026, 3, 2))
            )
        with pytest.raises(OfficeNotFound):
            await find_appointments(uow, AppointmentQuery(office="ZZZ"))
