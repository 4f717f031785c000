"""Loading cases: the queries the case services share."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from core.cases.models import Case
from core.cases.receipt import ReceiptNumber
from core.cases.statuses import get_status
from core.cases.views import PublicStatus
from core.statements import Prepared
from core.uow import UnitOfWork

__all__ = ["dialect_insert", "find_case", "find_public_status"]

# Built once: every case-status turn runs it. Columns, not the ORM entity: a lookup needs the
# data only, and loading an entity (identity map, instance state) cost more than the query.
_PUBLIC_STATUS: Final = Prepared(
    select(Case.form_type, Case.status_code, Case.status_updated_at, Case.received_date).where(
        Case.receipt_number == bindparam("receipt")
    )
)


async def find_case(
    uow: UnitOfWork,
    receipt: ReceiptNumber,
    *,
    for_update: bool = False,
    with_events: bool = False,
) -> Case | None:
    """The case with this receipt number, or None.

    Args:
        for_update: lock the row until the transaction ends (PostgreSQL; SQLite has one writer
            anyway), so two concurrent changes of one case cannot both read the old state.
        with_events: load the status history too.
    """
    # populate_existing: the session may hold the row (and its history) from an earlier read
    # in this unit of work; the answer must reflect what was written since.
    query = (
        select(Case)
        .where(Case.receipt_number == str(receipt))
        .execution_options(populate_existing=True)
    )
    if with_events:
        query = query.options(selectinload(Case.events))
    if for_update:
        query = query.with_for_update()
    case: Case | None = await uow.session.scalar(query)
    return case


async def find_public_status(uow: UnitOfWork, receipt: ReceiptNumber) -> PublicStatus | None:
    """What anyone may see of the case with this receipt number, or None.

    Raises:
        UnknownStatus: the stored status is not in the catalog (a bug, not an input error).
    """
    row = await uow.fetch_one(_PUBLIC_STATUS, {"receipt": str(receipt)})
    if row is None:
        return None
    form_type, status_code, updated_at, received_date = row
    return PublicStatus(
        receipt=receipt,
        form_type=form_type,
        status=get_status(status_code),
        updated_at=updated_at,
        received_date=received_date,
    )


def dialect_insert(uow: UnitOfWork) -> Any:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_nothing/update``."""
    if uow.dialect == "postgresql":
        return postgresql.insert
    if uow.dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database dialect {uow.dialect}")
