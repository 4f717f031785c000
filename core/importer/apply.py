"""Applying checked rows: in one transaction, all of them or none, in bulk.

A row creates its case, or brings an existing one up to date (form type; received date, owner
and access code when given; status), exactly like ``core.cases.service.upsert_case`` does for
one case: a new status is recorded in the history and every chat that follows the case (chats
signed in as its owner, subscribers) gets a ``case_status_changed`` notification in the outbox,
in the same transaction. Importing the same rows again changes nothing.

Work goes by chunks of :data:`CHUNK` rows, in receipt-number order (the one order in which every
writer locks cases, so two imports cannot deadlock): one SELECT reads the chunk's existing cases
(locked ``FOR UPDATE`` on PostgreSQL), then one multi-row INSERT creates the new cases, one
executemany UPDATE changes the others, one INSERT adds their history events and one the
notifications. An Online Access Code costs a PBKDF2 hash (a few milliseconds): it is hashed only
for a new case, or verified against an existing case's unused code and hashed again only when it
differs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import Account, ChannelLink
from core.cases.access_code import hash_access_code, verify_access_code
from core.cases.models import AccessCodeFailures, Case, CaseEvent, Subscription
from core.cases.service import STATUS_CHANGED
from core.importer.parse import parse_cases_csv
from core.importer.rows import CaseRow, ImportFailed, ImportResult, RowProblem
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "CHUNK",
    "BeforeCommit",
    "apply_rows",
    "import_cases",
    "import_cases_bytes",
    "import_cases_file",
]

logger = logging.getLogger(__name__)

CHUNK: Final = 1000

BeforeCommit = Callable[[UnitOfWork, ImportResult], Awaitable[None]]
"""Runs in the import's unit of work once every row is applied (the audit log's hook)."""

# Core statements on the tables: no ORM objects, identity map or flush for thousands of rows.
_cases: Final = cast(Table, Case.__table__)
_events: Final = cast(Table, CaseEvent.__table__)
_outbox: Final = cast(Table, OutboxMessage.__table__)
_failures: Final = cast(Table, AccessCodeFailures.__table__)


@dataclass
class _Chunk:
    """What one chunk writes."""

    new_cases: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    # (case id, receipt, form type, old status, new status, owner id) of every status change
    changes: list[tuple[int, str, str, str, str, int | None]] = field(default_factory=list)
    # ids of existing cases given a new access code: their locks of wrong codes are cleared
    new_codes: list[int] = field(default_factory=list)


async def import_cases(
    uow_factory: UnitOfWorkFactory,
    rows: Sequence[CaseRow],
    *,
    before_commit: BeforeCommit | None = None,
) -> ImportResult:
    """Apply checked rows in one transaction: all of them, or none when one clashes.

    Args:
        before_commit: called in the same unit of work after the rows are applied, before the
            commit (an operator action writes its audit entry there).

    Raises:
        ImportFailed: an owner email names no account, or a case was created by somebody
            else while the import ran (import the file again).
    """
    async with uow_factory() as uow:
        result = await apply_rows(uow, rows)
        if before_commit is not None:
            await before_commit(uow, result)
        await uow.commit()
    return result


async def apply_rows(uow: UnitOfWork, rows: Sequence[CaseRow]) -> ImportResult:
    """Apply checked rows in the caller's unit of work (which commits, or rolls back on error).

    Raises:
        ImportFailed: see :func:`import_cases`.
    """
    owners = await _owner_ids(uow.session, {r.owner_email for r in rows if r.owner_email})
    problems = [
        RowProblem(r.line, "owner_email", "unknown_owner", r.owner_email)
        for r in rows
        if r.owner_email and r.owner_email not in owners
    ]
    if problems:
        raise ImportFailed(problems)
    ordered = sorted(rows, key=lambda r: str(r.receipt_number))
    created = updated = unchanged = notified = 0
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        plan = await _plan(uow, chunk, owners)
        await _create(uow, plan, chunk)
        notified += await _update(uow, plan)
        created += len(plan.new_cases)
        updated += len(plan.updates)
        unchanged += len(chunk) - len(plan.new_cases) - len(plan.updates)
    logger.info(
        "import: %d created, %d updated, %d unchanged, %d notifications queued",
        created,
        updated,
        unchanged,
        notified,
    )
    return ImportResult(created, updated, unchanged, notified)


async def _owner_ids(session: AsyncSession, emails: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(emails))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        rows = await session.execute(
            select(Account.email, Account.id).where(Account.email.in_(part))
        )
        found.update({email: account_id for email, account_id in rows})
    return found


async def _plan(uow: UnitOfWork, chunk: Sequence[CaseRow], owners: dict[str, int]) -> _Chunk:
    """Read the chunk's existing cases (locked) and work out what to write."""
    query = select(
        _cases.c.id,
        _cases.c.receipt_number,
        _cases.c.form_type,
        _cases.c.status_code,
        _cases.c.received_date,
        _cases.c.owner_id,
        _cases.c.access_code_hash,
        _cases.c.access_code_used_at,
    ).where(_cases.c.receipt_number.in_([str(r.receipt_number) for r in chunk]))
    if uow.dialect == "postgresql":
        query = query.with_for_update()
    existing = {row.receipt_number: row for row in await uow.session.execute(query)}
    now = uow.clock.now()
    plan = _Chunk()
    for row in chunk:
        receipt = str(row.receipt_number)
        owner_id = owners.get(row.owner_email) if row.owner_email else None
        current = existing.get(receipt)
        if current is None:
            plan.new_cases.append(
                {
                    "receipt_number": receipt,
                    "form_type": row.form_type,
                    "status_code": row.status.code,
                    "received_date": row.received_date,
                    "status_updated_at": now,
                    "owner_id": owner_id,
                    "access_code_hash": (
                        hash_access_code(row.access_code) if row.access_code else None
                    ),
                    "access_code_used_at": None,
                    "created_at": now,
                }
            )
            continue
        values = {
            "b_id": current.id,
            "b_form_type": row.form_type,
            "b_received_date": row.received_date or current.received_date,
            "b_owner_id": owner_id if owner_id is not None else current.owner_id,
            "b_access_code_hash": current.access_code_hash,
            "b_status_code": row.status.code,
            "b_status_updated_at": now,
        }
        changed = (
            values["b_form_type"] != current.form_type
            or values["b_received_date"] != current.received_date
            or values["b_owner_id"] != current.owner_id
        )
        if (
            row.access_code is not None
            and current.access_code_used_at is None
            and not verify_access_code(row.access_code, current.access_code_hash)
        ):
            values["b_access_code_hash"] = hash_access_code(row.access_code)
            plan.new_codes.append(current.id)
            changed = True
        if current.status_code != row.status.code:
            plan.changes.append(
                (
                    current.id,
                    receipt,
                    row.form_type,
                    current.status_code,
                    row.status.code,
                    values["b_owner_id"],
                )
            )
            changed = True
        else:
            values["b_status_updated_at"] = None  # keep the time the status was set
        if changed:
            plan.updates.append(values)
    return plan


