"""Which appointment slots an office offers: pure functions of its schedule and the time.

A slot starts at the office's opening time and every ``slot_minutes`` after it, as long as it
ends by closing time, on each local day that has opening hours and is neither a US federal
holiday nor a closure. Slots are built as local wall-clock times in the office's IANA zone and
converted to UTC, so they follow daylight saving time where the zone has it (and not in
Arizona). A slot is offered only if it starts at least ``MIN_LEAD_TIME`` from now and within
``BOOKING_HORIZON``.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars

from core.appointments.models import AppointmentKind, Office
from core.errors import InvalidDateRange, InvalidOfficeData, NotBookable

__all__ = [
    "BOOKING_HORIZON",
    "MIN_LEAD_TIME",
    "OfficeSchedule",
    "Slot",
    "check_slot",
    "compute_slots",
    "federal_holiday_name",
    "federal_holidays",
    "load_zone",
]

MIN_LEAD_TIME: Final = timedelta(hours=1)
BOOKING_HORIZON: Final = timedelta(days=60)


def load_zone(name: str) -> ZoneInfo:
    """The IANA time zone called ``name``.

    Raises:
        InvalidOfficeData: (field ``timezone``) no such zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidOfficeData(field="timezone") from None


@functools.lru_cache(maxsize=32)
def _federal_holidays_of(year: int) -> frozenset[date]:
    # Without a subdivision, the US calendar holds only the federal holidays; its default category
    # is "public" (the days federal offices close, with Saturday/Sunday dates observed on the
    # Friday/Monday). Naming the category keeps that true if the default ever changes.
    return frozenset(
        holiday_calendars.country_holidays("US", years=year, categories=("public",)).keys()
    )


def federal_holidays(years: Iterable[int]) -> frozenset[date]:
    """The US federal public holidays (observed dates included) of the given years."""
    days: set[date] = set()
    for year in years:
        days |= _federal_holidays_of(year)
    return frozenset(days)


def federal_holiday_name(day: date) -> str | None:
    """The English name of the US federal holiday on this day ("Christmas Day"; an observed
    day is named as its holiday), or None: the chat layer words it in the person's language."""
    calendar = holiday_calendars.country_holidays("US", years=day.year, categories=("public",))
    name = calendar.get(day)
    return None if name is None else str(name).removesuffix(" (observed)")


@dataclass(frozen=True, slots=True)
class Slot:
    """One bookable time of an office.

    Attributes:
        starts_at: the start, aware UTC (what is stored and compared).
        ends_at: the end, aware UTC.
        local_start: the start in the office's zone (what is shown).
        local_end: the end in the office's zone.
    """

    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    local_end: datetime


@dataclass(frozen=True, slots=True)
class OfficeSchedule:
    """What the slot rules need to know about an office, with no database attached.

    Attributes:
        zone: the office's time zone.
        hours: opening and closing local time per weekday (0 = Monday); a missing day is closed.
        slot_minutes: the length of one slot.
        capacity: people per slot.
        services: the AppointmentKind values the office offers.
        closures: local days the office is closed besides federal holidays.
    """

    zone: ZoneInfo
    hours: Mapping[int, tuple[time, time]]
    slot_minutes: int = 30
    capacity: int = 2
    services: frozenset[str] = field(
        default=frozenset({AppointmentKind.BIOMETRICS, AppointmentKind.IN_PERSON})
    )
    closures: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.slot_minutes <= 0:
            raise InvalidOfficeData(field="slot_minutes")
        if self.capacity <= 0:
            raise InvalidOfficeData(field="capacity")

    @classmethod
    def from_office(cls, office: Office) -> OfficeSchedule:
        """The schedule of an office whose ``hours`` and ``closures`` are loaded."""
        return cls(
            zone=load_zone(office.timezone),
            hours={h.weekday: (h.opens, h.closes) for h in office.hours},
            slot_minutes=office.slot_minutes,
            capacity=office.capacity,
            services=frozenset(office.services),
            closures=frozenset(c.day for c in office.closures),
        )

    def offers(self, kind: AppointmentKind | str) -> bool:
        return str(kind) in self.services

    def is_open_on(self, day: date, holidays: Collection[date] | None = None) -> bool:
        """Whether the office opens on this local day at all."""
        closed_days = federal_holidays([day.year]) if holidays is None else holidays
        return day.weekday() in self.hours and day not in self.closures and day not in closed_days

    def slots_of_day(self, day: date) -> list[Slot]:
        """Every slot of a local day by the opening hours alone (holidays and closures aside).

        A wall-clock time skipped by a daylight-saving jump does not exist, so it is no slot;
        a time that occurs twice (when clocks go back) is offered once, at its first occurrence.
        """
        if day.weekday() not in self.hours:
            return []
        opens, closes = self.hours[day.weekday()]
        step = timedelta(minutes=self.slot_minutes)
        wall = datetime.combine(day, opens)
        closing = datetime.combine(day, closes)
        found: list[Slot] = []
        while wall + step <= closing:
            local = wall.replace(tzinfo=self.zone)
            starts_at = local.astimezone(UTC)
            # A nonexistent local time does not survive the round trip through UTC.
            if starts_at.astimezone(self.zone).replace(tzinfo=None) == wall:
                ends_at = starts_at + step
                found.append(Slot(starts_at, ends_at, local, ends_at.astimezone(self.zone)))
            wall += step
        return found


