"""Offices, slots, booking, rescheduling and cancelling, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

import core.appointments.service as appointment_service
from core.accounts.models import Account, AccountKind, RepresentativeGrant
from core.appointments import (
    add_office,
    book_appointment,
    calendar_event,
    cancel_appointment,
    close_day,
    find_offices,
    get_appointment,
    list_appointments,
    list_offices,
    list_slots,
    reopen_day,
    reschedule_appointment,
    set_hours,
)
from core.appointments.models import Appointment, AppointmentKind, AppointmentStatus, SlotUsage
from core.cases.models import Case
from core.errors import (
    AccountNotFound,
    AlreadyBooked,
    AppointmentNotFound,
    CancelNotAllowed,
    InvalidOfficeData,
    InvalidZipCode,
    NotAuthorized,
    NotBookable,
    OfficeCodeTaken,
    OfficeNotFound,
    RescheduleNotAllowed,
    SlotTaken,
    UnknownState,
)
from core.uow import UnitOfWork, UnitOfWorkFactory
from tests.fakes import FakeClock

BIO = AppointmentKind.BIOMETRICS
IN_PERSON = AppointmentKind.IN_PERSON
TUESDAY = date(2026, 3, 3)
TUE_8AM = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # 8:00 in New York
TUE_830 = TUE_8AM + timedelta(minutes=30)
WED_8AM = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
THU_8AM = datetime(2026, 3, 5, 13, 0, tzinfo=UTC)


async def new_account(
    uow: UnitOfWork, email: str, kind: AccountKind = AccountKind.APPLICANT
) -> int:
    account = Account(email=email, password_hash="not-a-real-hash", kind=kind)
    uow.session.add(account)
    await uow.flush()
    return account.id


async def new_case(
    uow: UnitOfWork, owner_id: int | None, number: int, status: str = "fingerprint_fee_received"
) -> int:
    case = Case(
        receipt_number=f"IOE{number:010d}", form_type="I-485", status_code=status, owner_id=owner_id
    )
    uow.session.add(case)
    await uow.flush()
    return case.id


async def new_office(uow: UnitOfWork, code: str = "NYC", **overrides: object) -> int:
    values: dict[str, object] = {
        "code": code, "name": "New York ASC", "address": "26 Federal Plaza", "city": "New York",
        "state": "NY", "zip_code": "10278", "timezone": "America/New_York",
    }  # fmt: skip
    values.update(overrides)
    office = await add_office(uow, **values)  # type: ignore[arg-type]
    return office.id


@dataclass
class World:
    uow_factory: UnitOfWorkFactory
    clock: FakeClock
    office: int
    ana: int  # an applicant with a case ready for biometrics
    ana_case: int
    bob: int  # another applicant
    bob_case: int
    rita: int  # ana's representative

    def uow(self) -> UnitOfWork:
        return self.uow_factory()


@pytest.fixture
async def world(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> World:
    async with uow_factory() as uow:
        office = await new_office(uow)
        ana = await new_account(uow, "ana@example.com")
        bob = await new_account(uow, "bob@example.com")
        rita = await new_account(uow, "rita@example.com", AccountKind.REPRESENTATIVE)
        uow.session.add(RepresentativeGrant(representative_id=rita, client_id=ana))
        ana_case = await new_case(uow, ana, 912345679)
        bob_case = await new_case(uow, bob, 912345680)
        await uow.commit()
    return World(uow_factory, clock, office, ana, ana_case, bob, bob_case, rita)


async def book(w: World, starts_at: datetime = TUE_8AM, **kwargs: object) -> Appointment:
    values: dict[str, object] = {
        "account_id": w.ana, "office_id": w.office, "starts_at": starts_at, "kind": BIO,
        "case_id": w.ana_case,
    }  # fmt: skip
    values.update(kwargs)
    async with w.uow() as uow:
        appointment = await book_appointment(uow, **values)  # type: ignore[arg-type]
        await uow.commit()
    return appointment


async def seats_taken(w: World, starts_at: datetime, office: int | None = None) -> int:
    async with w.uow() as uow:
        taken = await uow.session.scalar(
            select(SlotUsage.taken).where(
                SlotUsage.office_id == (office or w.office), SlotUsage.starts_at == starts_at
            )
        )
    return taken or 0


# --- offices ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "field"),
    [({"timezone": "America/Nowhere"}, "timezone"), ({"code": "x"}, "code"),
     ({"services": ["fingerprints"]}, "services"), ({"services": []}, "services"),
     ({"hours": {0: (time(16), time(8))}}, "hours"), ({"hours": {7: (time(8), time(9))}}, "hours"),
     ({"capacity": 0}, "capacity"), ({"slot_minutes": 0}, "slot_minutes")],
)  # fmt: skip
async def test_an_office_with_bad_settings_is_refused(
    uow_factory: UnitOfWorkFactory, override: dict[str, object], field: str
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(InvalidOfficeData) as excinfo:
            await new_office(uow, **override)
    assert excinfo.value.field == field


async def test_an_office_needs_a_known_state_a_zip_code_and_a_free_code(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(UnknownState):
            await new_office(uow, state="Atlantis")
        with pytest.raises(InvalidZipCode):
            await new_office(uow, zip_code="1027")
        await new_office(uow, code="NYC")
        with pytest.raises(OfficeCodeTaken):
            await new_office(uow, code="nyc")


async def seed_offices(uow: UnitOfWork) -> None:
    await new_office(uow, "NYC", zip_code="10278")
    await new_office(uow, "BUF", city="Buffalo", zip_code="14202", services=[IN_PERSON])
    await new_office(uow, "ALB", city="Albany", zip_code="12207")
    await new_office(uow, "PHX", state="Arizona", zip_code="85004", timezone="America/Phoenix")
    await new_office(uow, "LAX", state="CA", zip_code="90012", timezone="America/Los_Angeles")
    await new_office(uow, "CHI", state="IL", zip_code="60604", timezone="America/Chicago")


def codes(offices: list[object]) -> list[str]:
    return [o.code for o in offices]  # type: ignore[attr-defined]


async def test_offices_are_listed_by_state_and_filtered_by_service(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await seed_offices(uow)
        assert codes(await list_offices(uow)) == ["PHX", "LAX", "CHI", "ALB", "BUF", "NYC"]
        assert "BUF" not in codes(await list_offices(uow, service=BIO))
        assert codes(await find_offices(uow, state="new york", service="in_person")) == [
            "ALB", "BUF", "NYC"
        ]  # fmt: skip
        with pytest.raises(UnknownState):
            await find_offices(uow, state="Narnia")


async def test_offices_are_found_by_zip_code_nearest_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await seed_offices(uow)
        assert codes(await find_offices(uow, zip_code="14623")) == ["BUF", "ALB", "NYC"]
        assert codes(await find_offices(uow, zip_code="10001", service=BIO)) == ["NYC", "ALB"]
        # New Jersey has no office: its neighbour New York's are offered.
        assert codes(await find_offices(uow, zip_code="07102")) == ["NYC", "ALB", "BUF"]
        # Nevada has none: its neighbours Arizona and California are, nearest ZIP first.
        assert codes(await find_offices(uow, zip_code="89101")) == ["LAX", "PHX"]
        # Alaska has no neighbour: every office, nearest ZIP first.
        assert codes(await find_offices(uow, zip_code="99501"))[:2] == ["LAX", "PHX"]
        with pytest.raises(InvalidZipCode):
            await find_offices(uow, zip_code="96201")  # military mail


async def test_slots_are_listed_with_the_seats_left(world: World) -> None:
    await book(world)
    async with world.uow() as uow:
        slots = await list_slots(uow, world.office, TUESDAY, BIO)
    assert len(slots) == 16
    assert (slots[0].starts_at, slots[0].remaining) == (TUE_8AM, 1)
    assert slots[1].remaining == 2
    assert str(slots[0].local_start.tzinfo) == "America/New_York"
    assert slots[0].local_start.hour == 8


async def test_a_full_slot_is_listed_only_when_asked(world: World) -> None:
    await book(world)
    await book(world, account_id=world.bob, case_id=world.bob_case)
    async with world.uow() as uow:
        free = await list_slots(uow, "nyc", (TUESDAY, TUESDAY), BIO)
        every = await list_slots(uow, "nyc", (TUESDAY, TUESDAY), BIO, include_full=True)
    assert TUE_8AM not in [s.starts_at for s in free]
    assert (every[0].starts_at, every[0].remaining) == (TUE_8AM, 0)


async def test_slots_of_a_service_the_office_does_not_offer_are_refused(world: World) -> None:
    async with world.uow() as uow:
        await new_office(uow, "BUF", services=[IN_PERSON])
        with pytest.raises(NotBookable) as excinfo:
            await list_slots(uow, "BUF", TUESDAY, BIO)
        assert excinfo.value.reason == "service_not_offered"
        with pytest.raises(OfficeNotFound):
            await list_slots(uow, "ZZZ", TUESDAY, BIO)


async def test_new_hours_change_the_slots(world: World) -> None:
    async with world.uow() as uow:
        await set_hours(uow, world.office, {1: (time(9), time(10))})
        slots = await list_slots(uow, world.office, (TUESDAY, TUESDAY + timedelta(days=1)), BIO)
        await uow.commit()
    assert [s.local_start.time() for s in slots] == [time(9), time(9, 30)]


async def test_closing_a_day_returns_its_appointments_and_removes_its_slots(world: World) -> None:
    first = await book(world)
    await book(world, TUE_830, account_id=world.bob, case_id=world.bob_case)
    other_day = await book(world, WED_8AM, kind=IN_PERSON, case_id=None)
    async with world.uow() as uow:
        affected = await close_day(uow, "NYC", TUESDAY, "power outage")
        await uow.commit()
    assert [a.starts_at for a in affected] == [TUE_8AM, TUE_830]
    assert affected[0].confirmation_code == first.confirmation_code
    assert other_day.id not in [a.id for a in affected]
    async with world.uow() as uow:
        assert await list_slots(uow, world.office, TUESDAY, BIO) == []
        with pytest.raises(NotBookable) as excinfo:
            await book_appointment(
                uow,
                account_id=world.ana,
                office_id=world.office,
                starts_at=TUE_8AM + timedelta(hours=1),
                kind=IN_PERSON,
            )
        assert excinfo.value.reason == "closed"
        assert await reopen_day(uow, world.office, TUESDAY) is True
        assert await reopen_day(uow, world.office, TUESDAY) is False
        reopened = await list_slots(uow, world.office, TUESDAY, BIO)
        assert [s.remaining for s in reopened[:3]] == [1, 1, 2]
        with pytest.raises(OfficeNotFound):
            await close_day(uow, 999, TUESDAY)


# --- booking ---------------------------------------------------------------------------------


async def test_a_biometrics_appointment_is_booked_with_a_confirmation_code(world: World) -> None:
    appointment = await book(world)
    assert len(appointment.confirmation_code) == 8
    assert appointment.status is AppointmentStatus.BOOKED
    assert appointment.starts_at == TUE_8AM
    assert appointment.ends_at == TUE_8AM + timedelta(minutes=30)
    assert appointment.office.code == "NYC"
    assert await seats_taken(world, TUE_8AM) == 1
    async with world.uow() as uow:
        stored = await get_appointment(
            uow, account_id=world.ana, code=appointment.confirmation_code.lower()
        )
        # Read inside the unit of work: leaving it without a commit expires what it loaded.
        assert stored.starts_at == TUE_8AM
        assert stored.starts_at.tzinfo is not None
        event = calendar_event(stored, stored.office)
    assert event.timezone == "America/New_York"
    assert event.location.startswith("26 Federal Plaza")


async def test_biometrics_need_a_case(world: World) -> None:
    with pytest.raises(NotBookable) as excinfo:
        await book(world, case_id=None)
    assert excinfo.value.reason == "case_required"


async def test_biometrics_need_a_case_whose_status_allows_them(world: World) -> None:
    async with world.uow() as uow:
        early = await new_case(uow, world.ana, 912345681, status="case_received")
        await uow.commit()
    with pytest.raises(NotBookable) as excinfo:
        await book(world, case_id=early)
    assert excinfo.value.reason == "biometrics_not_ready"


async def test_nobody_books_for_somebody_elses_case(world: World) -> None:
    with pytest.raises(NotAuthorized):
        await book(world, case_id=world.bob_case)
    with pytest.raises(NotAuthorized):
        await book(world, case_id=123456)


async def test_an_unknown_account_or_office_cannot_book(world: World) -> None:
    with pytest.raises(AccountNotFound):
        await book(world, account_id=999)
    with pytest.raises(OfficeNotFound):
        await book(world, office_id=999)


async def test_a_representative_books_for_a_client_and_both_see_it(world: World) -> None:
    appointment = await book(world, account_id=world.rita)
    assert appointment.account_id == world.ana
    for account in (world.ana, world.rita):
        async with world.uow() as uow:
            listed = await list_appointments(uow, account)
            assert [a.confirmation_code for a in listed] == [appointment.confirmation_code]
    async with world.uow() as uow:
        assert await list_appointments(uow, world.bob) == []


async def test_one_active_appointment_per_case_and_type(world: World) -> None:
    first = await book(world)
    with pytest.raises(AlreadyBooked) as excinfo:
        await book(world, WED_8AM)
    assert excinfo.value.existing_code == first.confirmation_code
    with pytest.raises(AlreadyBooked):
        await book(world, WED_8AM, account_id=world.rita)  # the representative, same case
    await book(world, WED_8AM, kind=IN_PERSON)  # another type for the same case is fine
    assert await seats_taken(world, WED_8AM) == 1


async def test_one_active_appointment_per_account_and_type_without_a_case(world: World) -> None:
    first = await book(world, kind=IN_PERSON, case_id=None)
    with pytest.raises(AlreadyBooked) as excinfo:
        await book(world, WED_8AM, kind=IN_PERSON, case_id=None)
    assert excinfo.value.existing_code == first.confirmation_code
    await book(world, WED_8AM, kind=IN_PERSON, case_id=None, account_id=world.bob)


async def test_a_cancelled_appointment_lets_the_case_book_again(world: World) -> None:
    first = await book(world)
    async with world.uow() as uow:
        await cancel_appointment(uow, account_id=world.ana, code=first.confirmation_code)
        await uow.commit()
    again = await book(world, WED_8AM)
    assert again.confirmation_code != first.confirmation_code


async def test_a_slot_is_never_booked_beyond_its_capacity(world: World) -> None:
    await book(world)
    await book(world, account_id=world.bob, case_id=world.bob_case)
    with pytest.raises(SlotTaken) as excinfo:
        await book(world, kind=IN_PERSON, case_id=None, account_id=world.rita)
    assert (excinfo.value.office_id, excinfo.value.starts_at) == (world.office, TUE_8AM)
    assert await seats_taken(world, TUE_8AM) == 2


@pytest.mark.parametrize(
    ("starts_at", "reason"),
    [(datetime(2026, 3, 2, 14, 0, tzinfo=UTC), "past"),
     (datetime(2026, 3, 2, 15, 30, tzinfo=UTC), "too_soon"),
     (datetime(2026, 3, 3, 13, 10, tzinfo=UTC), "not_a_slot"),
     (datetime(2026, 3, 7, 14, 0, tzinfo=UTC), "closed"),
     (datetime(2026, 6, 2, 13, 0, tzinfo=UTC), "too_far")],
)  # fmt: skip
async def test_only_real_future_slots_can_be_booked(
    world: World, starts_at: datetime, reason: str
) -> None:
    with pytest.raises(NotBookable) as excinfo:
        await book(world, starts_at)
    assert excinfo.value.reason == reason


async def test_no_appointment_on_a_federal_holiday(world: World) -> None:
    world.clock.set(datetime(2026, 5, 1, 12, 0, tzinfo=UTC))
    with pytest.raises(NotBookable) as excinfo:
        await book(world, datetime(2026, 5, 25, 12, 0, tzinfo=UTC))  # Memorial Day, 8:00 EDT
    assert excinfo.value.reason == "closed"
    await book(world, datetime(2026, 5, 26, 12, 0, tzinfo=UTC))


async def test_a_refused_booking_leaves_the_unit_of_work_usable(world: World) -> None:
    await book(world)
    async with world.uow() as uow:
        with pytest.raises(AlreadyBooked):
            await book_appointment(
                uow, account_id=world.ana, office_id=world.office, starts_at=WED_8AM, kind=BIO,
                case_id=world.ana_case,
            )  # fmt: skip
        other = await book_appointment(
            uow, account_id=world.bob, office_id=world.office, starts_at=WED_8AM, kind=BIO,
            case_id=world.bob_case,
        )  # fmt: skip
        await uow.commit()
    assert await seats_taken(world, WED_8AM) == 1
    async with world.uow() as uow:
        assert [a.id for a in await list_appointments(uow, world.bob)] == [other.id]


async def test_a_confirmation_code_collision_draws_another_code(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await book(world)
    drawn: Iterator[str] = iter([first.confirmation_code, "ZZZZ2345"])
    monkeypatch.setattr(appointment_service, "new_confirmation_code", lambda: next(drawn))
    second = await book(world, account_id=world.bob, case_id=world.bob_case)
    assert second.confirmation_code == "ZZZZ2345"
    assert await seats_taken(world, TUE_8AM) == 2


# --- rescheduling ----------------------------------------------------------------------------


async def reschedule(w: World, code: str, to: datetime, account: int | None = None) -> Appointment:
    async with w.uow() as uow:
        moved = await reschedule_appointment(
            uow, account_id=account or w.ana, code=code, new_starts_at=to
        )
        await uow.commit()
    return moved


async def test_rescheduling_moves_the_seat_to_the_new_slot(world: World) -> None:
    first = await book(world)
    moved = await reschedule(world, first.confirmation_code, WED_8AM)
    assert (moved.starts_at, moved.reschedule_count) == (WED_8AM, 1)
    assert moved.confirmation_code == first.confirmation_code
    assert await seats_taken(world, TUE_8AM) == 0
    assert await seats_taken(world, WED_8AM) == 1


async def test_a_third_reschedule_is_refused(world: World) -> None:
    code = (await book(world)).confirmation_code
    await reschedule(world, code, WED_8AM)
    await reschedule(world, code, THU_8AM, account=world.rita)
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        await reschedule(world, code, TUE_830)
    assert excinfo.value.reason == "limit_reached"


async def test_rescheduling_is_refused_within_12_hours(world: World) -> None:
    code = (await book(world)).confirmation_code
    world.clock.set(TUE_8AM - timedelta(hours=11))
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        await reschedule(world, code, THU_8AM)
    assert excinfo.value.reason == "within_12_hours"
    world.clock.set(TUE_8AM + timedelta(minutes=1))
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        await reschedule(world, code, THU_8AM)
    assert excinfo.value.reason == "passed"


async def test_rescheduling_to_the_same_slot_is_refused(world: World) -> None:
    code = (await book(world)).confirmation_code
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        await reschedule(world, code, TUE_8AM)
    assert excinfo.value.reason == "same_slot"


async def test_rescheduling_into_a_full_slot_keeps_the_old_one(world: World) -> None:
    async with world.uow() as uow:
        carl = await new_account(uow, "carl@example.com")
        await uow.commit()
    await book(world, WED_8AM, account_id=world.bob, case_id=world.bob_case)
    await book(world, WED_8AM, account_id=carl, case_id=None, kind=IN_PERSON)
    code = (await book(world)).confirmation_code
    with pytest.raises(SlotTaken):
        await reschedule(world, code, WED_8AM)
    async with world.uow() as uow:
        kept = await get_appointment(uow, account_id=world.ana, code=code)
        assert (kept.starts_at, kept.reschedule_count) == (TUE_8AM, 0)
    assert await seats_taken(world, TUE_8AM) == 1
    assert await seats_taken(world, WED_8AM) == 2


async def test_rescheduling_checks_the_new_slot(world: World) -> None:
    code = (await book(world)).confirmation_code
    with pytest.raises(NotBookable) as excinfo:
        await reschedule(world, code, datetime(2026, 3, 7, 14, 0, tzinfo=UTC))
    assert excinfo.value.reason == "closed"


async def test_a_cancelled_appointment_cannot_be_rescheduled(world: World) -> None:
    code = (await book(world)).confirmation_code
    async with world.uow() as uow:
        await cancel_appointment(uow, account_id=world.ana, code=code)
        await uow.commit()
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        await reschedule(world, code, WED_8AM)
    assert excinfo.value.reason == "cancelled"


async def test_somebody_elses_appointment_looks_like_no_appointment(world: World) -> None:
    code = (await book(world)).confirmation_code
    async with world.uow() as uow:
        with pytest.raises(AppointmentNotFound):
            await get_appointment(uow, account_id=world.bob, code=code)
        with pytest.raises(AppointmentNotFound):
            await reschedule_appointment(
                uow, account_id=world.bob, code=code, new_starts_at=WED_8AM
            )
        with pytest.raises(AppointmentNotFound):
            await cancel_appointment(uow, account_id=world.bob, code=code)
        with pytest.raises(AppointmentNotFound):
            await cancel_appointment(uow, account_id=world.ana, code="NOSUCH22")
    assert await seats_taken(world, TUE_8AM) == 1


# --- cancelling and listing ------------------------------------------------------------------


async def test_cancelling_frees_the_seat(world: World) -> None:
    code = (await book(world)).confirmation_code
    async with world.uow() as uow:
        cancelled = await cancel_appointment(uow, account_id=world.rita, code=code)
        await uow.commit()
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert cancelled.active_key is None
    assert await seats_taken(world, TUE_8AM) == 0
    async with world.uow() as uow:
        with pytest.raises(CancelNotAllowed) as excinfo:
            await cancel_appointment(uow, account_id=world.ana, code=code)
    assert excinfo.value.reason == "cancelled"


async def test_a_passed_appointment_cannot_be_cancelled(world: World) -> None:
    code = (await book(world)).confirmation_code
    world.clock.set(TUE_8AM + timedelta(minutes=5))
    async with world.uow() as uow:
        with pytest.raises(CancelNotAllowed) as excinfo:
            await cancel_appointment(uow, account_id=world.ana, code=code)
    assert excinfo.value.reason == "passed"


async def test_the_list_shows_upcoming_appointments_unless_the_past_is_asked_for(
    world: World,
) -> None:
    soon = await book(world)
    later = await book(world, WED_8AM, kind=IN_PERSON)
    dropped = await book(world, THU_8AM, kind=IN_PERSON, case_id=None)
    async with world.uow() as uow:
        await cancel_appointment(uow, account_id=world.ana, code=dropped.confirmation_code)
        await uow.commit()
    world.clock.set(TUE_8AM + timedelta(hours=1))
    async with world.uow() as uow:
        upcoming = await list_appointments(uow, world.ana)
        everything = await list_appointments(uow, world.ana, include_past=True)
        count = await uow.session.scalar(select(func.count()).select_from(Appointment))
        assert [a.id for a in upcoming] == [later.id]
        assert [a.id for a in everything] == [soon.id, later.id, dropped.id]
        assert everything[0].office.code == "NYC"
    assert count == 3
