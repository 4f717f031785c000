"""Telegram's webhook with several workers: updates stored first, then handled in order per chat.

Telegram's Bot API sends one chat's updates one at a time: the next only after the previous one
was answered (it keeps a queue per chat). Behind a load balancer, consecutive updates of a chat
may land on different workers. ``TelegramInbox.receive`` stores the update in the database
inbox (``core.inbox``) and commits *before* the webhook answers 200, so by the time Telegram
sends a chat's next update, the previous one is on record. Then the update is handled:

1. ``drain(chat)`` takes the chat's advisory lock (``core.locks``, one worker per chat; it
   never waits: when another worker holds it, that worker handles our update too);
2. while the lock is held it handles the chat's pending updates lowest ``update_id`` first,
   each through the Application (the turn, then its replies sent); the turn marks its update
   handled in its own transaction (the update, the turn and its kept replies are committed
   together), and an update that ran no turn (a duplicate, a failed turn) is marked after.
   In the common case the update just stored is the chat's only pending one (the store's
   transaction reads the chat's lowest pending ``update_id``): then it is handled as parsed
   at receipt, not read back from the inbox;
3. it releases the lock and looks once more: an update stored while it held the lock, whose
   worker could not take the lock, is handled now.

So a chat's turns run in ``update_id`` order and their replies go out in that order, whichever
worker got each update. An update delivered twice finds its row and is answered 200 without
being handled again; one still pending (its worker died before answering 200) is handled by the
worker it reached now. A worker that dies with updates stored but not handled leaves them to
the others' sweeper (every few seconds: chats with an update pending for a while), and to
whichever worker starts next: a starting worker handles every update pending at once (a single
server restarted after a kill has no one else, and Telegram does not send again an update it
had answered 200). A worker that dies after a turn committed has marked its update handled in
that commit, and the turn's replies are in the outbox with it (``bot/notify/reply_outbox.py``):
nothing runs again, nothing is lost. An update left pending after its turn committed all the
same (one stored by hand, or handled outside the inbox, or by another worker between its store
and this worker's lock) is covered by the engine: the conversation records the last
``update_id`` in the turn's transaction, so the update is recognised as handled
(``duplicate``). An update older than one already handled in its chat (which Telegram's
per-chat order rules out, but a hand-made request may do) is recognised the same way and
counted as ``late``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any, Final

from telegram import Update
from telegram.ext import Application

from bot.channels.telegram.updates import parse_update
from bot.ops.metrics import CasebotMetrics
from core.conversations import last_update_id
from core.inbox import (
    DUPLICATE,
    HANDLED,
    LATE,
    first_pending_ids,
    has_pending,
    mark_handled,
    next_pending,
    purge_handled,
    stale_chats,
    store_update,
)
from core.locks import CHAT_LOCKS, AdvisoryLock, key_of
from core.outage import DatabaseUnavailable, is_database_unavailable
from core.uow import UnitOfWorkFactory

__all__ = ["NO_CHAT", "TelegramInbox"]

logger = logging.getLogger(__name__)

NO_CHAT: Final = "-"  # the inbox key of an update without a chat (handled in its own queue)
SWEEP_EVERY: Final = 5.0
STALE_AFTER: Final = timedelta(seconds=10)
KEEP_HANDLED: Final = timedelta(days=2)  # Telegram gives up redelivering after a day
PURGE_EVERY: Final = 3600.0
STOP_GRACE: Final = 10.0

TelegramApp = Application[Any, Any, Any, Any, Any, Any]


class TelegramInbox:
    """Stores webhook updates and handles each chat's in order, across worker processes.

    Args:
        application: the running Application (its handlers run each update).
        uow_factory: units of work on the casebot database.
        channel: the inbox channel name.
        sweep_every: seconds between looks for updates a dead worker left behind.
        stale_after: how long an update may wait before the sweeper takes it on.
        metrics: where webhook updates are counted by outcome (None: not counted).
    """

    def __init__(
        self,
        application: TelegramApp,
        uow_factory: UnitOfWorkFactory,
        *,
        channel: str = "telegram",
        sweep_every: float = SWEEP_EVERY,
        stale_after: timedelta = STALE_AFTER,
        metrics: CasebotMetrics | None = None,
    ) -> None:
        self.application = application
        self.uow_factory = uow_factory
        self.channel = channel
        self.sweep_every = sweep_every
        self.stale_after = stale_after
        self.metrics = metrics
        self._draining: set[str] = set()
        self._again: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        # Updates whose turn could not reach the database: left pending, tried again by the
        # sweeper; and those whose chat was told so already (told once, not at every retry).
        self._deferred: set[int] = set()
        self._told: set[int] = set()
        # Updates marked handled in their turn's own transaction, once it committed.
        self._marked: set[int] = set()

    # --- receiving --------------------------------------------------------------------------

    async def receive(self, data: dict[str, Any]) -> bool:
        """Store one webhook update and start handling its chat. Returns False when the bot is
        not running (the webhook answers an error and Telegram delivers it again).

        Raises:
            ValueError: the data is not an update.
        """
        if not self.application.running:
            return False
        update = parse_update(data, self.application.bot)
        chat = update.effective_chat
        chat_id = str(chat.id) if chat is not None else NO_CHAT
        pending: list[int] = []
        async with self.uow_factory() as uow:
            stored = await store_update(
                uow,
                channel=self.channel,
                update_id=update.update_id,
                chat_id=chat_id,
                payload=data,
            )
            if stored:  # read in the same transaction: is it the chat's next, and alone?
                pending = await first_pending_ids(uow, self.channel, chat_id)
            await uow.commit()
        if not stored:
            # Handled already, or still pending: its first worker may have died before it
            # answered (that is why Telegram sent it again). The chat's drain finds out.
            logger.info("Telegram: update %s was received before", update.update_id)
            self._count(DUPLICATE)
        # The chat's next update, as parsed here: its drain need not read it back.
        first = update if pending[:1] == [update.update_id] else None
        self._spawn(chat_id, first, alone=len(pending) == 1)
        return True

    def _spawn(self, chat_id: str, first: Update | None = None, *, alone: bool = False) -> None:
        task = asyncio.get_running_loop().create_task(self.drain(chat_id, first, alone=alone))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The updates stay pending: the sweeper (here or in another worker) retries.
            error = task.exception()
            if error is not None and is_database_unavailable(error):
                logger.warning("Telegram inbox: the database is unavailable; retried later")
            else:
                logger.error("Telegram inbox: handling failed", exc_info=error)

    def defer(self, update_id: int) -> bool:
        """Leave an update pending: its turn could not reach the database (the channel calls
        this). The sweeper handles it again once the database answers.

        Returns:
            True the first time for this update (tell the chat), False on a later retry.
        """
        self._deferred.add(update_id)
        first = update_id not in self._told
        self._told.add(update_id)
        return first

    def marked_in_turn(self, update_id: int) -> None:
        """Note that an update's turn marked it handled in its own transaction, now committed
        (the channel calls this): no transaction of its own is needed to mark it."""
        self._marked.add(update_id)

    # --- handling ---------------------------------------------------------------------------

    async def drain(
        self, chat_id: str, first: Update | None = None, *, alone: bool = False
    ) -> None:
        """Handle the chat's pending updates in order, unless another worker is at it (then
        that worker handles them).

        Args:
            chat_id: the chat (its inbox key).
            first: the chat's lowest pending update when it was stored, as received (the
                webhook's common case: handled without reading it back). Should another worker
                have handled it meanwhile, its turn is recognised as handled (the
                conversation's last update id) and nothing is counted or sent.
            alone: ``first`` was the chat's only pending update when it was stored.
        """
        if chat_id in self._draining:
            self._again.add(chat_id)  # the running drain looks again before it stops
            return
        self._draining.add(chat_id)
        try:
            while True:
                self._again.discard(chat_id)
                lock = AdvisoryLock(
                    self.uow_factory.db, CHAT_LOCKS, key_of(f"{self.channel}:{chat_id}")
                )
                if not await lock.try_acquire():
                    return
                drained = True  # everything pending when the lock was taken is handled
                try:
                    if first is not None:
                        update, first = first, None
                        drained = alone
                        await self._handle(chat_id, update)
                    else:
                        while await self._handle_next(chat_id):
                            pass
                finally:
                    await lock.release()
                if chat_id in self._again:
                    continue
                if drained and lock.in_process:
                    # One process (SQLite): any update of the chat stored meanwhile was stored
                    # here, and its receipt asked this drain to look again (``_again``).
                    return
                # One look after the lock is released serves both: anything stored meanwhile
                # by a worker that could not take the lock, and what waits behind ``first``.
                async with self.uow_factory() as uow:
                    if not await has_pending(uow, self.channel, chat_id):
                        return
        finally:
            self._draining.discard(chat_id)

    async def _handle_next(self, chat_id: str) -> bool:
        async with self.uow_factory() as uow:
            row = await next_pending(uow, self.channel, chat_id)
        if row is None:
            return False
        await self._handle(chat_id, Update.de_json(row.payload, self.application.bot))
        return True

    async def _handle(self, chat_id: str, update: Update) -> None:
        """One stored update through the Application (the engine recognises one handled
        before by the conversation's last update id, in the turn's own transaction); then,
        unless its turn marked it handled, marked here with its outcome."""
        update_id = update.update_id
        try:
            await self.application.process_update(update)
        finally:
            marked = update_id in self._marked
            self._marked.discard(update_id)
        if update_id in self._deferred:
            self._deferred.discard(update_id)
            raise DatabaseUnavailable(f"update {update_id} left pending")
        self._told.discard(update_id)
        if marked:
            self._count(HANDLED)
            return
        # No turn marked it: a duplicate, a late update, a failed turn... The chat's last
        # update id tells which (a failed turn left it below this one).
        async with self.uow_factory() as uow:
            last = await last_update_id(uow, self.channel, chat_id)
            outcome = HANDLED
            if last is not None and update_id <= last:
                outcome = DUPLICATE if update_id == last else LATE
            if not await mark_handled(uow, self.channel, update_id, outcome=outcome):
                return  # handled by another worker meanwhile (or never stored): not ours
            await uow.commit()
        if outcome != HANDLED:
            log = logger.warning if outcome == LATE else logger.info
            log("Telegram: update %s is %s (chat's last is %s)", update_id, outcome, last)
        self._count(outcome)

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.telegram_updates.labels(outcome=outcome).inc()

    async def settled(self) -> None:
        """Wait until the updates received so far in this worker are handled (or failed)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    # --- the sweeper ------------------------------------------------------------------------

    def start(self) -> None:
        """Handle every update pending now, then look for updates left behind (by a worker
        that died) every ``sweep_every`` s.

        The first look takes every pending update, stale or not: one stored just before this
        server's predecessor was killed was answered 200, so Telegram will not send it again,
        and nobody else may be left to handle it (a single worker restarted). A live worker at
        one of those chats holds its lock, and ``drain`` leaves that chat to it.
        """
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever(), name="telegram-inbox")
            task = asyncio.get_running_loop().create_task(self._catch_up())
            self._tasks.add(task)
            task.add_done_callback(self._done)

    async def _catch_up(self) -> None:
        await self.sweep(everything=True)

    async def stop(self) -> None:
        """Stop sweeping; let the turns in hand finish for a while, then cancel the rest
        (their updates stay pending for another worker)."""
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        if self._tasks:
            _done, pending = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
            for task in pending:
                task.cancel()

    async def sweep(self, *, everything: bool = False) -> int:
        """Handle the chats whose updates have waited longer than ``stale_after`` (with
        ``everything``: every chat with an update pending, all of them); returns how many
        chats were looked at."""
        async with self.uow_factory() as uow:
            if everything:
                chats = await stale_chats(uow, self.channel, received_before=None, limit=None)
            else:
                before = uow.clock.now() - self.stale_after
                chats = await stale_chats(uow, self.channel, received_before=before)
        for chat_id in chats:
            await self.drain(chat_id)
        return len(chats)

    async def _sweep_forever(self) -> None:
        since_purge = 0.0
        while True:
            await asyncio.sleep(self.sweep_every)
            try:
                await self.sweep()
                since_purge += self.sweep_every
                if since_purge >= PURGE_EVERY:
                    since_purge = 0.0
                    async with self.uow_factory() as uow:
                        gone = await purge_handled(
                            uow, self.channel, handled_before=uow.clock.now() - KEEP_HANDLED
                        )
                        await uow.commit()
                    logger.info("Telegram inbox: forgot %d handled update(s)", gone)
            except Exception as exc:
                if is_database_unavailable(exc):
                    logger.warning("Telegram inbox: the database is unavailable; sweeping later")
                else:
                    logger.exception("Telegram inbox: the sweep failed")