async def _create(uow: UnitOfWork, plan: _Chunk, chunk: Sequence[CaseRow]) -> None:
    """Insert the new cases, each with its first history event."""
    if not plan.new_cases:
        return
    try:
        inserted = await uow.session.execute(
            insert(_cases).returning(_cases.c.id, _cases.c.status_code), plan.new_cases
        )
    except IntegrityError:
        # Another writer created one of these receipt numbers after the chunk was read.
        lines = f"lines {chunk[0].line} to {chunk[-1].line}"
        raise ImportFailed([RowProblem(chunk[0].line, None, "conflict", lines)]) from None
    now = uow.clock.now()
    await uow.session.execute(
        insert(_events),
        [{"case_id": i, "status_code": code, "occurred_at": now} for i, code in inserted],
    )


async def _update(uow: UnitOfWork, plan: _Chunk) -> int:
    """Change the existing cases; record and announce their new statuses.

    Returns:
        How many notifications were queued.
    """
    if not plan.updates:
        return 0
    keep_time = [v for v in plan.updates if v["b_status_updated_at"] is None]
    new_time = [v for v in plan.updates if v["b_status_updated_at"] is not None]
    columns: dict[str, Any] = {
        "form_type": bindparam("b_form_type"),
        "received_date": bindparam("b_received_date"),
        "owner_id": bindparam("b_owner_id"),
        "access_code_hash": bindparam("b_access_code_hash"),
        "status_code": bindparam("b_status_code"),
    }
    by_id = update(_cases).where(_cases.c.id == bindparam("b_id"))
    if keep_time:
        await uow.session.execute(by_id.values(**columns), keep_time)
    if new_time:
        timed = by_id.values(**columns, status_updated_at=bindparam("b_status_updated_at"))
        await uow.session.execute(timed, new_time)
    if plan.new_codes:
        # A new code is a fresh start: wrong guesses at the old one no longer lock anyone out.
        await uow.session.execute(delete(_failures).where(_failures.c.case_id.in_(plan.new_codes)))
    if not plan.changes:
        return 0
    now = uow.clock.now()
    events = await uow.session.execute(
        insert(_events).returning(_events.c.id, _events.c.case_id),
        [{"case_id": c[0], "status_code": c[4], "occurred_at": now} for c in plan.changes],
    )
    event_of = {case_id: event_id for event_id, case_id in events}
    chats = await _followers(uow.session, plan.changes)
    messages = []
    for case_id, receipt, form_type, old_code, new_code, _owner in plan.changes:
        payload = {
            "receipt_number": receipt,
            "form_type": form_type,
            "status_code": new_code,
            "old_status_code": old_code,
            "changed_at": now.isoformat(),
        }
        for channel, chat_id in chats.get(case_id, []):
            messages.append(
                {
                    "kind": STATUS_CHANGED,
                    "channel": channel,
                    "address": chat_id,
                    "payload": payload,
                    "dedupe_key": f"{STATUS_CHANGED}:{event_of[case_id]}:{channel}:{chat_id}",
                    "status": OutboxStatus.PENDING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if messages:
        await uow.session.execute(insert(_outbox), messages)
    return len(messages)


async def _followers(
    session: AsyncSession, changes: Sequence[tuple[int, str, str, str, str, int | None]]
) -> dict[int, list[tuple[str, str]]]:
    """Per case: every chat signed in as its owner, then every subscriber; each chat once."""
    owners = sorted({c[5] for c in changes if c[5] is not None})
    links: dict[int, list[tuple[str, str]]] = {}
    if owners:
        rows = await session.execute(
            select(ChannelLink.account_id, ChannelLink.channel, ChannelLink.chat_id)
            .where(ChannelLink.account_id.in_(owners))
            .order_by(ChannelLink.id)
        )
        for account_id, channel, chat_id in rows:
            links.setdefault(account_id, []).append((channel, chat_id))
    subscribers: dict[int, list[tuple[str, str]]] = {}
    rows = await session.execute(
        select(Subscription.case_id, Subscription.channel, Subscription.chat_id)
        .where(Subscription.case_id.in_([c[0] for c in changes]))
        .order_by(Subscription.id)
    )
    for case_id, channel, chat_id in rows:
        subscribers.setdefault(case_id, []).append((channel, chat_id))
    chats: dict[int, list[tuple[str, str]]] = {}
    for case_id, *_rest, owner_id in changes:
        found = links.get(owner_id, []) if owner_id is not None else []
        chats[case_id] = list(dict.fromkeys(found + subscribers.get(case_id, [])))
    return chats


async def import_cases_file(
    uow_factory: UnitOfWorkFactory, path: Path, *, before_commit: BeforeCommit | None = None
) -> ImportResult:
    """Check and import a CSV file.

    Raises:
        ImportFailed: with every problem found, by line; nothing was applied.
        OSError: the file cannot be read.
    """
    data = await asyncio.to_thread(path.read_bytes)
    return await import_cases_bytes(uow_factory, data, before_commit=before_commit)


async def import_cases_bytes(
    uow_factory: UnitOfWorkFactory, data: bytes, *, before_commit: BeforeCommit | None = None
) -> ImportResult:
    """Check and import the bytes of a CSV file (UTF-8, with or without a byte order mark).

    Raises:
        ImportFailed: with every problem found, by line; nothing was applied.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([RowProblem(1, None, "not_utf8")]) from None
    rows, problems = await asyncio.to_thread(parse_cases_csv, text)
    if problems:
        raise ImportFailed(problems)
    return await import_cases(uow_factory, rows, before_commit=before_commit)
