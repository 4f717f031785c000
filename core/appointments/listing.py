"""Appointments for operators: found by office, local days, status and type, and as CSV.

Days are each office's local days: "March 3" at an office in Phoenix and at one in New York are
different UTC intervals, so the filter is built per office rather than on UTC dates.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import selectinload

from core.accounts.models import Account
from core.appointments.models import Appointment, AppointmentKind, AppointmentStatus, Office
from core.appointments.slots import load_zone
from core.appointments.time import local_day_bounds
from core.cases.models import Case
from core.errors import InvalidDateRange, OfficeNotFound
from core.uow import UnitOfWork

__all__ = [
    "EXPORT_COLUMNS",
    "MAX_EXPORT_ROWS",
    "AppointmentQuery",
    "AppointmentRecord",
    "appointments_csv",
    "find_appointments",
]

MAX_EXPORT_ROWS: Final = 100_000
# Every appointment lies between these days; a filter day beyond them (0001-01-01, 9999-12-31)
# is read as the nearest of them, where its day bounds can still be computed in any time zone.
_EARLIEST_DAY: Final = date(1900, 1, 1)
_LATEST_DAY: Final = date(9000, 1, 1)
EXPORT_COLUMNS: Final = (
    "confirmation_code",
    "office",
    "kind",
    "status",
    "local_start",
    "timezone",
    "starts_at_utc",
    "ends_at_utc",
    "receipt_number",
    "account_email",
    "reschedule_count",
    "cancel_reason",
    "created_at_utc",
    "updated_at_utc",
)


@dataclass(frozen=True, slots=True)
class AppointmentQuery:
    """Which appointments; None means any. ``offset`` and ``limit`` page through them in time
    order (``limit`` None: up to :data:`MAX_EXPORT_ROWS`)."""

    office: int | str | None = None
    first_day: date | None = None
    last_day: date | None = None
    status: AppointmentStatus | None = None
    kind: AppointmentKind | None = None
    offset: int = 0
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class AppointmentRecord:
    """One appointment as an operator sees it."""

    confirmation_code: str
    office_code: str
    timezone: str
    kind: AppointmentKind
    status: AppointmentStatus
    starts_at: datetime
    ends_at: datetime
    receipt_number: str | None
    account_email: str
    reschedule_count: int
    cancel_reason: str | None
    created_at: datetime
    updated_at: datetime

    @property
    def local_start(self) -> datetime:
        """The start in the office's time zone."""
        return self.starts_at.astimezone(load_zone(self.timezone))

    def csv_row(self) -> list[str]:
        """The values of :data:`EXPORT_COLUMNS`, in order (times in ISO 8601)."""
        return [
            self.confirmation_code,
            self.office_code,
            self.kind.value,
            self.status.value,
            self.local_start.isoformat(),
            self.timezone,
            self.starts_at.isoformat(),
            self.ends_at.isoformat(),
            self.receipt_number or "",
            self.account_email,
            str(self.reschedule_count),
            self.cancel_reason or "",
            self.created_at.isoformat(),
            self.updated_at.isoformat(),
        ]


async def _offices(uow: UnitOfWork, office: int | str | None) -> list[Office]:
    query = select(Office).order_by(Office.id)
    if isinstance(office, int):
        query = query.where(Office.id == office)
    elif office is not None:
        query = query.where(Office.code == office.strip().upper())
    found = list(await uow.session.scalars(query))
    if office is not None and not found:
        raise OfficeNotFound(office=str(office))
    return found


async def find_appointments(uow: UnitOfWork, query: AppointmentQuery) -> list[AppointmentRecord]:
    """The appointments that match, in time order (then by id).

    Raises:
        OfficeNotFound: ``office`` names no office.
        InvalidDateRange: ``last_day`` is before ``first_day``.
        ValueError: a negative offset, or a limit outside 1 to ``MAX_EXPORT_ROWS``.
    """
    if query.first_day and query.last_day and query.last_day < query.first_day:
        raise InvalidDateRange(first_day=query.first_day, last_day=query.last_day)
    limit = MAX_EXPORT_ROWS if query.limit is None else query.limit
    if query.offset < 0 or not 1 <= limit <= MAX_EXPORT_ROWS:
        raise ValueError("offset must be >= 0 and limit between 1 and MAX_EXPORT_ROWS")
    offices = await _offices(uow, query.office)
    statement = (
        select(Appointment, Account.email, Case.receipt_number)
        .join(Account, Account.id == Appointment.account_id)
        .outerjoin(Case, Case.id == Appointment.case_id)
        .options(selectinload(Appointment.office))
        .order_by(Appointment.starts_at, Appointment.id)
        .offset(query.offset)
        .limit(limit)
    )
    statement = statement.where(_where_offices_and_days(offices, query, scoped=query.office))
    if query.status is not None:
        statement = statement.where(Appointment.status == query.status)
    if query.kind is not None:
        statement = statement.where(Appointment.kind == query.kind)
    rows = await uow.session.execute(statement)
    return [
        AppointmentRecord(
            confirmation_code=appointment.confirmation_code,
            office_code=appointment.office.code,
            timezone=appointment.office.timezone,
            kind=appointment.kind,
            status=appointment.status,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            receipt_number=receipt,
            account_email=email,
            reschedule_count=appointment.reschedule_count,
            cancel_reason=appointment.cancel_reason,
            created_at=appointment.created_at,
            updated_at=appointment.updated_at,
        )
        for appointment, email, receipt in rows
    ]


def _where_offices_and_days(
    offices: list[Office], query: AppointmentQuery, *, scoped: int | str | None
) -> ColumnElement[bool]:
    """One condition per office: its id and, when days are asked for, its local days in UTC."""
    if not offices:
        return false()
    if query.first_day is None and query.last_day is None:
        if scoped is None:
            return Appointment.office_id.is_not(None)
        return Appointment.office_id == offices[0].id
    conditions = []
    for office in offices:
        parts = [Appointment.office_id == office.id]
        if query.first_day is not None:
            first = _within_calendar(query.first_day)
            parts.append(Appointment.starts_at >= local_day_bounds(first, office.timezone)[0])
        if query.last_day is not None:
            last = _within_calendar(query.last_day)
            parts.append(Appointment.starts_at < local_day_bounds(last, office.timezone)[1])
        conditions.append(and_(*parts))
    return or_(*conditions)


def _within_calendar(day: date) -> date:
    return min(max(day, _EARLIEST_DAY), _LATEST_DAY)


def appointments_csv(records: Iterable[AppointmentRecord]) -> str:
    """The records as a CSV document with a header row of :data:`EXPORT_COLUMNS`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(record.csv_row() for record in records)
    return out.getvalue()
