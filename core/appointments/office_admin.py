"""Changing an office: its name, address, zone, services, slot length and capacity.

Appointments already booked keep their time and seat whatever changes: a new time zone, slot
length or opening hours shape the slots offered from now on. A new capacity applies to every
future slot, including those already partly booked; lowered below what a slot holds, the slot
keeps its people and takes nobody more. A closed day stays closed (its seats stay frozen).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Final

from sqlalchemy import case, func, select, update

from core.appointments.geography import normalize_state, normalize_zip
from core.appointments.models import AppointmentKind, Office, OfficeClosure, SlotUsage
from core.appointments.offices import check_capacity, check_office_text, get_office
from core.appointments.slots import load_zone
from core.appointments.time import local_day_bounds, local_today
from core.errors import InvalidOfficeData
from core.uow import UnitOfWork

__all__ = ["OfficeChanges", "freeze_day", "set_capacity", "update_office"]

logger = logging.getLogger(__name__)

MIN_SLOT_MINUTES: Final = 5
MAX_SLOT_MINUTES: Final = 480


@dataclass(frozen=True, slots=True)
class OfficeChanges:
    """What to change in an office; None leaves a setting as it is."""

    name: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    timezone: str | None = None
    services: Sequence[str] | None = None
    slot_minutes: int | None = None
    capacity: int | None = None

    def given(self) -> dict[str, Any]:
        """The settings to change, by name."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


def _checked(changes: OfficeChanges) -> dict[str, Any]:
    """The new values, checked and normalised.

    Raises:
        InvalidOfficeData, UnknownState, InvalidZipCode: a value cannot be used.
    """
    values: dict[str, Any] = {}
    for name, value in changes.given().items():
        if name in ("name", "address", "city"):
            values[name] = check_office_text(name, value)
        elif name == "state":
            values[name] = normalize_state(value)
        elif name == "zip_code":
            values[name] = normalize_zip(value)
        elif name == "timezone":
            load_zone(value)
            values[name] = value
        elif name == "services":
            try:
                kinds = sorted({AppointmentKind(str(s)).value for s in value})
            except ValueError:
                raise InvalidOfficeData(field="services") from None
            if not kinds:
                raise InvalidOfficeData(field="services")
            values[name] = kinds
        elif name == "slot_minutes":
            if isinstance(value, bool) or not MIN_SLOT_MINUTES <= value <= MAX_SLOT_MINUTES:
                raise InvalidOfficeData(field="slot_minutes")
            values[name] = value
        elif name == "capacity":
            values[name] = check_capacity(value)
    return values


async def update_office(
    uow: UnitOfWork, office: int | str, changes: OfficeChanges
) -> tuple[Office, dict[str, tuple[Any, Any]]]:
    """Change an office's settings (see the module docstring for what happens to bookings).

    Returns:
        The office, and each setting that changed with its (old, new) value; empty when every
        value was as asked already.

    Raises:
        OfficeNotFound: no such active office.
        InvalidOfficeData: (the field) a value cannot be used.
        UnknownState: ``state`` is no US state or territory.
        InvalidZipCode: ``zip_code`` is no ZIP code.
    """
    values = _checked(changes)
    found = await get_office(uow, office)
    changed: dict[str, tuple[Any, Any]] = {}
    for name, value in values.items():
        old = getattr(found, name)
        if old != value:
            changed[name] = (old, value)
            setattr(found, name, value)
    await uow.flush()
    if "capacity" in changed:
        await _apply_capacity(uow, found)
    if changed:
        logger.info("office %s changed: %s", found.code, ", ".join(sorted(changed)))
    return found, changed


async def set_capacity(uow: UnitOfWork, office: int | str, capacity: int) -> tuple[Office, int]:
    """Set the people per slot of an office, for its future slots too.

    Returns:
        The office, and how many future slots hold more people than the new capacity (they
        keep them, and take nobody more).

    Raises:
        OfficeNotFound: no such active office.
        InvalidOfficeData: (field ``capacity``) not between 1 and ``MAX_CAPACITY``.
    """
    found, _changed = await update_office(uow, office, OfficeChanges(capacity=capacity))
    over = await uow.session.scalar(
        select(func.count())
        .select_from(SlotUsage)
        .where(
            SlotUsage.office_id == found.id,
            SlotUsage.starts_at > uow.clock.now(),
            SlotUsage.taken > capacity,
        )
    )
    return found, int(over or 0)


async def _apply_capacity(uow: UnitOfWork, office: Office) -> None:
    """Give every future slot of the office its new capacity (never below what it holds), then
    freeze the closed days again."""
    now = uow.clock.now()
    await uow.session.execute(
        update(SlotUsage)
        .where(SlotUsage.office_id == office.id, SlotUsage.starts_at > now)
        .values(
            capacity=case(
                (SlotUsage.taken > office.capacity, SlotUsage.taken), else_=office.capacity
            )
        )
        .execution_options(synchronize_session=False)
    )
    closed = await uow.session.scalars(
        select(OfficeClosure.day).where(
            OfficeClosure.office_id == office.id,
            OfficeClosure.day >= local_today(now, office.timezone),
        )
    )
    for day in closed:
        await freeze_day(uow, office, day)


async def freeze_day(uow: UnitOfWork, office: Office, day: date) -> None:
    """Let no slot of a local day take anybody more: each slot's capacity becomes what it
    holds. On PostgreSQL this also waits for bookings in flight on those slots, and any later
    one finds the slot full."""
    start, end = local_day_bounds(day, office.timezone)
    await uow.session.execute(
        update(SlotUsage)
        .where(
            SlotUsage.office_id == office.id,
            SlotUsage.starts_at >= start,
            SlotUsage.starts_at < end,
        )
        .values(capacity=SlotUsage.taken)
        .execution_options(synchronize_session=False)
    )