def compute_slots(
    schedule: OfficeSchedule,
    first_day: date,
    last_day: date,
    *,
    now: datetime | None = None,
    holidays: Collection[date] | None = None,
) -> list[Slot]:
    """The slots of an office between two local days (both included), in time order.

    Args:
        schedule: the office's schedule.
        first_day: the first local day.
        last_day: the last local day.
        now: when given, leave out slots starting before ``now + MIN_LEAD_TIME`` and after
            ``now + BOOKING_HORIZON`` (what a person may book); when None, every slot.
        holidays: the days closed for holidays; the US federal holidays by default.

    Raises:
        InvalidDateRange: ``last_day`` is before ``first_day``.
    """
    if last_day < first_day:
        raise InvalidDateRange(first_day=first_day, last_day=last_day)
    if now is not None:
        # No need to walk days past the horizon (a range may be asked for carelessly).
        horizon_day = (now + BOOKING_HORIZON).astimezone(schedule.zone).date()
        last_day = min(last_day, horizon_day)
    if holidays is None:
        holidays = federal_holidays(range(first_day.year, last_day.year + 1))
    found: list[Slot] = []
    day = first_day
    while day <= last_day:
        if schedule.is_open_on(day, holidays):
            found.extend(schedule.slots_of_day(day))
        day += timedelta(days=1)
    if now is not None:
        earliest, latest = now + MIN_LEAD_TIME, now + BOOKING_HORIZON
        found = [s for s in found if earliest <= s.starts_at <= latest]
    return found


def check_slot(
    schedule: OfficeSchedule,
    starts_at: datetime,
    kind: AppointmentKind | str,
    now: datetime,
    *,
    holidays: Collection[date] | None = None,
) -> Slot:
    """Check that a person may book the slot starting at ``starts_at`` now.

    Returns:
        The slot.

    Raises:
        ValueError: ``starts_at`` is naive (a programming error, not user input).
        NotBookable: ``service_not_offered``, ``past``, ``too_soon`` (within the minimum
            lead time), ``too_far`` (past the booking horizon), ``closed`` (a holiday, a
            closure or a day without hours) or ``not_a_slot`` (not a slot's start time).
    """
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be an aware datetime")
    starts_at = starts_at.astimezone(UTC)
    if not schedule.offers(kind):
        raise NotBookable(reason="service_not_offered")
    if starts_at <= now:
        raise NotBookable(reason="past")
    if starts_at < now + MIN_LEAD_TIME:
        raise NotBookable(reason="too_soon")
    if starts_at > now + BOOKING_HORIZON:
        raise NotBookable(reason="too_far")
    day = starts_at.astimezone(schedule.zone).date()
    if not schedule.is_open_on(day, holidays):
        raise NotBookable(reason="closed")
    for slot in schedule.slots_of_day(day):
        if slot.starts_at == starts_at:
            return slot
    raise NotBookable(reason="not_a_slot")
