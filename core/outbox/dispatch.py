"""Sending the outbox, channel by channel: claiming due rows, recording success and failure.

The dispatcher (``bot/notify/dispatcher.py``) works in one of two ways, by channel:

- Delivered inside a transaction (the web chat: a pushed message is a row of the transcript):
  ``claim_due`` locks a batch, each message is delivered and ``mark_sent`` in the same unit of
  work, which commits once. A worker that dies mid-batch commits nothing and its row locks go
  with its connection: exactly once, by construction.
- Sent over the network (Telegram): a transaction must not stay open while messages wait for
  the rate limiter, so ``claim_due(..., lease=, worker=)`` *leases* the batch (``claimed_until``,
  ``claimed_by``) and commits. Each message is then sent and its outcome recorded at once in its
  own short unit of work (``load_claimed`` + ``mark_sent`` / ``mark_failed`` / ``park``), so
  that a worker dying mid-batch leaves only unsent rows behind, which are claimed again when
  the lease runs out, or at once by the next holder of the channel's sender lock
  (``release_leases``, which leaves the leases of owners still alive alone).

A message that fails is retried with exponential backoff and parked after ``MAX_ATTEMPTS``
tries, the reason kept in ``last_error``; none is dropped silently. ``stale_reason`` names
messages that must not be sent any more (a reminder of an appointment that started, was
cancelled or moved): they are parked with that reason instead.

A message that is done (sent, or parked for good) keeps no content: ``mark_sent`` and ``park``
empty its payload (a reply's text, a new backup code in it, a notification's data), and the row
keeps what ordering and an operator need: kind, channel, address, status, tries, times and the
reason it was parked.

On PostgreSQL the claim is ``SELECT ... FOR UPDATE SKIP LOCKED``: two dispatchers never take
the same row, and neither waits for the other. On SQLite a unit of work is exclusive anyway.

The dispatcher sees no row: a claim returns ``ClaimedMessage`` values (what a sender reads), and
the outcome is recorded by the message's id, in the unit of work that holds its claim (the row
is still locked there, and the session has it already).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import JSON, bindparam, case, exists, or_, select, update
from sqlalchemy.orm import aliased

from core.outbox.models import OutboxMessage, OutboxStatus
from core.outbox.reminders import REMINDER, reminder_stale_reason
from core.outbox.service import OutboxItem
from core.statements import Prepared
from core.uow import UnitOfWork

__all__ = [
    "FIRST_BACKOFF",
    "LIVE_CHAT_KINDS",
    "MAX_ATTEMPTS",
    "MAX_BACKOFF",
    "ClaimedMessage",
    "Held",
    "backoff",
    "claim_due",
    "defer",
    "load_claimed",
    "mark_failed",
    "mark_sent",
    "mark_sent_leased",
    "park",
    "queue_behind",
    "release_leases",
    "stale_reason",
    "worker_name",
]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 8
# The kinds of a live chat with an agent (``core.handoff.service``), claimed before every other
# kind: a person in a chat waits for each of these, a notice of a place in line or of a case
# can wait a second longer.
LIVE_CHAT_KINDS: Final = (
    "handoff_claimed",
    "agent_message",
    "handoff_transferred",
    "handoff_closed",
)
"""Tries in all before a message is parked (with the backoff below: about an hour of trying)."""
FIRST_BACKOFF: Final = timedelta(seconds=30)
MAX_BACKOFF: Final = timedelta(minutes=30)
ERROR_LENGTH: Final = 500  # last_error is for an operator, not a log


@dataclass(frozen=True, slots=True)
class ClaimedMessage:
    """A claimed outbox message as the dispatcher and its senders read it (an ``OutboxItem``).

    Attributes:
        id: the row's id: record the outcome with it.
        kind: what happened (``case_status_changed``, ...).
        channel: the channel that sends it.
        address: the chat id (or email address) on that channel.
        payload: the notification's data (a copy: changing it changes nothing stored).
        attempts: failed tries so far.
    """

    id: int
    kind: str
    channel: str
    address: str
    payload: dict[str, Any] = field(repr=False)
    attempts: int

    @classmethod
    def of(cls, row: OutboxMessage) -> ClaimedMessage:
        return cls(
            id=row.id,
            kind=row.kind,
            channel=row.channel,
            address=row.address,
            payload=dict(row.payload),
            attempts=row.attempts,
        )


@dataclass(frozen=True, slots=True)
class Held:
    """A claimed message a channel's rules keep from going now: until when (None: never,
    it is parked), and why (kept on the row for an operator)."""

    until: datetime | None
    reason: str


def backoff(
    attempts: int, *, first: timedelta = FIRST_BACKOFF, cap: timedelta = MAX_BACKOFF
) -> timedelta:
    """The wait after the ``attempts``-th failed try: ``first``, doubled each try, at most
    ``cap``."""
    if attempts < 1:
        raise ValueError("attempts starts at 1")
    return min(cap, first * (1 << min(attempts - 1, 30)))


async def claim_due(
    uow: UnitOfWork,
    *,
    channel: str,
    limit: int,
    now: datetime,
    lease: timedelta | None = None,
    worker: str | None = None,
    address: str | None = None,
    live: bool | None = None,
) -> list[ClaimedMessage]:
    """Lock up to ``limit`` pending messages of a channel that are due at ``now``, the live
    chat's first (``LIVE_CHAT_KINDS``: an agent's message never waits behind the notices of a
    moving line or of cases), then oldest due first, for the rest of this unit of work; rows
    another worker has leased are left alone. The live chat's messages keep their order among
    themselves, and the others theirs.
    With ``address``, only the messages to that address (a process that sends one chat).
    With ``live=True``, only the live chat's messages, and of each chat only the oldest one
    still pending: a claimer running at the same time (another worker's live lane, whose rows
    ``SKIP LOCKED`` passes over) can never deliver a chat's later message before its earlier
    one. With ``live=False``, every kind but the live chat's (the dispatcher's two lanes of a
    channel delivered in transactions, ``bot.notify.dispatcher``).

    With ``lease`` and ``worker`` the rows are also leased to ``worker`` until ``now + lease``
    (the caller commits the lease before sending). Rows of an expired lease, and rows leased
    by ``worker`` itself before (a pass of its own that failed half-way), are claimed again.

    On PostgreSQL rows locked by another dispatcher are skipped (``FOR UPDATE SKIP LOCKED``).

    Raises:
        ValueError: only one of ``lease`` and ``worker`` was given.
    """
    if (lease is None) != (worker is None):
        raise ValueError("a lease needs a worker name, and a worker name a lease")
    free = [OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now]
    if worker is not None:
        free.append(OutboxMessage.claimed_by == worker)
    statement = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.channel == channel,
            OutboxMessage.next_attempt_at <= now,
            or_(*free),
            *([OutboxMessage.address == address] if address is not None else []),
            *_lane(live),
        )
        .order_by(
            case((OutboxMessage.kind.in_(LIVE_CHAT_KINDS), 0), else_=1),
            OutboxMessage.next_attempt_at,
            OutboxMessage.id,
        )
        .limit(limit)
    )
    if uow.dialect == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    messages = list(await uow.session.scalars(statement))
    if lease is not None and messages:
        for message in messages:
            message.claimed_until = now + lease
            message.claimed_by = worker
        await uow.flush()
    return [ClaimedMessage.of(message) for message in messages]


def _lane(live: bool | None) -> list[Any]:
    """The conditions of ``claim_due``'s ``live`` lanes (none without one)."""
    if live is None:
        return []
    if not live:
        return [OutboxMessage.kind.not_in(LIVE_CHAT_KINDS)]
    earlier = aliased(OutboxMessage)
    return [
        OutboxMessage.kind.in_(LIVE_CHAT_KINDS),
        ~exists().where(
            earlier.channel == OutboxMessage.channel,
            earlier.address == OutboxMessage.address,
            earlier.status == OutboxStatus.PENDING,
            earlier.kind.in_(LIVE_CHAT_KINDS),
            earlier.id < OutboxMessage.id,
        ),
    ]


