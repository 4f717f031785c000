"""The outbox dispatcher: one loop per channel that sends notifications, in every worker.

Every pass of a channel queues the appointment reminders that are due, claims the channel's due
rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never take the same row), lets the
channel's sender screen them (``ExternalSender.screen``: a text in the person's quiet hours is
deferred, one to a number that replied STOP is parked), parks the stale ones (a reminder of an
appointment that started, moved or was cancelled) and those this version cannot word, renders
the others in the recipient's language *now* (``bot.notify.notifications``), delivers them, and
records each outcome: sent, failed (due again after a backoff), or parked after too many
failures or a permanent refusal, the reason kept on the row.

Two kinds of channel, two ways to be exactly once:

- A ``TransactionalSender`` delivers into the database (the web chat: a notification is a
  message of the session's transcript, which the open WebSocket is then told about). The
  delivery, the ``sent`` mark and the idempotency key (the outbox id stored on the transcript
  message, unique) commit in one transaction. A worker killed at any point delivers either the
  whole batch or nothing of it; the rows stay pending and another pass delivers them. Exactly
  once, with no window. Every worker dispatches these channels.
- An ``ExternalSender`` sends over the network (Telegram). The rows are leased and the lease
  committed; each message is then sent and its ``sent`` mark committed at once, one message at
  a time per chat, before that chat's next message goes out. A worker that dies leaves only
  the messages it had not confirmed: those still leased are released by the next holder of the
  channel's sender lock (below) or when the lease runs out, and sent again. What no client of
  the Bot API can close is the moment between Telegram accepting a message and the worker
  committing its mark (``sendMessage`` takes no idempotency key, and a bot cannot read what it
  sent): a worker that dies exactly then leaves a row that is sent a second time. Committing
  per message keeps that window to one database round trip per message (about a millisecond);
  at-least-once is chosen over at-most-once there, since a repeated status notice costs less
  than a lost one.

A channel whose rate is the whole bot's (``exclusive``: Telegram's 30 messages a second for one
bot) is sent by one worker at a time: the one holding the channel's PostgreSQL advisory lock
(``core.locks.AdvisoryLock``, on a connection held open). The others try again every pass and
take over when the holder stops or dies (the server releases the lock with its connection);
the new holder first releases the leases their owners left: those of owners that are gone.
Every process holds a presence lock (``core.locks.presence_lock``) under each name it leases
rows with (this dispatcher's ``worker``, the Telegram channel's replies), from before its first
lease until it stops, and loses it with its connection when killed; so a lease whose owner is
alive (another worker sending its turn's replies, or this one) is never released under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from bot.dialogs.model import Reply
from bot.notify.notifications import UnknownNotification, render_message
from bot.notify.senders import ExternalSender, PermanentFailure, Sender, TransactionalSender
from bot.ops.metrics import CasebotMetrics
from core.clock import Clock
from core.locks import SENDER_LOCKS, AdvisoryLock, is_present, key_of, presence_lock
from core.outage import OutageWatch
from core.outbox.dispatch import (
    MAX_ATTEMPTS,
    ClaimedMessage,
    claim_due,
    defer,
    load_claimed,
    mark_failed,
    mark_sent,
    park,
    queue_behind,
    release_leases,
    stale_reason,
    worker_name,
)
from core.outbox.reminders import queue_reminders
from core.outbox.wake import NOTIFY_CHANNEL as WAKE_CHANNEL
from core.outbox.wake import wake_of
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "ExternalSender",
    "OutboxDispatcher",
    "PassReport",
    "PermanentFailure",
    "Sender",
    "TransactionalSender",
    "worker_name",
]

logger = logging.getLogger(__name__)

INTERVAL: Final = 1.0  # seconds between passes of a channel with nothing to send
# (a row committed meanwhile wakes the channel at once: ``core.outbox.wake``)
RECONNECT_FIRST: Final = 0.5  # the wake-up listener's backoff when its connection drops
RECONNECT_MAX: Final = 30.0
BATCH: Final = 50
# Rows of a transactional channel delivered in one transaction: the longest a message of the
# live chat committed during a pass waits for its turn (it is claimed first by the next one).
TRANSACTION_ROWS: Final = 10
LEASE: Final = timedelta(minutes=2)  # longer than a batch takes at Telegram's 30 messages/s


@dataclass
class PassReport:
    """What one pass of a channel did."""

    queued: int = 0  # reminders written
    claimed: int = 0
    sent: int = 0
    failed: int = 0  # pending again, after a backoff
    parked: int = 0
    deferred: int = 0  # not due yet after all (a text in quiet hours): pending, no try counted
    lost_lease: int = 0  # not sent: the lease ran out first (claimed again later)


class OutboxDispatcher:
    """Sends the outbox of several channels; ``start`` runs one loop per channel.

    Args:
        uow_factory: units of work on the casebot database.
        clock: the time that decides what is due.
        senders: one per channel.
        metrics: where sent / failed / parked are counted (None: not counted).
        interval: seconds between passes when a channel has no backlog.
        batch: rows one pass claims.
        lease: how long an external sender's claim holds.
        max_attempts: tries before a row is parked.
        worker: the name on leased rows (default: ``worker_name()``).

    Raises:
        ValueError: two senders for one channel.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        senders: Sequence[Sender],
        *,
        metrics: CasebotMetrics | None = None,
        interval: float = INTERVAL,
        batch: int = BATCH,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
        worker: str | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.senders = {sender.channel: sender for sender in senders}
        if len(self.senders) != len(senders):
            raise ValueError("one sender per channel")
        self.metrics = metrics
        self.interval = interval
        self.batch = batch
        self.lease = lease
        self.max_attempts = max_attempts
        self.worker = worker or worker_name()
        self._locks: dict[str, AdvisoryLock] = {
            channel: AdvisoryLock(uow_factory.db, SENDER_LOCKS, key_of(channel))
            for channel, sender in self.senders.items()
            if isinstance(sender, ExternalSender) and sender.exclusive
        }
        # Held from this dispatcher's first lease until it stops (see the module docstring).
        self._presence = presence_lock(uow_factory.db, self.worker)
        self._tasks: list[asyncio.Task[None]] = []
        self._wake = wake_of(uow_factory.db)
        self._listening = asyncio.Event()
        self._connection: Any = None  # asyncpg.Connection (untyped): LISTEN for wake-ups

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run every channel's loop in the background until ``stop``."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(self._loop(channel), name=f"outbox-{channel}")
                for channel in self.senders
            ]
            self._tasks += [  # the live chat's own lane: never behind a batch of notices
                asyncio.create_task(self._loop(channel, live=True), name=f"outbox-{channel}-live")
                for channel, sender in self.senders.items()
                if isinstance(sender, TransactionalSender)
            ]
            if self.uow_factory.db.dialect == "postgresql":
                self._tasks.append(asyncio.create_task(self._listen(), name="outbox-wake"))
            else:
                self._listening.set()  # one process: the in-process wake-up is all there is

    async def listening(self) -> None:
        """Until the dispatcher hears other workers' wake-ups (PostgreSQL: its LISTEN is on)."""
        await self._listening.wait()

    async def stop(self) -> None:
        """Stop the loops (a pass cut short leaves its rows pending) and give up the sender
        locks, so another worker takes over at once."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_listener()
        for channel, lock in self._locks.items():
            await lock.release()
            self._gauge(channel, held=False)
        await self._presence.release()  # its leases may be released now: it sends no more

    async def _loop(self, channel: str, *, live: bool = False) -> None:
        """Pass after pass over a channel's due rows, woken by a commit or after ``interval``.
        A channel delivered in transactions runs two of these: the live chat's lane
        (``live``: an agent's message waits for no batch of other notices) and the rest."""
        lane = "live" if live else ""
        outage = OutageWatch(logger, f"outbox {channel} {lane}".strip())
        woken = self._wake.event(channel, lane)
        split = isinstance(self.senders[channel], TransactionalSender)
        while True:
            woken.clear()  # a row committed from here on wakes the next wait
            backlog = False
            try:
                if live:
                    report = await self.run_live(channel)
                    backlog = report.claimed >= self.batch
                elif await self.holds_sender_lock(channel):
                    report = await self.run_once(channel, live=False if split else None)
                    backlog = report.claimed >= self.batch
                outage.passed()
            except Exception as error:
                # A database hiccup must not end notifications for the life of the process.
                if not outage.failed(error):
                    logger.exception("outbox %s: the pass failed", channel)
            if not backlog:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), self.interval)

    # --- wake-ups from other workers (PostgreSQL) --------------------------------------------

    async def _listen(self) -> None:
        """LISTEN for the rows other workers commit, on a connection of its own; reconnect
        with a backoff when it drops (meanwhile the periodic passes send everything, later)."""
        import asyncpg  # type: ignore[import-untyped]

        pause = RECONNECT_FIRST
        while True:
            lost = asyncio.Event()
            try:
                connection = await asyncpg.connect(self.uow_factory.db.driver_dsn())
                self._connection = connection
                connection.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await connection.add_listener(WAKE_CHANNEL, self._on_notify)
            except Exception as exc:  # any failure: try again later, never give up
                logger.warning("outbox: listening for wake-ups failed (%s)", type(exc).__name__)
                await self._close_listener()
                await asyncio.sleep(pause)
                pause = min(pause * 2, RECONNECT_MAX)
                continue
            pause = RECONNECT_FIRST
            self._listening.set()
            for channel in self.senders:  # what was committed while nobody listened
                self._wake.wake(channel)
            await lost.wait()
            logger.warning("outbox: the wake-up connection dropped; reconnecting")
            self._listening.clear()
            await self._close_listener()
            await asyncio.sleep(pause)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._wake.wake(payload)

    async def _close_listener(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def holds_sender_lock(self, channel: str) -> bool:
        """Whether this worker may send the channel now: always for a channel any worker may
        send; for an exclusive one, when it holds (or has just taken) the sender lock. Then
        the leases of owners that are gone are released (``release_leases``): on taking the
        lock, and on every pass after, since a worker killed while this one holds the lock
        leaves its turn's replies leased too, which would wait for the lease to run out."""
        lock = self._locks.get(channel)
        if lock is None:
            return True
        if lock.held and not await lock.still_held():
            logger.warning("outbox %s: lost the sender lock", channel)
            self._gauge(channel, held=False)
        if not lock.held:
            if not await lock.try_acquire():
                return False
            logger.info("outbox %s: this worker (%s) is the sender now", channel, self.worker)
            self._gauge(channel, held=True)
        async with self.uow_factory() as uow:
            await release_leases(
                uow,
                channel=channel,
                worker=self.worker,
                is_alive=lambda owner: is_present(self.uow_factory.db, owner),
            )
            await uow.commit()
        return True

    def _gauge(self, channel: str, *, held: bool) -> None:
        if self.metrics is not None:
            self.metrics.sender_lock.labels(channel=channel).set(1 if held else 0)

    # --- one pass ---------------------------------------------------------------------------

    async def run_once(self, channel: str, *, live: bool | None = None) -> PassReport:
        """Queue due reminders, then deliver one batch of the channel's due rows (of one lane
        with ``live``: see ``claim_due``).

        The caller makes sure this worker may send the channel (``holds_sender_lock``); tests
        call it directly.
        """
        report = PassReport()
        async with self.uow_factory() as uow:
            report.queued = await queue_reminders(uow, now=self.clock.now())
            await uow.commit()
        sender = self.senders[channel]
        if isinstance(sender, TransactionalSender):
            await self._transactional_pass(sender, report, live)
        else:
            await self._external_pass(sender, report)
        self._count(channel, report)
        return report

    async def run_live(self, channel: str) -> PassReport:
        """Deliver one batch of the live chat's due rows of a channel delivered in
        transactions (its live lane; no reminders are queued here)."""
        report = PassReport()
        sender = self.senders[channel]
        if isinstance(sender, TransactionalSender):
            await self._transactional_pass(sender, report, True)
            self._count(channel, report)
        return report

    def _count(self, channel: str, report: PassReport) -> None:
        if self.metrics is not None:
            self.metrics.notification(channel, "sent", report.sent)
            self.metrics.notification(channel, "failed", report.failed)
            self.metrics.notification(channel, "parked", report.parked)
            self.metrics.notification(channel, "deferred", report.deferred)
        if report.claimed or report.queued:
            logger.info("outbox %s: %s", channel, report)

    async def _render(
        self, uow: UnitOfWork, message: ClaimedMessage, report: PassReport, problem: str | None
    ) -> Reply | None:
        """The message worded for its recipient, or None after parking it."""
        now = self.clock.now()
        reason = problem or await stale_reason(uow, message, now=now)
        if reason is None:
            try:
                return await render_message(uow, message)
            except UnknownNotification as exc:
                reason = str(exc)
        await park(uow, message.id, reason=reason, now=now)
        report.parked += 1
        return None

    async def _transactional_pass(
        self, sender: TransactionalSender, report: PassReport, live: bool | None
    ) -> None:
        """The batch in transactions of ``TRANSACTION_ROWS`` rows, each committed (and pushed)
        before the next is claimed: a message of the live chat committed meanwhile is claimed
        first by the next one (``claim_due``), instead of waiting for the whole batch. The live
        lane claims one message per chat at a time, so it goes on while a transaction found
        any (a chat's next message is due once the one before it is sent)."""
        while report.claimed < self.batch:
            limit = min(TRANSACTION_ROWS, self.batch - report.claimed)
            found = await self._transaction(sender, report, limit, live)
            if found == 0 or (found < limit and not live):
                return

    async def _transaction(
        self, sender: TransactionalSender, report: PassReport, limit: int, live: bool | None
    ) -> int:
        sent = report.sent
        async with self.uow_factory() as uow:
            now = self.clock.now()
            claimed = await claim_due(uow, channel=sender.channel, limit=limit, now=now, live=live)
            report.claimed += len(claimed)
            for message in claimed:
                reply = await self._render(uow, message, report, None)
                if reply is None:
                    continue
                try:
                    # A savepoint: a delivery that fails is undone alone, the batch goes on.
                    async with self.uow_factory() as attempt:
                        await sender.deliver(attempt, message, reply)
                        await attempt.commit()
                except PermanentFailure as exc:
                    await park(uow, message.id, reason=str(exc), now=now)
                    report.parked += 1
                    continue
                except Exception as exc:
                    logger.exception("outbox %s: delivering %s failed", sender.channel, message.id)
                    parked = await mark_failed(
                        uow,
                        message.id,
                        error=_describe(exc),
                        now=now,
                        max_attempts=self.max_attempts,
                    )
                    report.parked += parked
                    report.failed += not parked
                    continue
                await mark_sent(uow, message.id, now=now)
                report.sent += 1
            await uow.commit()
        if report.sent > sent:
            await sender.after_commit()
        return len(claimed)

    async def _external_pass(self, sender: ExternalSender, report: PassReport) -> None:
        ready: list[tuple[int, str, Reply]] = []
        await self._presence.try_acquire()  # before the first lease (a no-op once held)
        async with self.uow_factory() as uow:
            now = self.clock.now()
            claimed = await claim_due(
                uow,
                channel=sender.channel,
                limit=self.batch,
                now=now,
                lease=self.lease,
                worker=self.worker,
                address=sender.address,
            )
            report.claimed = len(claimed)
            held = await sender.screen(uow, claimed, now=now)
            for message in claimed:
                wait = held.get(message.id)
                if wait is not None:
                    if wait.until is None:
                        await park(uow, message.id, reason=wait.reason, now=now)
                        report.parked += 1
                    else:
                        await defer(uow, message.id, until=wait.until, reason=wait.reason)
                        report.deferred += 1
                    continue
                problem = sender.address_problem(message.address)
                reply = await self._render(uow, message, report, problem)
                if reply is not None:
                    ready.append((message.id, message.address, reply))
            await uow.commit()  # the leases (and the parked rows) before anything is sent
        expires = now + self.lease - timedelta(seconds=5)
        by_address: dict[str, list[tuple[int, Reply]]] = defaultdict(list)
        for message_id, address, reply in ready:
            by_address[address].append((message_id, reply))

        async def send_chat(address: str, items: list[tuple[int, Reply]]) -> None:
            # One chat's messages in order, each confirmed before the next goes out.
            for n, (message_id, reply) in enumerate(items):
                if self.clock.now() >= expires:
                    report.lost_lease += 1
                    continue  # leave it: the lease is about to end, another pass claims it
                try:
                    await sender.send_message(message_id, address, reply)
                except Exception as exc:  # kept on the row: nothing is lost
                    logger.warning(
                        "outbox %s: message %s failed: %s",
                        sender.channel,
                        message_id,
                        type(exc).__name__,
                    )
                    await self._record_failure(sender, message_id, exc, report)
                    if not sender.is_permanent(exc):
                        # The chat's later messages wait behind this one (order is kept).
                        await self._queue_behind(message_id, [i for i, _ in items[n + 1 :]])
                        return
                else:
                    await self._record_sent(sender, message_id, report)

        await asyncio.gather(*(send_chat(a, items) for a, items in by_address.items()))

    async def _record_sent(
        self, sender: ExternalSender, message_id: int, report: PassReport
    ) -> None:
        async with self.uow_factory() as uow:
            if await load_claimed(uow, message_id, worker=self.worker) is None:
                # Another worker took the row after our lease ran out: it may send it again.
                logger.error(
                    "outbox %s: sent %s after losing its lease", sender.channel, message_id
                )
                report.lost_lease += 1
                await sender.record_sent(uow, message_id)  # what the channel knows of it
                await uow.commit()
                return
            await mark_sent(uow, message_id, now=self.clock.now())
            await sender.record_sent(uow, message_id)
            await uow.commit()
        report.sent += 1

    async def _queue_behind(self, failed_id: int, message_ids: list[int]) -> None:
        if message_ids:
            async with self.uow_factory() as uow:
                await queue_behind(uow, message_ids, failed_id=failed_id, worker=self.worker)
                await uow.commit()

    async def _record_failure(
        self, sender: ExternalSender, message_id: int, error: BaseException, report: PassReport
    ) -> None:
        async with self.uow_factory() as uow:
            if await load_claimed(uow, message_id, worker=self.worker) is None:
                report.lost_lease += 1
                return
            now = self.clock.now()
            if sender.is_permanent(error):
                await park(uow, message_id, reason=_describe(error), now=now)
                report.parked += 1
            elif await mark_failed(
                uow, message_id, error=_describe(error), now=now, max_attempts=self.max_attempts
            ):
                report.parked += 1
            else:
                report.failed += 1
            await uow.commit()


def _describe(error: BaseException) -> str:
    if isinstance(error, PermanentFailure):
        return str(error)
    return f"{type(error).__name__}: {error}"
