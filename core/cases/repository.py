"""Loading cases: the queries the case services share."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from core.cases.models import Case
from core.cases.receipt import ReceiptNumber
from core.uow import UnitOfWork

__all__ = ["dialect_insert", "find_case"]


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


def dialect_insert(uow: UnitOfWork) -> Any:
    """The dialect's ``insert`` construct, which has ``on_conflict_do_nothing/update``."""
    if uow.dialect == "postgresql":
        return postgresql.insert
    if uow.dialect == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database dialect {uow.dialect}")