async def load_claimed(uow: UnitOfWork, message_id: int, *, worker: str) -> ClaimedMessage | None:
    """A message leased to ``worker`` and still pending, locked for this unit of work; None
    when the lease was lost (it ran out and another worker claimed the row)."""
    statement = select(OutboxMessage).where(
        OutboxMessage.id == message_id,
        OutboxMessage.claimed_by == worker,
        OutboxMessage.status == OutboxStatus.PENDING,
    )
    if uow.dialect == "postgresql":
        statement = statement.with_for_update()
    message: OutboxMessage | None = await uow.session.scalar(
        statement.execution_options(populate_existing=True)
    )
    return ClaimedMessage.of(message) if message is not None else None


async def _claimed_row(uow: UnitOfWork, message_id: int) -> OutboxMessage:
    """The row of a message this unit of work has claimed (``claim_due`` or ``load_claimed``:
    the session holds it already, so this reads nothing).

    Raises:
        LookupError: no such message (it was never claimed).
    """
    message = await uow.session.get(OutboxMessage, message_id)
    if message is None:
        raise LookupError(f"no outbox message {message_id}")
    return message


async def queue_behind(
    uow: UnitOfWork, message_ids: Sequence[int], *, failed_id: int, worker: str
) -> int:
    """Put a chat's messages that were to follow a failed one back in the queue behind it:
    their lease (``worker``'s) ends and they are due when it is, so they go out after it, in
    order, and are not tried (and counted as failed) while it cannot go. Returns how many.
    """
    failed = await uow.session.get(OutboxMessage, failed_id)
    due = failed.next_attempt_at if failed is not None else uow.clock.now()
    queued = 0
    for message_id in message_ids:
        if await load_claimed(uow, message_id, worker=worker) is not None:
            message = await _claimed_row(uow, message_id)
            _end_lease(message)
            message.next_attempt_at = due
            queued += 1
    await uow.flush()
    return queued


