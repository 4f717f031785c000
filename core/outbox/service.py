"""Writing notifications into the outbox, inside the caller's unit of work."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final, Protocol

from sqlalchemy import JSON, bindparam, delete, insert, select

from core.outbox.models import OutboxMessage, OutboxStatus
from core.outbox.wake import NOTIFY_CHANNEL as WAKE_CHANNEL
from core.outbox.wake import wake_of
from core.statements import Prepared
from core.uow import UnitOfWork, notify_listeners

__all__ = [
    "OutboxItem",
    "add_notification",
    "lease_messages",
    "pending_notifications",
    "purge_sent",
    "wake_dispatcher",
    "withdraw_leased",
]


class OutboxItem(Protocol):
    """An outbox message as a sender reads it (``core.outbox.dispatch.ClaimedMessage``)."""

    @property
    def id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


async def add_notification(
    uow: UnitOfWork,
    *,
    kind: str,
    channel: str,
    address: str,
    payload: dict[str, Any],
    dedupe_key: str,
) -> bool:
    """Queue one notification in the current transaction, once per ``dedupe_key``.

    Returns:
        True if it was queued, False if a notification with that key exists already.
    """
    exists = await uow.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)
    )
    if exists is not None:
        return False
    uow.session.add(
        OutboxMessage(
            kind=kind,
            channel=channel,
            address=address,
            payload=payload,
            dedupe_key=dedupe_key,
            next_attempt_at=uow.clock.now(),
            created_at=uow.clock.now(),
        )
    )
    await uow.flush()
    await wake_dispatcher(uow, channel)
    return True


async def wake_dispatcher(uow: UnitOfWork, channel: str) -> None:
    """Wake the channel's dispatcher once ``uow`` commits: this process's at once, every
    worker's through PostgreSQL's NOTIFY (``core.outbox.wake``)."""
    uow.after_commit(partial(wake_of(uow.db).wake, channel))
    if uow.dialect == "postgresql":
        await notify_listeners(uow, WAKE_CHANNEL, channel)


# One row a statement: the order of RETURNING rows of a multi-row INSERT is not promised, and a
# turn has one reply or two.
_LEASE: Final = Prepared(
    insert(OutboxMessage)
    .values(
        kind=bindparam("b_kind"),
        channel=bindparam("b_channel"),
        address=bindparam("b_address"),
        payload=bindparam("b_payload", type_=JSON),
        dedupe_key=bindparam("b_dedupe_key"),
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=bindparam("now"),
        created_at=bindparam("now"),
        claimed_until=bindparam("until"),
        claimed_by=bindparam("worker"),
    )
    .returning(OutboxMessage.id)
)


async def lease_messages(
    uow: UnitOfWork,
    *,
    kind: str,
    channel: str,
    address: str,
    payloads: Sequence[dict[str, Any]],
    lease: timedelta,
    worker: str,
) -> list[int]:
    """Write messages due now in the caller's unit of work, already leased to ``worker`` for
    ``lease`` (the caller sends them itself; the dispatcher only once the lease runs out).
    Prepared statements (``core.statements``): every Telegram turn runs this.

    Returns:
        The row ids, in the order of ``payloads``.
    """
    now = uow.clock.now()
    batch = secrets.token_hex(8)
    until = now + lease
    ids = []
    for n, payload in enumerate(payloads):
        row = await uow.fetch_one(
            _LEASE,
            {
                "b_kind": kind,
                "b_channel": channel,
                "b_address": address,
                "b_payload": payload,
                "b_dedupe_key": f"{kind}:{channel}:{batch}:{n}",
                "now": now,
                "until": until,
                "worker": worker,
            },
        )
        assert row is not None  # RETURNING id of the row just inserted
        ids.append(int(row[0]))
    return ids


async def withdraw_leased(uow: UnitOfWork, row_ids: Sequence[int], *, worker: str) -> None:
    """Delete leased messages that were never sent, in the caller's unit of work; rows no
    longer leased to ``worker`` are left alone."""
    await uow.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.id.in_(row_ids),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    )


async def pending_notifications(uow: UnitOfWork) -> list[OutboxMessage]:
    """Every notification not sent yet, oldest first (for tests and the admin tools)."""
    rows = await uow.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .order_by(OutboxMessage.id)
    )
    return list(rows)


async def purge_sent(uow: UnitOfWork, *, sent_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` notifications sent before ``sent_before`` (the oldest first);
    returns how many. Pending and parked ones stay. Pass a time long after any cause could
    queue the same ``dedupe_key`` again (housekeeping keeps them 30 days)."""
    found = await uow.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.SENT, OutboxMessage.sent_at < sent_before)
        .order_by(OutboxMessage.sent_at)
        .limit(limit)
    )
    ids = list(found)
    if ids:
        await uow.session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
    return len(ids)
