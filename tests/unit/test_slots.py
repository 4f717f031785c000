"""Which slots an office offers: hours in its zone, DST, holidays, closures, lead time, horizon."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from core.appointments.models import AppointmentKind
from core.appointments.slots import (
    BOOKING_HORIZON,
    MIN_LEAD_TIME,
    OfficeSchedule,
    check_slot,
    compute_slots,
    federal_holidays,
    load_zone,
)
from core.errors import InvalidDateRange, InvalidOfficeData, NotBookable
from tests.fakes import FakeClock

WEEKDAYS = {day: (time(8), time(16)) for day in range(5)}
NOW = FakeClock().now()  # Monday 2026-03-02 15:00 UTC, 10:00 in New York


def schedule(zone: str = "America/New_York", **kwargs: object) -> OfficeSchedule:
    return OfficeSchedule(zone=load_zone(zone), **{"hours": WEEKDAYS, **kwargs})  # type: ignore[arg-type]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def starts(day: date, office: OfficeSchedule | None = None) -> list[datetime]:
    return [s.starts_at for s in compute_slots(office or schedule(), day, day)]


def test_a_business_day_has_slots_from_opening_until_the_last_that_ends_by_closing() -> None:
    slots = compute_slots(schedule(), date(2026, 3, 3), date(2026, 3, 3))
    assert len(slots) == 16
    assert slots[0].local_start.time() == time(8, 0)
    assert slots[-1].local_start.time() == time(15, 30)
    assert slots[-1].local_end.time() == time(16, 0)
    assert slots[0].starts_at == utc(2026, 3, 3, 13, 0)  # 8:00 EST


def test_a_slot_that_would_end_after_closing_is_not_offered() -> None:
    office = schedule(hours={1: (time(8), time(9, 45))})
    slots = compute_slots(office, date(2026, 3, 3), date(2026, 3, 3))
    assert [s.local_start.time() for s in slots] == [time(8), time(8, 30), time(9)]


def test_slot_length_comes_from_the_office() -> None:
    office = schedule(slot_minutes=60)
    assert len(starts(date(2026, 3, 3), office)) == 8


def test_slots_move_in_utc_when_new_york_switches_to_daylight_time() -> None:
    assert starts(date(2026, 3, 6))[0] == utc(2026, 3, 6, 13, 0)  # Friday, EST (UTC-5)
    assert starts(date(2026, 3, 9))[0] == utc(2026, 3, 9, 12, 0)  # Monday, EDT (UTC-4)


def test_arizona_has_no_daylight_saving_time() -> None:
    phoenix = schedule("America/Phoenix")
    assert starts(date(2026, 3, 6), phoenix)[0] == utc(2026, 3, 6, 15, 0)
    assert starts(date(2026, 3, 9), phoenix)[0] == utc(2026, 3, 9, 15, 0)
    assert starts(date(2026, 7, 7), phoenix)[0] == utc(2026, 7, 7, 15, 0)


def test_the_hour_skipped_on_the_spring_forward_night_has_no_slots() -> None:
    office = schedule(hours={6: (time(1), time(4))})  # open on Sunday nights
    slots = compute_slots(office, date(2026, 3, 8), date(2026, 3, 8))
    assert [s.local_start.time() for s in slots] == [time(1), time(1, 30), time(3), time(3, 30)]
    assert [s.starts_at for s in slots] == [
        utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 7, 30)
    ]  # fmt: skip
    # The 1:30 slot lasts 30 real minutes although the wall clock jumps from 2:00 to 3:00.
    assert slots[1].ends_at - slots[1].starts_at == timedelta(minutes=30)


def test_the_hour_repeated_on_the_fall_back_night_is_offered_once() -> None:
    office = schedule(hours={6: (time(1), time(3))})
    slots = compute_slots(office, date(2026, 11, 1), date(2026, 11, 1))
    assert [s.local_start.time() for s in slots] == [time(1), time(1, 30), time(2), time(2, 30)]
    assert [s.starts_at for s in slots] == sorted({s.starts_at for s in slots})


def test_local_times_are_in_the_office_zone() -> None:
    slot = compute_slots(schedule("America/Phoenix"), date(2026, 3, 3), date(2026, 3, 3))[0]
    assert str(slot.local_start.tzinfo) == "America/Phoenix"
    assert slot.local_start.hour == 8
    assert slot.starts_at.tzinfo is UTC


def test_no_slots_on_federal_holidays_including_observed_days() -> None:
    assert starts(date(2026, 5, 25)) == []  # Memorial Day
    assert starts(date(2026, 7, 3)) == []  # Independence Day observed on the Friday
    assert starts(date(2026, 5, 26)) != []


def test_federal_holidays_are_the_federal_public_ones_only() -> None:
    days = federal_holidays([2026])
    assert len(days) == 12
    assert {date(2026, 1, 19), date(2026, 6, 19), date(2026, 11, 26)} <= days
    assert date(2026, 4, 16) not in days  # Emancipation Day is a DC holiday, not a federal one


def test_no_slots_on_a_closure_day() -> None:
    office = schedule(closures=frozenset({date(2026, 3, 4)}))
    assert starts(date(2026, 3, 4), office) == []
    assert starts(date(2026, 3, 5), office) != []


def test_no_slots_on_days_without_hours() -> None:
    assert starts(date(2026, 3, 7)) == []  # Saturday


def test_past_slots_and_those_within_the_lead_time_are_not_offered() -> None:
    slots = compute_slots(schedule(), date(2026, 3, 2), date(2026, 3, 2), now=NOW)
    assert slots[0].starts_at == NOW + MIN_LEAD_TIME  # 11:00 in New York
    assert len(slots) == 10


def test_slots_beyond_the_booking_horizon_are_not_offered() -> None:
    slots = compute_slots(schedule(), date(2026, 3, 2), date(2026, 6, 30), now=NOW)
    assert slots[-1].starts_at <= NOW + BOOKING_HORIZON
    assert slots[-1].starts_at > NOW + BOOKING_HORIZON - timedelta(days=4)


def test_a_reversed_date_range_is_refused() -> None:
    with pytest.raises(InvalidDateRange):
        compute_slots(schedule(), date(2026, 3, 5), date(2026, 3, 4))


def test_a_bad_schedule_is_refused_when_built() -> None:
    with pytest.raises(InvalidOfficeData) as excinfo:
        schedule(slot_minutes=0)
    assert excinfo.value.field == "slot_minutes"
    with pytest.raises(InvalidOfficeData) as excinfo:
        load_zone("Mars/Olympus_Mons")
    assert excinfo.value.field == "timezone"


# --- check_slot: may this time be booked now? ------------------------------------------------


def test_a_real_future_slot_can_be_booked() -> None:
    slot = check_slot(schedule(), utc(2026, 3, 3, 13, 0), AppointmentKind.BIOMETRICS, NOW)
    assert slot.local_start == datetime(2026, 3, 3, 8, 0, tzinfo=load_zone("America/New_York"))


@pytest.mark.parametrize(
    ("starts_at", "reason"),
    [
        (utc(2026, 3, 2, 14, 0), "past"),
        (utc(2026, 3, 2, 15, 0), "past"),
        (utc(2026, 3, 2, 15, 30), "too_soon"),
        (utc(2026, 5, 4, 13, 0), "too_far"),
        (utc(2026, 3, 7, 14, 0), "closed"),  # a Saturday
        (utc(2026, 3, 4, 13, 0), "closed"),  # a closure
        (utc(2026, 3, 3, 13, 15), "not_a_slot"),
        (utc(2026, 3, 3, 21, 0), "not_a_slot"),  # 16:00 local, closing time
        (utc(2026, 3, 3, 12, 30), "not_a_slot"),  # 7:30 local, before opening
    ],
)
def test_a_time_that_is_no_bookable_slot_is_refused_with_its_reason(
    starts_at: datetime, reason: str
) -> None:
    office = schedule(closures=frozenset({date(2026, 3, 4)}))
    with pytest.raises(NotBookable) as excinfo:
        check_slot(office, starts_at, AppointmentKind.BIOMETRICS, NOW)
    assert excinfo.value.reason == reason


def test_a_slot_on_a_federal_holiday_is_closed() -> None:
    clock = FakeClock()
    clock.set(utc(2026, 5, 1, 12, 0))
    with pytest.raises(NotBookable) as excinfo:
        check_slot(schedule(), utc(2026, 5, 25, 12, 0), AppointmentKind.BIOMETRICS, clock.now())
    assert excinfo.value.reason == "closed"


def test_a_service_the_office_does_not_offer_is_refused() -> None:
    office = schedule(services=frozenset({AppointmentKind.IN_PERSON.value}))
    with pytest.raises(NotBookable) as excinfo:
        check_slot(office, utc(2026, 3, 3, 13, 0), AppointmentKind.BIOMETRICS, NOW)
    assert excinfo.value.reason == "service_not_offered"


def test_a_naive_start_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        check_slot(schedule(), datetime(2026, 3, 3, 13), AppointmentKind.BIOMETRICS, NOW)
