"""Notifications on Telegram: a loop that sends the outbox's ``telegram`` rows with the bot.

Every ``interval`` seconds (at once again while there is a backlog) one pass:

1. queues the appointment reminders that are due (``core.outbox.reminders``), in its own short
   unit of work;
2. claims up to ``batch`` due ``telegram`` rows (``core.outbox.dispatch.claim_due``), parks the
   stale ones (a reminder of an appointment that started, was cancelled or moved) and those it
   cannot word, renders the others in each chat's language (``bot.notifications``);
3. sends them through the Application's bot, so the channel's rate limiter applies (one chat's
   messages in order, different chats concurrently);
4. marks each row sent, or failed (pending again after a backoff, parked after too many tries,
   or at once when Telegram refuses for good: the bot was blocked, the chat is gone), and
   commits.

Delivery is at least once, not exactly once: a row is marked sent in the unit of work that
claimed it, after the send succeeded, so a process that dies between the send and the commit
leaves the row pending and it is sent again by the next pass. Telegram has no idempotency key
for ``sendMessage``; exactly-once delivery across crashes is issue 7's dispatcher (a claim
lease, and a sent mark committed before the next message of that chat). On SQLite the pass's
unit of work holds the process's write lock while the batch is sent, so chat turns wait for it:
batches are kept small.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Final

from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.handlers.telegram import CHANNEL, TelegramChannel
from bot.model import Reply
from bot.notifications import UnknownNotification, render_message
from core.clock import Clock
from core.outbox.dispatch import MAX_ATTEMPTS, claim_due, mark_failed, mark_sent, park, stale_reason
from core.outbox.models import OutboxMessage
from core.outbox.reminders import queue_reminders
from core.uow import UnitOfWorkFactory

__all__ = ["PassReport", "TelegramNotifier"]

logger = logging.getLogger(__name__)

INTERVAL: Final = 5.0
BATCH: Final = 20
# Telegram's answers that no retry can change: the person blocked the bot or left, the chat
# does not exist (any more), the request itself is wrong.
PERMANENT: Final = (Forbidden, BadRequest, ChatMigrated)


@dataclass
class PassReport:
    """What one pass did."""

    queued: int = 0  # reminders written
    claimed: int = 0
    sent: int = 0
    failed: int = 0  # pending again, after a backoff
    parked: int = 0


class TelegramNotifier:
    """Sends the outbox's ``telegram`` rows with a running ``TelegramChannel``'s bot.

    Args:
        channel: the running channel (its Application's bot and rate limiter are used).
        uow_factory: units of work on the casebot database.
        clock: the time that decides what is due.
        interval: seconds between passes when there is no backlog.
        batch: rows claimed by one pass.
        max_attempts: tries before a row is parked.
    """

    def __init__(
        self,
        channel: TelegramChannel,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        interval: float = INTERVAL,
        batch: int = BATCH,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.channel = channel
        self.uow_factory = uow_factory
        self.clock = clock
        self.interval = interval
        self.batch = batch
        self.max_attempts = max_attempts
        self._task: asyncio.Task[None] | None = None

    # --- running ----------------------------------------------------------------------------

    def start(self) -> None:
        """Run passes in the background until ``stop``."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="telegram-notifier")

    async def stop(self) -> None:
        """Stop the loop; a pass cut short rolls back (its rows stay pending)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        while True:
            backlog = False
            try:
                report = await self.run_once()
                backlog = report.claimed >= self.batch
            except Exception:
                # A database hiccup must not end notifications for the life of the process.
                logger.exception("Telegram notifications: the pass failed")
            if not backlog:
                await asyncio.sleep(self.interval)

    # --- one pass ---------------------------------------------------------------------------

    async def run_once(self) -> PassReport:
        """Queue due reminders, then send one batch of due ``telegram`` rows (see the module)."""
        report = PassReport()
        async with self.uow_factory() as uow:
            report.queued = await queue_reminders(uow, now=self.clock.now())
            await uow.commit()
        async with self.uow_factory() as uow:
            now = self.clock.now()
            claimed = await claim_due(uow, channel=CHANNEL, limit=self.batch, now=now)
            report.claimed = len(claimed)
            ready: list[tuple[OutboxMessage, int, Reply]] = []
            for message in claimed:
                reason = await stale_reason(uow, message, now=now)
                if reason is None:
                    try:
                        reply = await render_message(uow, message)
                        ready.append((message, int(message.address), reply))
                        continue
                    except UnknownNotification as exc:
                        reason = str(exc)
                    except ValueError:
                        reason = "not a Telegram chat id"
                await park(uow, message, reason=reason, now=now)
                report.parked += 1
            outcomes = await self._send(ready)
            now = self.clock.now()
            for message, _chat_id, _reply in ready:
                error = outcomes.get(message.id)
                if error is None:
                    await mark_sent(uow, message, now=now)
                    report.sent += 1
                elif isinstance(error, PERMANENT):
                    await park(uow, message, reason=_describe(error), now=now)
                    report.parked += 1
                elif await mark_failed(
                    uow, message, error=_describe(error), now=now, max_attempts=self.max_attempts
                ):
                    report.parked += 1
                else:
                    report.failed += 1
            await uow.commit()
        if report.claimed or report.queued:
            logger.info("Telegram notifications: %s", report)
        return report

    async def _send(
        self, ready: list[tuple[OutboxMessage, int, Reply]]
    ) -> dict[int, BaseException | None]:
        """Send every message; one chat's in order, the chats concurrently. Returns each
        message's error, or None when it was sent."""
        by_chat: dict[int, list[tuple[OutboxMessage, Reply]]] = defaultdict(list)
        for message, chat_id, reply in ready:
            by_chat[chat_id].append((message, reply))
        outcomes: dict[int, BaseException | None] = {}

        async def send_chat(chat_id: int, items: list[tuple[OutboxMessage, Reply]]) -> None:
            for message, reply in items:
                try:
                    await self.channel.send_reply(chat_id, reply)
                    outcomes[message.id] = None
                except Exception as exc:  # kept on the row: nothing is lost
                    logger.warning(
                        "Telegram notification %s failed: %s", message.id, type(exc).__name__
                    )
                    outcomes[message.id] = exc

        await asyncio.gather(*(send_chat(chat, items) for chat, items in by_chat.items()))
        return outcomes


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
