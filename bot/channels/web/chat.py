"""The web chat channel: sessions, turns, the transcript and pushed messages.

The channel only translates: a JSON body becomes an ``Incoming`` for the engine, a ``Reply``
becomes a message object. Every message (the person's and the assistant's) is kept in the
session's transcript first, then sent to the browser's open WebSockets, so a page that reloads
or loses its connection replays what it missed with ``after=ID``.

``WebChatHub.push`` is the in-process way to send a message that is not an answer (an outbox
notification): it is stored and delivered like a reply. The limits and metrics are in
``limits``, a transcript message as JSON in ``transcript``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Final

from aiohttp import web

from bot.channels.web.batch import Batch
from bot.channels.web.limits import WebChatConfig, WebMetrics
from bot.channels.web.transcript import MessageView, store_reply, stored_text
from bot.dialogs.actions import G_SETLANG
from bot.dialogs.model import Incoming, Reply, Turn
from bot.engine import Engine, KeyedLock
from core import ratelimit
from core.errors import RateLimited
from core.uow import UnitOfWork, UnitOfWorkFactory
from core.web_sessions import (
    MASKED_SECRET,
    WEB_CHANNEL,
    TranscriptMessage,
    WebSessionNotFound,
    add_message,
    authenticate_session,
    find_attachment,
    forget_transcript,
    last_asked_secret,
    last_buttons,
    list_messages,
    session_exists,
    start_session,
    turn_messages,
)

__all__ = ["CHANNEL", "MessageView", "WebChatConfig", "WebChatHub", "WebMetrics", "store_reply"]

logger = logging.getLogger(__name__)

CHANNEL: Final = WEB_CHANNEL


@dataclass
class _Socket:
    ws: web.WebSocketResponse
    token: str


@dataclass
class WebChatHub:
    """Runs web chat sessions over the engine and delivers their messages.

    Args:
        engine: the dialog engine.
        uow_factory: units of work on the same database.
        config: limits.
        metrics: where turns are counted and timed.
    """

    engine: Engine
    uow_factory: UnitOfWorkFactory
    config: WebChatConfig = field(default_factory=WebChatConfig)
    metrics: WebMetrics = field(default_factory=WebMetrics)
    _sockets: dict[str, list[_Socket]] = field(default_factory=dict, init=False)
    _locks: KeyedLock[str] = field(default_factory=KeyedLock, init=False)
    _turns: Batch[list[MessageView]] = field(default_factory=Batch, init=False)

    async def open_session(
        self, locale: str | None, *, client: str | None = None
    ) -> tuple[str, str]:
        """A new session; returns ``(session_id, token)``. With ``client`` (the key of
        ``bot.channels.web.client_address``), the session counts against that client's limit.

        Raises:
            RateLimited: the client opened too many sessions in this window (the refused one
                is counted all the same).
        """
        async with self.uow_factory() as uow:
            if client is not None:
                try:
                    await ratelimit.hit(
                        uow,
                        f"webchat_open:{client}",
                        limit=self.config.new_sessions_per_client,
                        window=self.config.rate_window,
                    )
                except RateLimited:
                    await uow.commit()
                    raise
            session_id, token = await start_session(uow, locale=locale)
            await uow.commit()
        return session_id, token

    async def authenticate(
        self, session_id: str, token: str | None, *, count: bool = False
    ) -> str | None:
        """Check the token; with ``count``, count one message against the session's rate.

        Returns:
            The session's locale (None when it was created without one).

        Raises:
            WebSessionNotFound, WebSessionUnauthorized, WebSessionExpired: see
                ``core.web_sessions.authenticate_session``.
            RateLimited: the session sent too many messages in this window.
        """
        limited: RateLimited | None = None
        async with self.uow_factory() as uow:
            session = await authenticate_session(
                uow, session_id, token, idle_expiry=self.config.idle_expiry
            )
            locale = session.locale
            if count:
                try:
                    await self._count(uow, session_id)
                except RateLimited as exc:
                    limited = exc  # committed below: a refused message counts too
            await uow.commit()
        if limited is not None:
            raise limited
        return locale

    async def send(
        self,
        session_id: str,
        token: str | None,
        *,
        text: str | None = None,
        payload: str | None = None,
        headers: Mapping[str, str] | None = None,
        client: str | None = None,
        key: str | None = None,
    ) -> list[MessageView]:
        """Run one turn for the session; returns the assistant's new messages.

        ``key`` is the message's idempotency key (``Idempotency-Key``): it is stored with the
        turn's messages in the turn's own transaction, and a message sent again with a key the
        session already used runs no turn and is not counted: it gets the first turn's replies
        back (as the transcript keeps them). A turn that failed and was undone keeps no key, so
        sending it again runs it.

        One transaction, the engine's turn (``Engine.handle``): first the token check,
        ``last_seen`` and the message counted against the session's rate (``admit``: a refused
        message is committed as counted, and the turn does not run); then the turn, with the
        transcript written inside it (``within``), so both are kept or neither, and the engine's
        mail goes out only after that commit: the person's message (masked when the step asked
        for a secret), then the replies. A turn that fails is undone, count included, so the
        count is made again with the apology. The messages are then sent to the session's open
        sockets. One session's messages are handled one at a time.

        Turns asked for together start back to back (``bot.channels.web.batch``); a turn that has
        begun runs to its end even when its caller is cancelled.

        Raises:
            WebSessionNotFound, WebSessionUnauthorized, WebSessionExpired: see
                ``core.web_sessions.authenticate_session``.
            RateLimited: the session sent too many messages in this window (the refused
                message is counted all the same).
        """
        return await self._turns.run(
            lambda: self._send(
                session_id,
                token,
                text=text,
                payload=payload,
                headers=headers,
                client=client,
                key=key,
            )
        )

    async def finish_turns(self) -> None:
        """Wait for the turns asked for or running (at shutdown, before the database closes)."""
        await self._turns.wait_idle()

    async def _send(
        self,
        session_id: str,
        token: str | None,
        *,
        text: str | None,
        payload: str | None,
        headers: Mapping[str, str] | None,
        client: str | None = None,
        key: str | None = None,
    ) -> list[MessageView]:
        started = time.perf_counter()
        async with self._locks.hold(session_id):
            limited: list[RateLimited] = []
            answered: list[list[TranscriptMessage]] = []  # the first answer to this key

            async def admit(turn_uow: UnitOfWork, incoming: Incoming) -> Incoming | None:
                session = await authenticate_session(
                    turn_uow, session_id, token, idle_expiry=self.config.idle_expiry
                )
                if key is not None:
                    before = await turn_messages(turn_uow, session_id, key)
                    if before is not None:
                        answered.append(before)
                        return None  # sent again: the turn ran once already
                try:
                    await self._count(turn_uow, session_id, client)
                except RateLimited as exc:
                    limited.append(exc)
                    return None  # the count is committed: a refused message counts too
                return replace(incoming, locale_hint=locale_hint_of(session.locale, headers or {}))

            stored: list[TranscriptMessage] = []
            live: dict[int, Reply] = {}  # stored messages that hide what their reply shows

            async def keep(turn_uow: UnitOfWork, turn: Turn) -> None:
                stored.extend(
                    await self._store_turn(
                        turn_uow, session_id, text, payload, turn, live, turn_key=key
                    )
                )

            turn = await self.engine.handle(
                Incoming(CHANNEL, session_id, text=text, payload=payload, client=client),
                admit=admit,
                within=keep,
            )
            if limited:
                raise limited[0]
            if answered:
                return [MessageView.of(m) for m in answered[0] if m.sender == "bot"]
            failed = turn.failed or turn.unavailable
            if failed:
                stored = []  # written in the turn's transaction, which was undone
                live.clear()
            shown = {message.text for message in stored if message.sender == "bot"}
            extra = [reply for reply in turn.replies if stored_text(reply) not in shown]
            if failed or extra:
                # The turn was undone (its apology is what the person sees, and the message
                # still counts), or it changed its answer after the commit (a code mail that
                # could not go): keep that too.
                async with self.uow_factory() as uow:
                    if failed:
                        with suppress(RateLimited):  # it was under the limit when admitted
                            await self._count(uow, session_id)
                        stored.extend(
                            await self._store_turn(uow, session_id, text, payload, turn, live)
                        )
                    else:
                        stored.extend(
                            await self._store_replies(uow, session_id, extra, live, turn_key=key)
                        )
                    await uow.commit()
            # The answer shows what the transcript hides (a secret shown once); replays do not.
            views = [MessageView.of(message, live=live.get(message.id)) for message in stored]
        self.metrics.turns.inc()
        self.metrics.turn_seconds.observe(time.perf_counter() - started)
        await self._broadcast(session_id, views)
        return [view for view in views if view.sender == "bot"]

    async def _count(self, uow: UnitOfWork, session_id: str, client: str | None = None) -> None:
        """Count one message against the session's rate and, with ``client``, the client's.

        Raises:
            RateLimited: over a limit (the counts are made all the same).
        """
        window = self.config.rate_window
        limits = [(f"webchat:{session_id}", self.config.rate_limit, window)]
        if client is not None:
            limits.append((f"webchat_client:{client}", self.config.messages_per_client, window))
        await ratelimit.hit_all(uow, limits)

    async def push(self, session_id: str, reply: Reply) -> MessageView:
        """Send a message that answers nothing (a notification): stored, then delivered.

        Raises:
            WebSessionNotFound: no session has this id.
        """
        async with self.uow_factory() as uow:
            if not await session_exists(uow, session_id):
                raise WebSessionNotFound()
            message = await store_reply(uow, session_id, reply)
            await uow.commit()
        view = MessageView.of(message)
        await self._broadcast(session_id, [view])
        return view

    def serves(self, session_id: str) -> bool:
        """Whether a WebSocket of the session is open on this worker."""
        return bool(self._sockets.get(session_id))

    async def deliver(self, session_id: str, message_ids: Sequence[int]) -> int:
        """Send messages already in the session's transcript (notifications stored by the
        outbox dispatcher, in this worker or another) to its sockets open here.

        Returns:
            How many messages were sent (0 when no socket of the session is open here).
        """
        if not message_ids or not self.serves(session_id):
            return 0
        wanted = set(message_ids)
        async with self.uow_factory() as uow:
            stored = await list_messages(uow, session_id, after=min(wanted) - 1)
            views = [MessageView.of(m) for m in stored if m.id in wanted]
        await self._broadcast(session_id, views)
        return len(views)

    async def transcript(self, session_id: str, after: int) -> list[MessageView]:
        """The session's messages after the id ``after`` (the caller authenticated)."""
        async with self.uow_factory() as uow:
            return [MessageView.of(m) for m in await list_messages(uow, session_id, after=after)]

    async def attachment(
        self, session_id: str, attachment_id: str
    ) -> tuple[str, str, bytes] | None:
        """``(name, content_type, data)`` of a file of this session, or None."""
        async with self.uow_factory() as uow:
            found = await find_attachment(uow, session_id, attachment_id)
            if found is None:
                return None
            return found.name, found.content_type, found.data

    def connect(self, session_id: str, ws: web.WebSocketResponse, token: str) -> None:
        self._sockets.setdefault(session_id, []).append(_Socket(ws, token))

    def disconnect(self, session_id: str, ws: web.WebSocketResponse) -> None:
        sockets = [s for s in self._sockets.get(session_id, []) if s.ws is not ws]
        if sockets:
            self._sockets[session_id] = sockets
        else:
            self._sockets.pop(session_id, None)

    async def close_sockets(self) -> None:
        """Close every open WebSocket (the server is stopping)."""
        sockets = [s for group in self._sockets.values() for s in group]
        self._sockets.clear()
        for socket in sockets:
            # 1012 "service restart": the widget reconnects (to another worker, or this one
            # started again) and reads what it missed from the transcript.
            await socket.ws.close(code=1012, message=b"server restart")

    async def _store_turn(
        self,
        uow: UnitOfWork,
        session_id: str,
        text: str | None,
        payload: str | None,
        turn: Turn,
        live: dict[int, Reply],
        *,
        turn_key: str | None = None,
    ) -> list[TranscriptMessage]:
        """The person's message (a pressed button as its label; masked when the step asked for
        a secret, even if the turn failed) and the turn's replies, in the transcript. A turn
        that signed the chat out first deletes the transcript before it: whoever uses the
        browser next cannot read back what the signed-in person saw."""
        if payload is not None:
            labels = dict((p, label) for label, p in await last_buttons(uow, session_id))
            # The widget's language picker sends the language switch of the current prompt
            # (``{seq}:g:setlang:ar``) as no button of the conversation: nothing the person
            # said, so no bubble. A pressed button shows its label.
            switch = payload.partition(":")[2].startswith(G_SETLANG)
            said = labels.get(payload, "" if switch else payload)
        else:
            said = text or ""
        if turn.input_was_secret or await last_asked_secret(uow, session_id):
            said = MASKED_SECRET
        if turn.signed_out:
            await forget_transcript(uow, session_id)
        stored: list[TranscriptMessage] = []
        if said.strip():  # the opening empty message is not shown
            stored.append(
                await add_message(uow, session_id, sender="user", text=said, turn_key=turn_key)
            )
        stored.extend(
            await self._store_replies(uow, session_id, turn.replies, live, turn_key=turn_key)
        )
        return stored

    async def _store_replies(
        self,
        uow: UnitOfWork,
        session_id: str,
        replies: Sequence[Reply],
        live: dict[int, Reply],
        *,
        turn_key: str | None = None,
    ) -> list[TranscriptMessage]:
        """The replies in the transcript; ``live`` gets those that show a secret once, by the
        id of their stored (hidden) copy."""
        stored: list[TranscriptMessage] = []
        for reply in replies:
            message = await store_reply(uow, session_id, reply, turn_key=turn_key)
            if reply.shows_secret:
                live[message.id] = reply
            stored.append(message)
        return stored

    async def _broadcast(self, session_id: str, views: list[MessageView]) -> None:
        for socket in list(self._sockets.get(session_id, [])):
            try:
                for view in views:
                    await socket.ws.send_json(view.to_json(session_id, socket.token))
            except (ConnectionError, RuntimeError):
                # A socket closing under us: the page will replay from the transcript.
                self.disconnect(session_id, socket.ws)


def locale_hint_of(session_locale: str | None, headers: Mapping[str, str]) -> str | None:
    """The session's locale, else the first language of ``Accept-Language``."""
    if session_locale:
        return session_locale
    first = headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return first if first and first != "*" and len(first) <= 16 else None