async def release_leases(
    uow: UnitOfWork,
    *,
    channel: str,
    worker: str,
    is_alive: Callable[[str], Awaitable[bool]],
) -> int:
    """End the leases on the channel's pending rows whose owner is gone (the caller has just
    become the channel's sender, and a killed sender or worker leaves rows leased to a name
    nobody answers to any more); returns how many rows were released.

    Rows leased by ``worker`` (the caller) and by every owner ``is_alive`` says is alive (a
    live worker sending its turn's replies) keep their lease: releasing them would have them
    sent twice. Those of a live owner that fails to send are released when the lease runs out.

    Raises:
        whatever ``is_alive`` raises (the database cannot be reached).
    """
    pending = (
        OutboxMessage.channel == channel,
        OutboxMessage.status == OutboxStatus.PENDING,
    )
    owners = await uow.session.scalars(
        select(OutboxMessage.claimed_by)
        .where(*pending, OutboxMessage.claimed_by.is_not(None), OutboxMessage.claimed_by != worker)
        .distinct()
    )
    gone = [owner for owner in owners.all() if owner is not None and not await is_alive(owner)]
    if not gone:
        return 0
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(*pending, OutboxMessage.claimed_by.in_(gone))
        .values(claimed_until=None, claimed_by=None)
        .returning(OutboxMessage.id)
    )
    released = len(result.all())
    if released:
        logger.warning(
            "outbox: took over %d %s message(s) left by %d gone worker(s)",
            released,
            channel,
            len(gone),
        )
    return released


