"""Operator actions, each in one unit of work together with its audit entry.

The command line and the admin HTTP API call these, never the services directly, so every
action that takes effect is in the audit log (``core.admin.audit``) and none that fails is: a
refusal raises before the commit and the whole unit of work, audit entry included, rolls back.
Each function raises the errors of the service it wraps.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import date
from typing import Any, Final

from core.admin.audit import AuditQuery, AuditRecord, Outcome, list_audit, record_action
from core.appointments.closures import ClosureResult, close_office_day, reopen_office_day
from core.appointments.listing import AppointmentQuery, AppointmentRecord, find_appointments
from core.appointments.models import Office
from core.appointments.office_admin import OfficeChanges, set_capacity, update_office
from core.appointments.offices import Hours, add_office, get_office, list_offices, set_hours
from core.cases.receipt import ReceiptNumber
from core.cases.service import reset_access_code_attempts, update_status
from core.cases.statuses import get_status
from core.importer import ImportResult, import_cases_bytes
from core.processing_times import parse_processing_times, replace_processing_times
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "WEEKDAYS",
    "add_office_as",
    "close_day_as",
    "export_appointments_as",
    "hours_record",
    "import_cases_as",
    "import_processing_times_as",
    "list_appointments_as",
    "read_audit",
    "read_office",
    "read_offices",
    "reopen_day_as",
    "set_capacity_as",
    "set_hours_as",
    "set_status_as",
    "unlock_case_access_as",
    "update_office_as",
]

WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def hours_record(hours: Hours) -> dict[str, str]:
    """Opening hours as audit data: ``{"mon": "08:00-16:00", ...}``."""
    return {
        WEEKDAYS[day]: f"{opens:%H:%M}-{closes:%H:%M}"
        for day, (opens, closes) in sorted(hours.items())
    }


def _query_record(query: AppointmentQuery) -> dict[str, Any]:
    return {
        "office": query.office,
        "first_day": query.first_day,
        "last_day": query.last_day,
        "status": query.status,
        "kind": query.kind,
        "offset": query.offset,
        "limit": query.limit,
    }


async def set_status_as(
    uow_factory: UnitOfWorkFactory, actor: str, receipt_number: str, status: str
) -> bool:
    """Set a case's status (title or code); followers are notified in the same transaction.

    Returns:
        False when the case had that status already (recorded as ``unchanged``).
    """
    receipt = ReceiptNumber.parse(receipt_number)
    code = get_status(status).code
    async with uow_factory() as uow:
        changed = await update_status(uow, receipt, code)
        await record_action(
            uow,
            actor=actor,
            action="case.set_status",
            target=f"case:{receipt}",
            params={"status": code},
            outcome=Outcome.CHANGED if changed else Outcome.UNCHANGED,
        )
        await uow.commit()
    return changed


async def unlock_case_access_as(
    uow_factory: UnitOfWorkFactory, actor: str, receipt_number: str
) -> int:
    """Give every account locked out of a paper-filed case by wrong access codes its tries back
    (the help desk's operation, for a person who cannot wait for the lock to run out).

    Returns:
        How many accounts had wrong codes recorded for the case (0 is recorded as
        ``unchanged``).

    Raises:
        InvalidReceiptNumber: not a receipt number.
        CaseNotFound: no case has this receipt number.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    async with uow_factory() as uow:
        cleared = await reset_access_code_attempts(uow, receipt)
        await record_action(
            uow,
            actor=actor,
            action="case.unlock_access",
            target=f"case:{receipt}",
            outcome=Outcome.CHANGED if cleared else Outcome.UNCHANGED,
            result={"locks": cleared},
        )
        await uow.commit()
    return cleared


async def import_cases_as(
    uow_factory: UnitOfWorkFactory, actor: str, data: bytes, *, source: str
) -> ImportResult:
    """Check and import a cases CSV file, all rows or none.

    Args:
        source: where the file came from, for the log (a file name, ``request body``); the
            contents themselves are not logged (they may hold access codes), only their SHA-256.
    """

    async def audit(uow: UnitOfWork, result: ImportResult) -> None:
        changed = result.created or result.updated
        await record_action(
            uow,
            actor=actor,
            action="cases.import",
            target="cases",
            params={"source": source, "sha256": hashlib.sha256(data).hexdigest()},
            outcome=Outcome.CHANGED if changed else Outcome.UNCHANGED,
            result={
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
                "notified": result.notified,
            },
        )

    return await import_cases_bytes(uow_factory, data, before_commit=audit)


async def import_processing_times_as(
    uow_factory: UnitOfWorkFactory, actor: str, data: bytes, *, source: str
) -> int:
    """Check a processing-times CSV file and replace the loaded times with it, all rows or none
    (``core.processing_times``).

    Returns:
        How many rows are loaded.

    Raises:
        ImportFailed: the file has bad rows (nothing is changed).
    """
    rows = parse_processing_times(data)
    async with uow_factory() as uow:
        loaded = await replace_processing_times(uow, rows)
        await record_action(
            uow,
            actor=actor,
            action="processing_times.import",
            target="processing_times",
            params={"source": source, "sha256": hashlib.sha256(data).hexdigest()},
            outcome=Outcome.CHANGED,
            result={"loaded": loaded},
        )
        await uow.commit()
    return loaded


async def read_offices(uow_factory: UnitOfWorkFactory) -> list[Office]:
    """Every active office with its hours and closures (not personal data: not audited)."""
    async with uow_factory() as uow:
        offices = await list_offices(uow)
        return [await get_office(uow, o.id, with_schedule=True) for o in offices]


async def read_office(uow_factory: UnitOfWorkFactory, office: int | str) -> Office:
    """One active office with its hours and closures (not audited).

    Raises:
        OfficeNotFound: no such active office.
    """
    async with uow_factory() as uow:
        return await get_office(uow, office, with_schedule=True)


async def add_office_as(
    uow_factory: UnitOfWorkFactory, actor: str, values: Mapping[str, Any]
) -> Office:
    """Add an office; ``values`` are :func:`core.appointments.offices.add_office`'s arguments."""
    async with uow_factory() as uow:
        office = await add_office(uow, **values)
        params = dict(values)
        if "hours" in params:
            params["hours"] = hours_record(params["hours"])
        await record_action(
            uow,
            actor=actor,
            action="office.add",
            target=f"office:{office.code}",
            params=params,
            outcome=Outcome.CHANGED,
            result={"id": office.id},
        )
        await uow.commit()
    return office


async def update_office_as(
    uow_factory: UnitOfWorkFactory, actor: str, office: str, changes: OfficeChanges
) -> dict[str, tuple[Any, Any]]:
    """Change an office's settings.

    Returns:
        Each setting that changed, with its (old, new) value.
    """
    async with uow_factory() as uow:
        found, changed = await update_office(uow, office, changes)
        await record_action(
            uow,
            actor=actor,
            action="office.update",
            target=f"office:{found.code}",
            params=changes.given(),
            outcome=Outcome.CHANGED if changed else Outcome.UNCHANGED,
            result={"changed": {k: {"old": v[0], "new": v[1]} for k, v in changed.items()}},
        )
        await uow.commit()
    return changed


async def set_hours_as(
    uow_factory: UnitOfWorkFactory, actor: str, office: str, hours: Hours
) -> Office:
    """Replace an office's weekly opening hours (bookings made stay)."""
    async with uow_factory() as uow:
        before = hours_record(
            {h.weekday: (h.opens, h.closes) for h in await _hours_of(uow, office)}
        )
        found = await set_hours(uow, office, hours)
        after = hours_record(hours)
        await record_action(
            uow,
            actor=actor,
            action="office.set_hours",
            target=f"office:{found.code}",
            params={"hours": after},
            outcome=Outcome.CHANGED if after != before else Outcome.UNCHANGED,
            result={"before": before},
        )
        await uow.commit()
    return found


async def _hours_of(uow: UnitOfWork, office: str) -> list[Any]:
    return list((await get_office(uow, office, with_schedule=True)).hours)


async def set_capacity_as(
    uow_factory: UnitOfWorkFactory, actor: str, office: str, capacity: int
) -> tuple[Office, int]:
    """Set people per slot; returns the office and how many future slots hold more already."""
    async with uow_factory() as uow:
        old = (await get_office(uow, office)).capacity
        found, over = await set_capacity(uow, office, capacity)
        await record_action(
            uow,
            actor=actor,
            action="office.set_capacity",
            target=f"office:{found.code}",
            params={"capacity": capacity},
            outcome=Outcome.CHANGED if old != capacity else Outcome.UNCHANGED,
            result={"before": old, "slots_over_capacity": over},
        )
        await uow.commit()
    return found, over


async def close_day_as(
    uow_factory: UnitOfWorkFactory, actor: str, office: str, day: date, reason: str = ""
) -> ClosureResult:
    """Close an office for a day: its appointments are cancelled and the people told."""
    async with uow_factory() as uow:
        result = await close_office_day(uow, office, day, reason)
        await record_action(
            uow,
            actor=actor,
            action="office.close_day",
            target=f"office:{result.office_code}",
            params={"day": day, "reason": reason.strip()},
            outcome=Outcome.CHANGED if result.changed else Outcome.UNCHANGED,
            result={
                "newly_closed": result.newly_closed,
                "cancelled": list(result.cancelled),
                "notices": result.notices,
            },
        )
        await uow.commit()
    return result


async def reopen_day_as(uow_factory: UnitOfWorkFactory, actor: str, office: str, day: date) -> bool:
    """Open a closed day again; False (recorded as ``unchanged``) when it was open."""
    async with uow_factory() as uow:
        code = (await get_office(uow, office)).code
        reopened = await reopen_office_day(uow, office, day)
        await record_action(
            uow,
            actor=actor,
            action="office.reopen_day",
            target=f"office:{code}",
            params={"day": day},
            outcome=Outcome.CHANGED if reopened else Outcome.UNCHANGED,
        )
        await uow.commit()
    return reopened


async def list_appointments_as(
    uow_factory: UnitOfWorkFactory, actor: str, query: AppointmentQuery
) -> list[AppointmentRecord]:
    """Appointments that match (personal data: the read is recorded)."""
    return await _read_appointments(uow_factory, actor, query, "appointments.list")


async def export_appointments_as(
    uow_factory: UnitOfWorkFactory, actor: str, query: AppointmentQuery
) -> list[AppointmentRecord]:
    """Appointments that match, for a CSV export (personal data: the read is recorded)."""
    return await _read_appointments(uow_factory, actor, query, "appointments.export")


async def _read_appointments(
    uow_factory: UnitOfWorkFactory, actor: str, query: AppointmentQuery, action: str
) -> list[AppointmentRecord]:
    async with uow_factory() as uow:
        records = await find_appointments(uow, query)
        await record_action(
            uow,
            actor=actor,
            action=action,
            target="appointments" if query.office is None else f"office:{query.office}",
            params=_query_record(query),
            outcome=Outcome.READ,
            result={"rows": len(records)},
        )
        await uow.commit()
    return records


async def read_audit(uow_factory: UnitOfWorkFactory, query: AuditQuery) -> list[AuditRecord]:
    """Audit entries (reading the log is not itself logged)."""
    async with uow_factory() as uow:
        return [AuditRecord.of(entry) for entry in await list_audit(uow, query)]
