"""Offices: adding them, their hours and closures, and finding the ones near a person."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from core.appointments.geography import (
    NEIGHBORS,
    normalize_state,
    normalize_zip,
    state_for_zip,
    zip_distance,
)
from core.appointments.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Office,
    OfficeClosure,
    OfficeHours,
)
from core.appointments.slots import load_zone
from core.errors import InvalidOfficeData, OfficeCodeTaken, OfficeNotFound
from core.uow import UnitOfWork

__all__ = [
    "BUSINESS_HOURS",
    "MAX_CAPACITY",
    "TEXT_LIMITS",
    "Hours",
    "add_office",
    "check_capacity",
    "check_office_text",
    "close_day",
    "find_offices",
    "get_office",
    "list_offices",
    "reopen_day",
    "set_hours",
]

logger = logging.getLogger(__name__)

Hours = Mapping[int, tuple[time, time]]
"""Opening and closing local time per weekday (0 = Monday); a weekday left out is closed."""

BUSINESS_HOURS: Final[Hours] = {weekday: (time(8, 0), time(16, 0)) for weekday in range(5)}

_CODE_RE: Final = re.compile(r"[A-Z0-9]{2,10}")
TEXT_LIMITS: Final = {"name": 120, "address": 200, "city": 80}
"""The longest name, street address and city an office may have (the columns' sizes)."""


MAX_CAPACITY: Final = 500  # people per slot: a bound, so a typo cannot overflow a column


def check_capacity(capacity: int) -> int:
    """People per slot: 1 to :data:`MAX_CAPACITY`.

    Raises:
        InvalidOfficeData: (field ``capacity``) outside that range.
    """
    if isinstance(capacity, bool) or not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidOfficeData(field="capacity")
    return capacity


def check_office_text(field: str, value: str) -> str:
    """An office's name, address or city, stripped: not empty, not longer than its column,
    no control characters.

    Raises:
        InvalidOfficeData: (that field) empty, too long or with control characters.
    """
    text = value.strip()
    if not text or len(text) > TEXT_LIMITS[field] or any(ord(c) < 32 for c in text):
        raise InvalidOfficeData(field=field)
    return text


async def get_office(uow: UnitOfWork, office: int | str, *, with_schedule: bool = False) -> Office:
    """The active office with this id or code (codes in any case).

    Args:
        with_schedule: also load its hours and closures.

    Raises:
        OfficeNotFound: no active office has that id or code.
    """
    query = select(Office).where(Office.active.is_(True))
    if isinstance(office, int):
        query = query.where(Office.id == office)
    else:
        query = query.where(Office.code == office.strip().upper())
    if with_schedule:
        query = query.options(
            selectinload(Office.hours), selectinload(Office.closures)
        ).execution_options(populate_existing=True)
    found = await uow.session.scalar(query)
    if found is None:
        raise OfficeNotFound(office=str(office))
    return found


def _check_hours(hours: Hours) -> list[OfficeHours]:
    rows = []
    for weekday, (opens, closes) in sorted(hours.items()):
        if not 0 <= weekday <= 6 or not opens < closes:
            raise InvalidOfficeData(field="hours")
        rows.append(OfficeHours(weekday=weekday, opens=opens, closes=closes))
    return rows


def _check_services(services: Iterable[AppointmentKind | str]) -> list[str]:
    try:
        kinds = sorted({AppointmentKind(str(s)).value for s in services})
    except ValueError:
        raise InvalidOfficeData(field="services") from None
    if not kinds:
        raise InvalidOfficeData(field="services")
    return kinds


async def add_office(
    uow: UnitOfWork,
    *,
    code: str,
    name: str,
    address: str,
    city: str,
    state: str,
    zip_code: str,
    timezone: str,
    services: Iterable[AppointmentKind | str] = tuple(AppointmentKind),
    hours: Hours = BUSINESS_HOURS,
    slot_minutes: int = 30,
    capacity: int = 2,
) -> Office:
    """Add an office.

    Raises:
        InvalidOfficeData: a bad code, name, address, city, time zone, service, hours, slot
            length or capacity.
        UnknownState: ``state`` is no US state or territory.
        InvalidZipCode: ``zip_code`` is no ZIP code.
        OfficeCodeTaken: another office has this code.
    """
    code = code.strip().upper()
    if not _CODE_RE.fullmatch(code):
        raise InvalidOfficeData(field="code")
    load_zone(timezone)
    if not 5 <= slot_minutes <= 480:
        raise InvalidOfficeData(field="slot_minutes")
    check_capacity(capacity)
    office = Office(
        code=code,
        name=check_office_text("name", name),
        address=check_office_text("address", address),
        city=check_office_text("city", city),
        state=normalize_state(state),
        zip_code=normalize_zip(zip_code),
        timezone=timezone,
        services=_check_services(services),
        slot_minutes=slot_minutes,
        capacity=capacity,
        active=True,
        hours=_check_hours(hours),
        closures=[],
    )
    if await uow.session.scalar(select(Office.id).where(Office.code == code)) is not None:
        raise OfficeCodeTaken(code=code)
    uow.session.add(office)
    await uow.flush()
    logger.info("office %s added", code)
    return office


async def set_hours(uow: UnitOfWork, office: int | str, hours: Hours) -> Office:
    """Replace an office's opening hours (slots already booked stay booked).

    Raises:
        OfficeNotFound: no such active office.
        InvalidOfficeData: (field ``hours``) a weekday outside 0-6 or closing before opening.
    """
    rows = _check_hours(hours)
    found = await get_office(uow, office)
    # Delete first and flush, so the (office, weekday) unique key never sees two rows.
    await uow.session.execute(delete(OfficeHours).where(OfficeHours.office_id == found.id))
    for row in rows:
        row.office_id = found.id
        uow.session.add(row)
    await uow.flush()
    return await get_office(uow, found.id, with_schedule=True)


def _local_day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    """The UTC instants at which a local day starts and the next one starts."""
    zone = load_zone(zone_name)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


async def close_day(
    uow: UnitOfWork, office: int | str, day: date, reason: str = ""
) -> list[Appointment]:
    """Close an office for a local day (again, to change the reason).

    The appointments booked that day are not cancelled here: they are returned, so the caller
    can tell the people concerned and offer them another slot.

    Returns:
        The booked appointments of that day, earliest first.

    Raises:
        OfficeNotFound: no such active office.
    """
    found = await get_office(uow, office)
    closure = await uow.session.scalar(
        select(OfficeClosure).where(OfficeClosure.office_id == found.id, OfficeClosure.day == day)
    )
    if closure is None:
        uow.session.add(OfficeClosure(office_id=found.id, day=day, reason=reason))
    else:
        closure.reason = reason
    await uow.flush()
    start, end = _local_day_bounds(day, found.timezone)
    booked = await uow.session.scalars(
        select(Appointment)
        .where(
            Appointment.office_id == found.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .options(selectinload(Appointment.office))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    result = list(booked)
    logger.info("office %s closed on %s; %d appointments affected", found.code, day, len(result))
    return result


async def reopen_day(uow: UnitOfWork, office: int | str, day: date) -> bool:
    """Lift a closure.

    Returns:
        True if the day was closed, False if it was open already.

    Raises:
        OfficeNotFound: no such active office.
    """
    found = await get_office(uow, office)
    closure = await uow.session.scalar(
        select(OfficeClosure).where(OfficeClosure.office_id == found.id, OfficeClosure.day == day)
    )
    if closure is None:
        return False
    await uow.session.delete(closure)
    await uow.flush()
    return True


def _kind(service: AppointmentKind | str | None) -> str | None:
    if service is None:
        return None
    try:
        return AppointmentKind(str(service)).value
    except ValueError:
        raise InvalidOfficeData(field="services") from None


async def list_offices(
    uow: UnitOfWork, service: AppointmentKind | str | None = None
) -> list[Office]:
    """Every active office (offering ``service`` when given), by state and code.

    Raises:
        InvalidOfficeData: (field ``services``) ``service`` is no appointment type.
    """
    wanted = _kind(service)
    rows = await uow.session.scalars(
        select(Office).where(Office.active.is_(True)).order_by(Office.state, Office.code)
    )
    # Services are a small JSON list: filtering here works the same on every backend.
    return [o for o in rows if wanted is None or wanted in o.services]


async def find_offices(
    uow: UnitOfWork,
    *,
    state: str | None = None,
    zip_code: str | None = None,
    service: AppointmentKind | str | None = None,
) -> list[Office]:
    """The offices near a person, nearest first.

    By ``state`` (code or name): that state's offices. By ``zip_code``: the offices of the
    ZIP code's state or, when it has none, of its neighbouring states or, when they have none
    either, every office; in each case ordered by how close their ZIP codes are. Given both,
    the state chooses and the ZIP code orders. Given neither: every office.

    Raises:
        UnknownState: ``state`` is no US state or territory.
        InvalidZipCode: ``zip_code`` is no ZIP code, or one of no state.
        InvalidOfficeData: (field ``services``) ``service`` is no appointment type.
    """
    wanted_state = normalize_state(state) if state is not None else None
    wanted_zip = normalize_zip(zip_code) if zip_code is not None else None
    offices = await list_offices(uow, service)
    if wanted_zip is None:
        return [o for o in offices if wanted_state is None or o.state == wanted_state]

    def by_distance(candidates: list[Office]) -> list[Office]:
        assert wanted_zip is not None
        return sorted(candidates, key=lambda o: (zip_distance(o.zip_code, wanted_zip), o.code))

    if wanted_state is not None:
        return by_distance([o for o in offices if o.state == wanted_state])
    home = state_for_zip(wanted_zip)
    for states in ({home}, NEIGHBORS.get(home, frozenset())):
        near = [o for o in offices if o.state in states]
        if near:
            return by_distance(near)
    return by_distance(offices)
