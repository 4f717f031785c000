"""The agents' desk in the console API: the waiting line, claiming a conversation, the
conversation with its context, writing to the person, transfer, close, secure messages,
canned replies, and the live feed (``GET /api/console/ws``).

Every action is written to the audit log (actor ``staff:<id>``) in the action's own
transaction. An agent sees the conversations and secure messages of their languages (a
supervisor sees all); only the agent who holds a conversation may write in it, pass it on or
close it.

The live feed: every change of a handoff writes a row (``handoff_messages``, or
``secure_messages``), and, on PostgreSQL, a ``pg_notify('casebot_console')`` in the same
transaction. Each worker's :class:`ConsoleHub` listens (one asyncpg connection) while a
console is connected, reads the rows after the last one it sent, and sends each open console
the events of its languages. On SQLite (one process) the hub is woken by the console's own
actions and reads the tables every quarter second for the rest (the person's messages).
A connection that drops is re-opened; nothing is lost, since the rows are the source.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any, Final

from aiohttp import WSMsgType, web

from bot.channels.web.api import ApiError
from bot.channels.web.console_api import (
    CONSOLE_KEY,
    _auth_errors,
    _body,
    _console,
    _signed_in,
    _text,
)
from bot.ops.metrics import HandoffMetrics
from core.admin.audit import Outcome, record_action
from core.db import Database
from core.errors import (
    AlreadyClaimed,
    AlreadyReplied,
    HandoffNotFound,
    HandoffNotOpen,
    NotHandoffAgent,
    SecureMessageNotFound,
)
from core.handoff import claim, close, post_agent_message, reply_to_secure_message, transfer
from core.handoff.console import (
    Conversation,
    FeedEvent,
    LineMessage,
    SecureView,
    abandoned_since,
    conversation,
    feed_after,
    feed_cursor,
    handoff_access,
    queue_lengths,
    secure_message_language,
    secure_message_list,
    waiting_queue,
)
from core.handoff.service import CONSOLE_CHANNEL, MAX_MESSAGE
from core.staff import StaffRole, StaffView, authenticate_staff, get_staff
from core.staff.models import STAFF_LANGUAGES
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "CANNED_REPLIES",
    "OUTCOMES",
    "ConsoleHub",
    "add_desk_routes",
    "canned_replies",
]

logger = logging.getLogger(__name__)

# How an agent may close a chat.
OUTCOMES: Final = ("resolved", "referred", "no_response", "other")
CANNED_REPLIES: Final = Path(__file__).resolve().parents[2] / "console_replies.toml"
SQLITE_TICK: Final = 0.25  # seconds between reads of the tables on SQLite
FALLBACK_TICK: Final = 5.0  # PostgreSQL: a read now and then, should a notification be missed
RECONNECT_MAX: Final = 30.0
MAX_SOCKETS: Final = 200  # open consoles per worker


@cache
def canned_replies() -> dict[str, list[dict[str, str]]]:
    """The canned replies per language (``bot/console_replies.toml``)."""
    data = tomllib.loads(CANNED_REPLIES.read_text(encoding="utf-8"))
    return {
        language: [{"label": str(e["label"]), "text": str(e["text"])} for e in entries]
        for language, entries in data.items()
    }


def _languages(staff: StaffView) -> tuple[str, ...] | None:
    """The languages whose conversations ``staff`` sees (None: all, a supervisor)."""
    return None if staff.role == StaffRole.SUPERVISOR else staff.languages


def _sees(staff: StaffView, language: str) -> bool:
    languages = _languages(staff)
    return languages is None or language in languages


def _actor(staff: StaffView) -> str:
    return f"staff:{staff.id}"


async def _audit(
    uow: UnitOfWork,
    staff: StaffView,
    action: str,
    target: str,
    *,
    read: bool = False,
    **params: Any,
) -> None:
    await record_action(
        uow,
        actor=_actor(staff),
        action=action,
        target=target,
        params=params or None,
        outcome=Outcome.READ if read else Outcome.CHANGED,
    )


@contextmanager
def _desk_errors() -> Iterator[None]:
    try:
        yield
    except HandoffNotFound:
        raise ApiError(404, "conversation_not_found", "There is no such conversation.") from None
    except AlreadyClaimed:
        raise ApiError(
            409, "already_claimed", "Someone else has this conversation, or it has ended."
        ) from None
    except NotHandoffAgent:
        raise ApiError(
            403, "not_your_conversation", "Claim this conversation before you act on it."
        ) from None
    except HandoffNotOpen:
        raise ApiError(409, "conversation_not_open", "This conversation is not open.") from None
    except SecureMessageNotFound:
        raise ApiError(404, "message_not_found", "There is no such secure message.") from None
    except AlreadyReplied:
        raise ApiError(409, "already_replied", "This message was answered already.") from None


def _conversation_id(request: web.Request) -> int:
    raw = request.match_info["conversation_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "conversation_not_found", "There is no such conversation.")
    return int(raw)


def _message_id(request: web.Request) -> int:
    raw = request.match_info["message_id"]
    if not raw.isdigit() or len(raw) > 18:
        raise ApiError(404, "message_not_found", "There is no such secure message.")
    return int(raw)


async def _visible(uow: UnitOfWork, staff: StaffView, handoff_id: int) -> None:
    """Refuse a handoff that ``staff`` may not see: not of their languages, nor theirs.

    Raises:
        HandoffNotFound: there is none with this id.
    """
    language, holder = await handoff_access(uow, handoff_id)
    if not _sees(staff, language) and holder != staff.id:
        raise ApiError(
            403, "not_your_language", "This conversation is in a language you do not take."
        )


def _line(line: LineMessage) -> dict[str, Any]:
    return {
        "sender": line.sender,
        "text": line.text,
        "at": None if line.at is None else line.at.isoformat(),
        "event": line.event,
        "masked": line.masked,
    }


def _conversation_json(found: Conversation) -> dict[str, Any]:
    return {
        "conversation_id": found.handoff_id,
        "status": found.status,
        "language": found.language,
        "channel": found.channel,
        "topic": found.topic,
        "signed_in": found.signed_in,
        "staff_id": found.staff_id,
        "agent_name": found.agent_name,
        "created_at": found.created_at.isoformat(),
        "outcome": found.outcome,
        "bot_transcript": [_line(line) for line in found.bot_transcript],
        "messages": [_line(line) for line in found.messages],
        "context": {
            "cases": [
                {
                    "receipt": case.receipt,
                    "form_type": case.form_type,
                    "status": case.status,
                    "updated_at": case.updated_at.isoformat(),
                    "received_date": (
                        None if case.received_date is None else case.received_date.isoformat()
                    ),
                }
                for case in found.cases
            ],
            "appointments": [
                {
                    "kind": visit.kind,
                    "office": visit.office,
                    "starts_at": visit.starts_at.isoformat(),
                    "status": visit.status,
                }
                for visit in found.appointments
            ],
        },
    }


# --- the live feed -----------------------------------------------------------------------------


@dataclass(eq=False)
class _Watcher:
    ws: web.WebSocketResponse
    staff_id: int
    languages: tuple[str, ...] | None


@dataclass
class ConsoleHub:
    """This worker's open consoles and the feed that tells them what changed."""

    uow_factory: UnitOfWorkFactory
    db: Database
    metrics: HandoffMetrics | None = None
    _watchers: set[_Watcher] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _connection: Any = None  # asyncpg.Connection
    _starting: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def distributed(self) -> bool:
        return self.db.dialect == "postgresql"

    def wake(self) -> None:
        """Something changed here: read the tables now."""
        self._wake.set()

    @property
    def full(self) -> bool:
        return len(self._watchers) >= MAX_SOCKETS

    async def connect(self, watcher: _Watcher) -> None:
        """Add a console; the first one starts the feed (listening before the cursor is
        read, so nothing written in between is missed)."""
        self._watchers.add(watcher)
        async with self._starting:
            if self._task is not None:
                return
            if self.distributed:
                with contextlib.suppress(Exception):  # else the fallback reads, then retries
                    await self._listen()
            async with self.uow_factory() as uow:
                cursor = await feed_cursor(uow)
            self._task = asyncio.create_task(self._run(cursor), name="console-feed")

    async def disconnect(self, watcher: _Watcher) -> None:
        self._watchers.discard(watcher)
        if not self._watchers:
            await self.stop()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def _listen(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        connection = await asyncpg.connect(self.db.driver_dsn())
        await connection.add_listener(CONSOLE_CHANNEL, lambda *_args: self._wake.set())
        self._connection = connection

    async def _run(self, cursor: tuple[int, int]) -> None:
        pause = SQLITE_TICK if not self.distributed else FALLBACK_TICK
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
            self._wake.clear()
            try:
                if self.distributed and (self._connection is None or self._connection.is_closed()):
                    with contextlib.suppress(Exception):
                        await self._listen()
                cursor = await self._send_after(cursor)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away for a moment: try again on the next tick
                logger.warning("console feed: reading changes failed", exc_info=True)

    async def _send_after(self, cursor: tuple[int, int]) -> tuple[int, int]:
        async with self.uow_factory() as uow:
            events = await feed_after(uow, cursor)
            if self.metrics is not None:
                self.metrics.queue(await queue_lengths(uow), STAFF_LANGUAGES)
                since = uow.clock.now() - timedelta(days=1)
                self.metrics.abandoned.set(await abandoned_since(uow, since))
        for event in events:
            await self._send(event)
            cursor = event.cursor
        return cursor

    async def _send(self, event: FeedEvent) -> None:
        frame = {
            "type": event.kind,
            "id": event.id,
            "language": event.language,
            "event": event.event,
            "sender": event.sender,
            "staff_id": event.staff_id,
        }
        for watcher in list(self._watchers):
            others = watcher.languages is not None and event.language not in watcher.languages
            if others and event.staff_id != watcher.staff_id:
                continue
            with contextlib.suppress(Exception):  # a socket closing meanwhile
                await watcher.ws.send_json(frame)


HUB_KEY: Final = web.AppKey("console_hub", ConsoleHub)


def _hub(request: web.Request) -> ConsoleHub:
    return request.app[HUB_KEY]


# --- handlers ----------------------------------------------------------------------------------


async def get_queue(request: web.Request) -> web.Response:
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        waiting = await waiting_queue(uow, _languages(staff))
        await uow.commit()
    return web.json_response(
        {
            "waiting": [
                {
                    "conversation_id": entry.handoff_id,
                    "language": entry.language,
                    "channel": entry.channel,
                    "waiting_seconds": entry.waiting_seconds,
                    "topic": entry.topic,
                    "signed_in": entry.signed_in,
                }
                for entry in waiting
            ]
        }
    )


async def post_claim(request: web.Request) -> web.Response:
    handoff_id = _conversation_id(request)
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        await uow.commit()  # the request counts, whatever comes of the claim
    async with _console(request).uow_factory() as uow:
        with _desk_errors():
            await _visible(uow, staff, handoff_id)
            handoff = await claim(uow, handoff_id, staff.id, staff.display_name)
        await _audit(uow, staff, "handoff.claim", f"handoff:{handoff_id}")
        waited = (handoff.claimed_at or uow.clock.now()) - handoff.created_at
        language = handoff.language
        await uow.commit()
    hub = _hub(request)
    hub.wake()
    if hub.metrics is not None:
        hub.metrics.claimed(language, waited.total_seconds())
    return web.json_response({"conversation_id": handoff_id, "status": "claimed"})


async def get_conversation(request: web.Request) -> web.Response:
    handoff_id = _conversation_id(request)
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        with _desk_errors():
            await _visible(uow, staff, handoff_id)
            found = await conversation(uow, handoff_id)
        await _audit(uow, staff, "handoff.view", f"handoff:{handoff_id}", read=True)
        await uow.commit()
    return web.json_response(_conversation_json(found), headers={"Cache-Control": "no-store"})


async def post_message(request: web.Request) -> web.Response:
    handoff_id = _conversation_id(request)
    text = _text(await _body(request), "text", MAX_MESSAGE)
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        await uow.commit()
    async with _console(request).uow_factory() as uow:
        with _desk_errors():
            message = await post_agent_message(uow, handoff_id, staff.id, text)
        await _audit(uow, staff, "handoff.message", f"handoff:{handoff_id}")
        await uow.commit()
    _hub(request).wake()
    return web.json_response({"id": message.id}, status=201)


async def post_transfer(request: web.Request) -> web.Response:
    handoff_id = _conversation_id(request)
    body = await _body(request)
    language = body.get("language")
    to_staff = body.get("staff_id")
    if (language is None) == (to_staff is None):
        raise ApiError(400, "bad_request", "Give either 'language' or 'staff_id'.")
    if language is not None and language not in STAFF_LANGUAGES:
        raise ApiError(400, "unknown_language", "'language' is not a supported language.")
    if to_staff is not None and (
        isinstance(to_staff, bool) or not isinstance(to_staff, int) or not 0 < to_staff < 2**62
    ):
        raise ApiError(400, "bad_request", "'staff_id' must be a staff member's id.")
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        await uow.commit()
    async with _console(request).uow_factory() as uow:
        target: tuple[int, str] | None = None
        if to_staff is not None:
            other = await get_staff(uow, to_staff)
            if other is None or other.disabled or not other.set_up:
                raise ApiError(400, "unknown_staff", "There is no such staff member.")
            target = (other.id, other.display_name)
        with _desk_errors():
            await transfer(uow, handoff_id, staff.id, to_language=language, to_staff=target)
        await _audit(
            uow,
            staff,
            "handoff.transfer",
            f"handoff:{handoff_id}",
            language=language,
            staff_id=to_staff,
        )
        await uow.commit()
    _hub(request).wake()
    return web.json_response({"conversation_id": handoff_id, "status": "transferred"})


async def post_close(request: web.Request) -> web.Response:
    handoff_id = _conversation_id(request)
    outcome = (await _body(request)).get("outcome")
    if outcome not in OUTCOMES:
        raise ApiError(400, "bad_outcome", "'outcome' must be one of " + ", ".join(OUTCOMES))
    assert isinstance(outcome, str)
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        await uow.commit()
    async with _console(request).uow_factory() as uow:
        with _desk_errors():
            await close(uow, handoff_id, outcome, staff_id=staff.id)
        await _audit(uow, staff, "handoff.close", f"handoff:{handoff_id}", outcome=outcome)
        await uow.commit()
    hub = _hub(request)
    hub.wake()
    if hub.metrics is not None:
        hub.metrics.closed(outcome)
    return web.json_response({"conversation_id": handoff_id, "status": "closed"})


def _secure_json(message: SecureView) -> dict[str, Any]:
    return {
        "id": message.id,
        "language": message.language,
        "channel": message.channel,
        "topic": message.topic,
        "signed_in": message.signed_in,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "replied_at": None if message.replied_at is None else message.replied_at.isoformat(),
        "reply_text": message.reply_text,
    }


async def get_secure_messages(request: web.Request) -> web.Response:
    answered = request.query.get("answered", "false")
    if answered not in ("true", "false"):
        raise ApiError(400, "bad_request", "'answered' must be true or false.")
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        found = await secure_message_list(uow, _languages(staff), answered=answered == "true")
        await _audit(uow, staff, "secure_message.list", "secure_messages", read=True)
        await uow.commit()
    return web.json_response(
        {"messages": [_secure_json(m) for m in found]}, headers={"Cache-Control": "no-store"}
    )


async def post_secure_reply(request: web.Request) -> web.Response:
    message_id = _message_id(request)
    text = _text(await _body(request), "text", 2000)
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        await uow.commit()
    async with _console(request).uow_factory() as uow:
        language = await secure_message_language(uow, message_id)
        if language is not None and not _sees(staff, language):
            raise ApiError(
                403, "not_your_language", "This message is in a language you do not take."
            )
        with _desk_errors():
            replied = await reply_to_secure_message(uow, message_id, staff.id, text)
        await _audit(uow, staff, "secure_message.reply", f"secure_message:{message_id}")
        answer = _secure_json(SecureView.of(replied))
        await uow.commit()
    _hub(request).wake()
    return web.json_response(answer)


async def get_canned(request: web.Request) -> web.Response:
    language = request.query.get("language", "en")
    if language not in STAFF_LANGUAGES:
        raise ApiError(400, "unknown_language", "'language' is not a supported language.")
    async with _console(request).uow_factory() as uow:
        await _signed_in(request, uow)
        await uow.commit()
    return web.json_response({"language": language, "replies": canned_replies()[language]})


async def websocket(request: web.Request) -> web.StreamResponse:
    token = request.query.get("token")
    async with _console(request).uow_factory() as uow:
        with _auth_errors():
            staff = await authenticate_staff(uow, token)
        await uow.commit()
    hub = _hub(request)
    if hub.full:
        raise ApiError(503, "unavailable", "Too many consoles are open; try again soon.")
    ws = web.WebSocketResponse(heartbeat=30)
    if not ws.can_prepare(request).ok:
        raise ApiError(400, "websocket_expected", "This address speaks WebSocket only.")
    await ws.prepare(request)
    watcher = _Watcher(ws, staff.id, _languages(staff))
    try:
        await hub.connect(watcher)
    except Exception:  # the database away for a moment: the page reconnects later
        logger.warning("console feed: could not start", exc_info=True)
        await hub.disconnect(watcher)
        await ws.close()
        return ws
    try:
        await ws.send_json({"type": "ready"})
        async for message in ws:  # the socket only delivers; what the page sends is ignored
            if message.type == WSMsgType.ERROR:
                break
    finally:
        await hub.disconnect(watcher)
    return ws


def add_desk_routes(app: web.Application, hub: ConsoleHub) -> None:
    """Mount the desk's part of the console API (after ``add_console_routes``)."""
    assert CONSOLE_KEY in app
    app[HUB_KEY] = hub
    prefix = "/api/console"
    conversation_path = prefix + "/conversations/{conversation_id}"
    app.router.add_get(prefix + "/queue", get_queue, allow_head=False)
    app.router.add_post(conversation_path + "/claim", post_claim)
    app.router.add_get(conversation_path, get_conversation, allow_head=False)
    app.router.add_post(conversation_path + "/messages", post_message)
    app.router.add_post(conversation_path + "/transfer", post_transfer)
    app.router.add_post(conversation_path + "/close", post_close)
    app.router.add_get(prefix + "/messages", get_secure_messages, allow_head=False)
    app.router.add_post(prefix + "/messages/{message_id}/reply", post_secure_reply)
    app.router.add_get(prefix + "/canned", get_canned, allow_head=False)
    app.router.add_get(prefix + "/ws", websocket, allow_head=False)

    async def stop_hub(_app: web.Application) -> None:
        await hub.stop()

    app.on_shutdown.append(stop_hub)
