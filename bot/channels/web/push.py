"""Notifications in the web chat: stored in the session's transcript, then pushed on its open
WebSocket by whichever worker holds that socket.

``WebChatSender`` is the outbox dispatcher's sender for the ``webchat`` channel. It stores the
rendered notification as a message of the session's transcript, with the outbox row's id
(unique: the idempotency key, so a redelivery is recognised and never stored twice), in the
dispatcher's transaction, where the row is also marked sent. A page that was closed sees the
message when it resumes (``GET .../messages?after=ID``).

The socket may be open on any worker. ``PushBus`` tells them:

- On PostgreSQL the delivery transaction also runs ``pg_notify('casebot_web_push',
  '<session id>:<message id>')``. PostgreSQL delivers a notification when, and only when, its
  transaction commits, to every listening connection; each worker listens on one asyncpg
  connection of its own, and the worker holding a socket of that session reads the message by
  id and sends it. The payload names the message, it never carries it (notifications are
  limited to 8 KB, and the text has no business in the server's notification queue).
- On SQLite (one process) the dispatcher's worker is the only one, and tells its own hub after
  the commit.

If the listening connection drops, the listener reconnects with a backoff and then sends what
was pushed meanwhile to the sockets open here (the messages newer than the last one it heard of).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from functools import partial
from typing import Any, Final

from bot.channels.web.chat import CHANNEL, WebChatHub, store_reply
from bot.dialogs.model import Reply
from bot.notify.dispatcher import PermanentFailure, TransactionalSender
from core.db import Database
from core.outbox.service import OutboxItem
from core.uow import UnitOfWork, notify_listeners
from core.web_sessions import newest_message_id, pushed_after, session_exists, transcript_id_of

__all__ = ["NOTIFY_CHANNEL", "PushBus", "WebChatSender"]

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL: Final = "casebot_web_push"
RECONNECT_FIRST: Final = 0.5
RECONNECT_MAX: Final = 30.0


class PushBus:
    """Announces stored messages to the worker that holds the session's WebSocket.

    Args:
        hub: this worker's web chat hub (its open sockets).
        db: the casebot database (PostgreSQL: LISTEN/NOTIFY; SQLite: in-process).
    """

    def __init__(self, hub: WebChatHub, db: Database) -> None:
        self.hub = hub
        self.db = db
        self._local: list[tuple[str, int]] = []
        self._connection: Any = None  # asyncpg.Connection (untyped)
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._last_id = 0  # the newest message id this worker heard of
        self._deliveries: set[asyncio.Task[int]] = set()

    @property
    def distributed(self) -> bool:
        return self.db.dialect == "postgresql"

    # --- announcing (in the dispatcher's transaction) ---------------------------------------

    async def announce(self, uow: UnitOfWork, session_id: str, message_id: int) -> None:
        """Announce a message stored in ``uow``: sent to the socket once ``uow`` commits."""
        if self.distributed:
            await notify_listeners(uow, NOTIFY_CHANNEL, f"{session_id}:{message_id}")
        else:  # only once committed: another transaction's flush may come first
            uow.after_commit(partial(self._committed, session_id, message_id))

    def _committed(self, session_id: str, message_id: int) -> None:
        self._local.append((session_id, message_id))

    async def flush(self) -> None:
        """After a commit on SQLite: send the announced messages committed so far to the
        sockets here."""
        announced, self._local = self._local, []
        by_session: dict[str, list[int]] = {}
        for session_id, message_id in announced:
            by_session.setdefault(session_id, []).append(message_id)
        for session_id, message_ids in by_session.items():
            await self.hub.deliver(session_id, message_ids)

    # --- listening (PostgreSQL) -------------------------------------------------------------

    async def start(self) -> None:
        """Listen for announcements (PostgreSQL; nothing to do on SQLite). Returns once the
        first connection listens, so nothing announced after ``start`` is missed.

        Raises:
            OSError, asyncpg errors: the first connection failed.
        """
        if not self.distributed or self._task is not None:
            return
        self._last_id = await newest_message_id(self.db)
        await self._listen()
        self._task = asyncio.create_task(self._keep_listening(), name="webchat-push-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()
        for delivery in list(self._deliveries):
            delivery.cancel()

    async def _listen(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(self.db.driver_dsn())
        self._lost.clear()
        connection.add_termination_listener(lambda _conn: self._lost.set())
        await connection.add_listener(NOTIFY_CHANNEL, self._on_notify)
        self._connection = connection

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def _keep_listening(self) -> None:
        pause = RECONNECT_FIRST
        while True:
            await self._lost.wait()
            logger.warning("web push: the listening connection dropped; reconnecting")
            await self._close()
            while True:
                await asyncio.sleep(pause)  # a restarting server is not hammered
                try:
                    await self._listen()
                except Exception as exc:  # any failure: try again later, never give up
                    logger.warning("web push: reconnecting failed (%s)", type(exc).__name__)
                    pause = min(pause * 2, RECONNECT_MAX)
                    continue
                pause = RECONNECT_FIRST
                break
            await self._catch_up()

    async def _catch_up(self) -> None:
        """Send what was pushed while the connection was down to the sockets open here."""
        missed = await pushed_after(self.db, self._last_id)
        caught_up = 0
        for session_id, message_id in missed:
            self._last_id = max(self._last_id, message_id)
            if self.hub.serves(session_id):
                self._schedule(session_id, message_id)
                caught_up += 1
        logger.info("web push: listening again; %d message(s) pushed meanwhile", caught_up)

    def _on_notify(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        session_id, _, raw_id = payload.partition(":")
        if not raw_id.isdigit():
            logger.warning("web push: ignored a malformed announcement")
            return
        message_id = int(raw_id)
        self._last_id = max(self._last_id, message_id)
        if self.hub.serves(session_id):
            self._schedule(session_id, message_id)

    def _schedule(self, session_id: str, message_id: int) -> None:
        task = asyncio.get_running_loop().create_task(self.hub.deliver(session_id, [message_id]))
        self._deliveries.add(task)
        task.add_done_callback(self._delivered)

    def _delivered(self, task: asyncio.Task[int]) -> None:
        self._deliveries.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("web push: delivering failed", exc_info=task.exception())


class WebChatSender(TransactionalSender):
    """Delivers the outbox's ``webchat`` rows into their sessions' transcripts."""

    channel = CHANNEL

    def __init__(self, bus: PushBus) -> None:
        self.bus = bus

    async def deliver(self, uow: UnitOfWork, message: OutboxItem, reply: Reply) -> None:
        session_id = message.address
        if not await session_exists(uow, session_id):
            raise PermanentFailure("no such web chat session")
        stored_before = await transcript_id_of(uow, message.id)
        if stored_before is not None:
            logger.warning("web push: outbox %s was in the transcript already", message.id)
            return  # a redelivery, recognised by its idempotency key: not stored twice
        stored = await store_reply(uow, session_id, reply, outbox_id=message.id)
        await self.bus.announce(uow, session_id, stored.id)

    async def after_commit(self) -> None:
        await self.bus.flush()
