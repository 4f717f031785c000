"""What the case services hand out: plain, frozen values, never ORM rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from core.cases.models import Case, CaseEvent
from core.cases.receipt import ReceiptNumber
from core.cases.statuses import Status, get_status

__all__ = ["CaseDetail", "ClientCase", "HistoryEntry", "PublicStatus", "public_status"]


@dataclass(frozen=True, slots=True)
class PublicStatus:
    """What anyone who knows the receipt number may see."""

    receipt: ReceiptNumber
    form_type: str
    status: Status
    updated_at: datetime
    received_date: date | None


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    status: Status
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """What the owner (or the owner's representative) sees: the full dated history too."""

    receipt: ReceiptNumber
    form_type: str
    status: Status
    updated_at: datetime
    received_date: date | None
    owner_id: int | None
    history: tuple[HistoryEntry, ...]


@dataclass(frozen=True, slots=True)
class ClientCase:
    """A case of one of a representative's clients."""

    client_id: int
    client_email: str
    case: PublicStatus


def public_status(case: Case) -> PublicStatus:
    return PublicStatus(
        receipt=ReceiptNumber(case.receipt_number),
        form_type=case.form_type,
        status=get_status(case.status_code),
        updated_at=case.status_updated_at,
        received_date=case.received_date,
    )


def case_detail_of(case: Case, events: list[CaseEvent]) -> CaseDetail:
    return CaseDetail(
        receipt=ReceiptNumber(case.receipt_number),
        form_type=case.form_type,
        status=get_status(case.status_code),
        updated_at=case.status_updated_at,
        received_date=case.received_date,
        owner_id=case.owner_id,
        history=tuple(
            HistoryEntry(status=get_status(event.status_code), occurred_at=event.occurred_at)
            for event in sorted(events, key=lambda e: (e.occurred_at, e.id))
        ),
    )
