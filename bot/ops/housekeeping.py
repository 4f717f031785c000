"""Housekeeping in ``casebot serve``: once an hour, delete what has expired.

- web chat sessions unused for longer than their idle expiry (24 hours by default), with their
  transcripts, files, conversations, sign-in links and case subscriptions;
- rate-limit windows that started more than two days ago (the longest window is a day);
- console sessions of staff past their idle or absolute expiry (a console closed without
  signing out);
- notifications and replies sent more than 30 days ago (their dedupe keys stop the same
  notification being queued twice only while its cause is fresh: a status event, an
  appointment's reminder or closure; every one of them is long past by then), and the delivery
  records of text messages as old (the numbers that replied STOP stay).

Each kind is deleted in batches, one short transaction each, with a pass of the event loop in
between: on SQLite the chat turns waiting for the write lock go first. With several workers on
PostgreSQL one of them at a time does it (an advisory lock); the others skip that hour.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from core import ratelimit
from core.contacts.service import purge_unconfirmed
from core.housekeeping import purge_idle_web_sessions
from core.locks import HOUSEKEEPING_LOCKS, AdvisoryLock
from core.outage import is_database_unavailable
from core.outbox.service import purge_sent
from core.sms.service import purge_deliveries
from core.staff.sessions import purge_expired_staff_sessions
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = ["EVERY", "FIRST_AFTER", "OUTBOX_KEPT", "RATE_LIMITS_KEPT", "Housekeeper", "Purged"]

logger = logging.getLogger(__name__)

EVERY: Final = 3600.0  # seconds between passes
FIRST_AFTER: Final = 60.0  # the first pass, after start-up has settled
RATE_LIMITS_KEPT: Final = timedelta(days=2)
OUTBOX_KEPT: Final = timedelta(days=30)
UNCONFIRMED_KEPT: Final = timedelta(days=1)  # an address whose code was never typed back
BATCH: Final = 500

Purge = Callable[[UnitOfWork, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Purged:
    """What one pass deleted."""

    web_sessions: int
    rate_limit_windows: int
    sent_notifications: int = 0
    staff_sessions: int = 0
    sms_deliveries: int = 0
    unconfirmed_contacts: int = 0


@dataclass
class Housekeeper:
    """Deletes expired rows on a schedule (``start``/``stop``) or at once (``run_once``).

    Args:
        uow_factory: units of work on the database.
        session_expiry: how long a web chat session may go unused (``WebChatConfig``).
        every: seconds between passes; first_after: seconds before the first.
        batch: rows deleted per transaction.
    """

    uow_factory: UnitOfWorkFactory
    session_expiry: timedelta
    every: float = EVERY
    first_after: float = FIRST_AFTER
    batch: int = BATCH
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    async def run_once(self) -> Purged | None:
        """One pass; None when another worker holds the housekeeping lock.

        Raises:
            sqlalchemy.exc.SQLAlchemyError, OSError: the database failed (the pass stops; what
                was deleted stays deleted).
        """
        lock = AdvisoryLock(self.uow_factory.db, HOUSEKEEPING_LOCKS, 0)
        if not await lock.try_acquire():
            return None
        try:
            sessions = await self._drain(
                lambda uow, now: purge_idle_web_sessions(
                    uow, seen_before=now - self.session_expiry, limit=self.batch
                )
            )
            windows = await self._drain(
                lambda uow, now: ratelimit.purge_expired(
                    uow, before=now - RATE_LIMITS_KEPT, limit=self.batch
                )
            )
            sent = await self._drain(
                lambda uow, now: purge_sent(uow, sent_before=now - OUTBOX_KEPT, limit=self.batch)
            )
            staff = await self._drain(
                lambda uow, now: purge_expired_staff_sessions(uow, now, limit=self.batch)
            )
            deliveries = await self._drain(
                lambda uow, now: purge_deliveries(
                    uow, updated_before=now - OUTBOX_KEPT, limit=self.batch
                )
            )
            unconfirmed = await self._drain(
                lambda uow, now: purge_unconfirmed(
                    uow, created_before=now - UNCONFIRMED_KEPT, limit=self.batch
                )
            )
        finally:
            await lock.release()
        if unconfirmed:
            logger.info("housekeeping: deleted %d unconfirmed contact point(s)", unconfirmed)
        if sessions or windows or sent or staff or deliveries:
            logger.info(
                "housekeeping: deleted %d idle web chat session(s), %d old rate-limit window(s),"
                " %d notification(s) sent over %d days ago, %d expired console session(s)"
                " and %d text delivery record(s)",
                sessions,
                windows,
                sent,
                OUTBOX_KEPT.days,
                staff,
                deliveries,
            )
        return Purged(sessions, windows, sent, staff, deliveries, unconfirmed)

    async def _drain(self, purge: Purge) -> int:
        total = 0
        while True:
            async with self.uow_factory() as uow:
                gone = await purge(uow, uow.clock.now())
                await uow.commit()
            total += gone
            if gone < self.batch:
                return total
            await asyncio.sleep(0)  # the turns waiting for the database first

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._forever(), name="casebot-housekeeping")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _forever(self) -> None:
        delay = self.first_after
        while True:
            await asyncio.sleep(delay)
            delay = self.every
            try:
                await self.run_once()
            except Exception as exc:  # the next pass tries again; the server goes on
                if is_database_unavailable(exc):
                    logger.warning("housekeeping: the database is unavailable; trying later")
                else:
                    logger.exception("housekeeping failed")
