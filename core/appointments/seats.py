"""Seats of slots: taking and freeing them so that a slot never holds more than its capacity.

A seat is taken with ``UPDATE slot_usage SET taken = taken + 1 WHERE ... AND taken < capacity``;
``rowcount == 1`` means we got it, 0 means the slot is full. The row is created beforehand, if
missing, by ``INSERT ... ON CONFLICT DO NOTHING`` (with each dialect's own insert construct), and
a CHECK constraint keeps ``0 <= taken <= capacity`` whatever happens. Why this holds under
concurrency on both backends is told in ``core.appointments.service``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Executable, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.appointments.models import Office, SlotUsage
from core.errors import SlotTaken
from core.uow import UnitOfWork

__all__ = ["free_seat", "take_seat"]

logger = logging.getLogger(__name__)


def _insert_ignoring_conflict(dialect: str, **values: Any) -> Executable:
    keys = [SlotUsage.office_id, SlotUsage.starts_at]
    if dialect == "postgresql":
        return pg_insert(SlotUsage).values(**values).on_conflict_do_nothing(index_elements=keys)
    if dialect == "sqlite":
        return sqlite_insert(SlotUsage).values(**values).on_conflict_do_nothing(index_elements=keys)
    raise RuntimeError(f"unsupported database dialect {dialect!r}")


async def take_seat(uow: UnitOfWork, office: Office, starts_at: datetime) -> None:
    """Take one seat of a slot, creating its usage row on first use.

    Raises:
        SlotTaken: the slot has no seat left.
    """
    await uow.session.execute(
        _insert_ignoring_conflict(
            uow.dialect, office_id=office.id, starts_at=starts_at, capacity=office.capacity, taken=0
        )
    )
    result = await uow.session.execute(
        update(SlotUsage)
        .where(
            SlotUsage.office_id == office.id,
            SlotUsage.starts_at == starts_at,
            SlotUsage.taken < SlotUsage.capacity,
        )
        .values(taken=SlotUsage.taken + 1)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", result).rowcount != 1:
        raise SlotTaken(office_id=office.id, starts_at=starts_at)


async def free_seat(uow: UnitOfWork, office_id: int, starts_at: datetime) -> None:
    """Give back one seat of a slot (never below zero)."""
    result = await uow.session.execute(
        update(SlotUsage)
        .where(
            SlotUsage.office_id == office_id,
            SlotUsage.starts_at == starts_at,
            SlotUsage.taken > 0,
        )
        .values(taken=SlotUsage.taken - 1)
        .execution_options(synchronize_session=False)
    )
    if cast("CursorResult[Any]", result).rowcount != 1:
        logger.warning("no seat to free at office %s, %s", office_id, starts_at.isoformat())