def worker_name() -> str:
    """This process's name on the rows it leases: host, pid and a random part."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def _end_lease(message: OutboxMessage) -> None:
    message.claimed_until = None
    message.claimed_by = None


async def mark_sent(uow: UnitOfWork, message_id: int, *, now: datetime) -> None:
    """Record that a message this unit of work claimed was delivered, and forget what it
    said."""
    message = await _claimed_row(uow, message_id)
    message.status = OutboxStatus.SENT
    message.attempts += 1
    message.sent_at = now
    message.last_error = None
    message.payload = {}
    _end_lease(message)
    await uow.flush()


_MARK_SENT_AT_ONCE: Final = 16
"""Rows one prepared mark-sent statement names at most (a turn's replies are far fewer)."""
_MARK_SENT: dict[int, Prepared] = {}


def _mark_sent_statement(count: int) -> Prepared:
    """``UPDATE ... WHERE id IN (:id0, ... :idN) AND claimed_by = :worker``, built and compiled
    once per count of rows (a prepared statement takes no expanding ``IN`` parameter)."""
    found = _MARK_SENT.get(count)
    if found is None:
        found = _MARK_SENT[count] = Prepared(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_([bindparam(f"id{n}") for n in range(count)]),
                OutboxMessage.claimed_by == bindparam("worker"),
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(
                status=OutboxStatus.SENT,
                attempts=OutboxMessage.attempts + 1,
                sent_at=bindparam("now"),
                last_error=None,
                payload=bindparam("empty", type_=JSON),
                claimed_until=None,
                claimed_by=None,
            )
        )
    return found


async def mark_sent_leased(
    uow: UnitOfWork, message_ids: Sequence[int], *, worker: str, now: datetime
) -> None:
    """Record that messages leased to ``worker`` were delivered, and forget what they said, in
    one statement with no read first (``mark_sent`` is the dispatcher's, for rows it loaded).

    A row no longer leased to ``worker`` (its lease ran out and another worker claimed it) or
    no longer pending is left alone: whoever holds it now records its outcome.
    """
    for start in range(0, len(message_ids), _MARK_SENT_AT_ONCE):
        chunk = message_ids[start : start + _MARK_SENT_AT_ONCE]
        params: dict[str, Any] = {f"id{n}": row_id for n, row_id in enumerate(chunk)}
        params |= {"worker": worker, "now": now, "empty": {}}
        await uow.execute(_mark_sent_statement(len(chunk)), params)


async def park(uow: UnitOfWork, message_id: int, *, reason: str, now: datetime) -> None:
    """Give up for good on a message this unit of work claimed, keeping why (a stale reminder,
    a chat that blocked the bot, too many failures) but not what it said: it is never sent."""
    message = await _claimed_row(uow, message_id)
    message.status = OutboxStatus.PARKED
    message.last_error = reason[:ERROR_LENGTH]
    message.payload = {}
    message.next_attempt_at = now
    _end_lease(message)
    await uow.flush()
    logger.warning(
        "outbox %s (%s, %s) parked: %s", message.id, message.kind, message.channel, reason
    )


async def defer(uow: UnitOfWork, message_id: int, *, until: datetime, reason: str) -> None:
    """Put a message this unit of work claimed back in the queue until ``until`` (a text in
    the person's quiet hours): not a failure, so no try is counted."""
    message = await _claimed_row(uow, message_id)
    message.next_attempt_at = until
    message.last_error = f"deferred: {reason}"[:ERROR_LENGTH]
    _end_lease(message)
    await uow.flush()


async def mark_failed(
    uow: UnitOfWork,
    message_id: int,
    *,
    error: str,
    now: datetime,
    max_attempts: int = MAX_ATTEMPTS,
) -> bool:
    """Record a failed try of a message this unit of work claimed: it stays pending and is due
    again after the backoff, or is parked once it has failed ``max_attempts`` times. ``error``
    is kept in ``last_error``.

    Returns:
        True when the message was parked.
    """
    message = await _claimed_row(uow, message_id)
    message.attempts += 1
    if message.attempts >= max_attempts:
        await park(
            uow,
            message_id,
            reason=f"gave up after {message.attempts} attempts: {error}",
            now=now,
        )
        return True
    message.last_error = error[:ERROR_LENGTH]
    message.next_attempt_at = now + backoff(message.attempts)
    _end_lease(message)
    await uow.flush()
    logger.info(
        "outbox %s failed (try %d of %d), next try at %s",
        message.id,
        message.attempts,
        max_attempts,
        message.next_attempt_at.isoformat(),
    )
    return False


async def stale_reason(uow: UnitOfWork, message: OutboxItem, *, now: datetime) -> str | None:
    """Why a claimed message must not be sent any more (see ``reminder_stale_reason``), or
    None to send it."""
    if message.kind == REMINDER:
        return await reminder_stale_reason(uow, message, now=now)
    return None
