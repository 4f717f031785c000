"""Web chat sessions, their transcripts and the files sent in them.

A session is what a browser holds: a random id (public, in URLs) and a random bearer token
(secret). Only the token's SHA-256 digest is stored. A fast hash is enough here, unlike for
passwords: the token carries 256 random bits, so nobody can search its preimage however fast
each guess is, and hashing it on every request costs nothing. A slow hash (Argon2) protects
guessable secrets, which a token is not.

The transcript keeps what the person sent (a secret masked, never in clear) and what the
assistant answered, in order, so a reloaded page can resume; the files of the answers (a calendar
file) are kept beside it, small and few. What was shown only once (an authenticator key, its QR
code, a new backup code) is stored hidden by the channel; a sign-out deletes the transcript
before it (``forget_transcript``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, Database, UTCDateTime
from core.errors import DomainError
from core.statements import Prepared
from core.uow import UnitOfWork

__all__ = [
    "MASKED_SECRET",
    "SEEN_EVERY",
    "WEB_CHANNEL",
    "AuthenticatedSession",
    "StoredAttachment",
    "TranscriptMessage",
    "WebAttachment",
    "WebMessage",
    "WebSession",
    "WebSessionExpired",
    "WebSessionNotFound",
    "WebSessionUnauthorized",
    "add_message",
    "authenticate_session",
    "find_attachment",
    "forget_transcript",
    "hash_token",
    "last_asked_secret",
    "last_buttons",
    "list_messages",
    "newest_message_id",
    "pushed_after",
    "session_exists",
    "start_session",
    "transcript_id_of",
    "turn_messages",
]

MASKED_SECRET: Final = "••••••"  # noqa: S105  (the mask shown instead of a secret)
DEFAULT_IDLE_EXPIRY: Final = timedelta(hours=24)
# The channel name of web chat sessions in the tables every channel shares (conversations...).
WEB_CHANNEL: Final = "webchat"
# last_seen_at is written when it is older than this, not on every message: a session then
# expires at most this much early, against hours of idle expiry, and a turn writes one row less.
SEEN_EVERY: Final = timedelta(minutes=1)
MAX_MESSAGES_PER_PAGE: Final = 500
# The sender of a message forgotten at a sign-out (``forget_transcript``): never listed.
FORGOTTEN: Final = "-"


class WebSessionNotFound(DomainError):
    """No web chat session has this id."""


class WebSessionUnauthorized(DomainError):
    """The bearer token is missing or does not belong to the session."""


@dataclass(eq=False)
class WebSessionExpired(DomainError):
    """The session was idle too long; the browser must start a new one."""

    idle_since: datetime


class WebSession(Base):
    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed for the purge of sessions idle too long (core.housekeeping).
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebMessage(Base):
    __tablename__ = "web_messages"
    __table_args__ = (
        Index("ix_web_messages_session_id_id", "session_id", "id"),
        Index("ix_web_messages_session_id_turn_key", "session_id", "turn_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("web_sessions.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(4))  # "user", "bot" (FORGOTTEN: emptied)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[label, payload], ...]
    # [[attachment id, kind, name], ...]; the bytes live in web_attachments.
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    secret_input: Mapped[bool] = mapped_column(default=False)
    # What kind of input the message asks for next (``INPUT_KINDS``); None: plain text.
    input_kind: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The idempotency key of the turn that wrote the message (the browser's, one per message
    # it sends): a message sent again with the same key gets these messages back and the turn
    # does not run again (``turn_messages``).
    turn_key: Mapped[str | None] = mapped_column(String(64), default=None)
    # The outbox row a pushed notification came from: unique, so the same notification can
    # never be stored twice in a transcript (its idempotency key).
    outbox_id: Mapped[int | None] = mapped_column(unique=True, default=None)


class WebAttachment(Base):
    __tablename__ = "web_attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("web_sessions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """A file to keep with a message."""

    kind: str
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class TranscriptMessage:
    """A message just added to a transcript (what :func:`add_message` hands back)."""

    id: int
    sender: str
    text: str
    buttons: list[list[str]]
    attachments: list[list[str]]
    secret_input: bool
    input_kind: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuthenticatedSession:
    """A session whose token was checked."""

    id: str
    locale: str | None
    last_seen_at: datetime


# Built once: every message of a session runs them.
_SESSION: Final = Prepared(
    select(WebSession.token_hash, WebSession.locale, WebSession.last_seen_at).where(
        WebSession.id == bindparam("session_id")
    )
)
_SEEN: Final = Prepared(
    update(WebSession)
    .where(WebSession.id == bindparam("session_id"))
    .values(last_seen_at=bindparam("now"))
)
_ADD_MESSAGE: Final = Prepared(
    insert(WebMessage)
    .values(
        session_id=bindparam("session_id"),
        sender=bindparam("sender"),
        text=bindparam("text"),
        buttons=bindparam("buttons"),
        attachments=bindparam("attachments"),
        secret_input=bindparam("secret_input"),
        input_kind=bindparam("input_kind"),
        created_at=bindparam("created_at"),
        turn_key=bindparam("turn_key"),
        outbox_id=bindparam("outbox_id"),
    )
    .returning(WebMessage.id)
)
_ASKED_SECRET: Final = Prepared(
    select(WebMessage.secret_input)
    .where(WebMessage.session_id == bindparam("session_id"), WebMessage.sender == "bot")
    .order_by(WebMessage.id.desc())
    .limit(1)
)
_LAST_BUTTONS: Final = Prepared(
    select(WebMessage.buttons)
    .where(WebMessage.session_id == bindparam("session_id"), WebMessage.sender == "bot")
    .order_by(WebMessage.id.desc())
    .limit(10)
)


def hash_token(token: str) -> str:
    """The stored form of a bearer token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def start_session(uow: UnitOfWork, *, locale: str | None = None) -> tuple[str, str]:
    """Open a session; returns ``(session_id, token)``. The token is never stored in clear."""
    session_id = secrets.token_hex(16)
    token = secrets.token_urlsafe(32)
    now = uow.clock.now()
    uow.session.add(
        WebSession(
            id=session_id,
            token_hash=hash_token(token),
            locale=locale,
            created_at=now,
            last_seen_at=now,
        )
    )
    await uow.session.flush()
    return session_id, token


async def authenticate_session(
    uow: UnitOfWork,
    session_id: str,
    token: str | None,
    *,
    idle_expiry: timedelta = DEFAULT_IDLE_EXPIRY,
) -> AuthenticatedSession:
    """The session, when the token is its own and it has not been idle too long; marks it seen
    (when it was last marked more than :data:`SEEN_EVERY` ago).

    Raises:
        WebSessionNotFound: no session has this id.
        WebSessionUnauthorized: the token is missing or wrong.
        WebSessionExpired: the session was idle longer than ``idle_expiry``.
    """
    row = await uow.fetch_one(_SESSION, {"session_id": session_id})
    if row is None:
        raise WebSessionNotFound()
    token_hash, locale, last_seen_at = row
    if not token or not hmac.compare_digest(token_hash, hash_token(token)):
        raise WebSessionUnauthorized()
    now = uow.clock.now()
    if now - last_seen_at > idle_expiry:
        raise WebSessionExpired(idle_since=last_seen_at)
    if now - last_seen_at >= SEEN_EVERY:
        await uow.execute(_SEEN, {"session_id": session_id, "now": now})
        last_seen_at = now
    return AuthenticatedSession(session_id, locale, last_seen_at)


async def add_message(
    uow: UnitOfWork,
    session_id: str,
    *,
    sender: str,
    text: str,
    buttons: list[tuple[str, str]] | None = None,
    attachments: list[StoredAttachment] | None = None,
    secret_input: bool = False,
    input_kind: str | None = None,
    outbox_id: int | None = None,
    turn_key: str | None = None,
) -> TranscriptMessage:
    """Append a message (and its files) to the session's transcript; ``outbox_id`` names the
    outbox row of a pushed notification, ``turn_key`` the idempotency key of the turn that
    wrote it (``turn_messages``), ``input_kind`` what the next input is (``INPUT_KINDS``).

    Raises:
        ValueError: ``sender`` is neither ``user`` nor ``bot``.
    """
    if sender not in ("user", "bot"):
        raise ValueError(f"unknown sender {sender!r}")
    pairs = [[label, payload] for label, payload in buttons or []]
    now = uow.clock.now()
    if not attachments:
        # The common case, every turn: one prepared INSERT, and no ORM object to build, track
        # and flush.
        values = {
            "session_id": session_id,
            "sender": sender,
            "text": text,
            "buttons": pairs,
            "attachments": [],
            "secret_input": secret_input,
            "input_kind": input_kind,
            "created_at": now,
            "turn_key": turn_key,
            "outbox_id": outbox_id,
        }
        row = await uow.fetch_one(_ADD_MESSAGE, values)
        assert row is not None
        return TranscriptMessage(row[0], sender, text, pairs, [], secret_input, input_kind, now)
    refs: list[list[str]] = []
    for attachment in attachments or []:
        attachment_id = secrets.token_hex(16)
        uow.session.add(
            WebAttachment(
                id=attachment_id,
                session_id=session_id,
                kind=attachment.kind,
                name=attachment.name,
                content_type=attachment.content_type,
                data=attachment.data,
            )
        )
        refs.append([attachment_id, attachment.kind, attachment.name])
    message = WebMessage(
        session_id=session_id,
        sender=sender,
        text=text,
        buttons=pairs,
        attachments=refs,
        secret_input=secret_input,
        input_kind=input_kind,
        created_at=now,
        turn_key=turn_key,
        outbox_id=outbox_id,
    )
    uow.session.add(message)
    await uow.session.flush()
    return TranscriptMessage(message.id, sender, text, pairs, refs, secret_input, input_kind, now)


async def list_messages(
    uow: UnitOfWork, session_id: str, *, after: int = 0, limit: int = MAX_MESSAGES_PER_PAGE
) -> list[TranscriptMessage]:
    """The session's messages with an id above ``after``, oldest first, at most ``limit``."""
    rows = await uow.session.scalars(
        select(WebMessage)
        .where(
            WebMessage.session_id == session_id,
            WebMessage.id > after,
            WebMessage.sender != FORGOTTEN,
        )
        .order_by(WebMessage.id)
        .limit(limit)
    )
    return [_transcript_message(m) for m in rows]


def _transcript_message(m: WebMessage) -> TranscriptMessage:
    return TranscriptMessage(
        m.id, m.sender, m.text, m.buttons, m.attachments, m.secret_input, m.input_kind, m.created_at
    )


async def turn_messages(
    uow: UnitOfWork, session_id: str, turn_key: str
) -> list[TranscriptMessage] | None:
    """The messages the session's turn with this idempotency key wrote, oldest first (those
    forgotten at a sign-out left out), or None when no turn of the session had the key.

    The session's row is locked first (PostgreSQL: ``FOR NO KEY UPDATE``, to the end of the
    transaction): a turn with the same key running in another worker commits before this one
    reads, so a message sent again while its first try still runs elsewhere runs no second turn.
    (SQLite has no row locks; several workers share PostgreSQL only.)"""
    await uow.session.execute(
        select(WebSession.id).where(WebSession.id == session_id).with_for_update(key_share=True)
    )
    rows = list(
        await uow.session.scalars(
            select(WebMessage)
            .where(WebMessage.session_id == session_id, WebMessage.turn_key == turn_key)
            .order_by(WebMessage.id)
        )
    )
    if not rows:
        return None
    return [_transcript_message(m) for m in rows if m.sender != FORGOTTEN]


async def session_exists(uow: UnitOfWork, session_id: str) -> bool:
    """Whether a session has this id (expired or not)."""
    return await uow.session.get(WebSession, session_id) is not None


async def transcript_id_of(uow: UnitOfWork, outbox_id: int) -> int | None:
    """The id of the transcript message a pushed outbox row became, or None (not stored yet)."""
    return await uow.session.scalar(select(WebMessage.id).where(WebMessage.outbox_id == outbox_id))


async def newest_message_id(db: Database) -> int:
    """The highest transcript message id of any session (0 when there is none)."""
    async with db.engine.connect() as connection:
        newest = await connection.scalar(select(func.max(WebMessage.id)))
    return int(newest or 0)


async def pushed_after(db: Database, after: int) -> list[tuple[str, int]]:
    """``(session id, message id)`` of every pushed notification above message ``after``,
    oldest first."""
    async with db.engine.connect() as connection:
        rows = await connection.execute(
            select(WebMessage.session_id, WebMessage.id)
            .where(WebMessage.outbox_id.is_not(None), WebMessage.id > after)
            .order_by(WebMessage.id)
        )
        return [(session_id, message_id) for session_id, message_id in rows]


async def last_buttons(uow: UnitOfWork, session_id: str) -> list[tuple[str, str]]:
    """The buttons of the session's newest assistant message that had any."""
    # JSON equality differs between backends: read the newest few and look in Python.
    for (buttons,) in await uow.fetch_all(_LAST_BUTTONS, {"session_id": session_id}):
        if buttons:
            return [(label, payload) for label, payload in buttons]
    return []


async def last_asked_secret(uow: UnitOfWork, session_id: str) -> bool:
    """True when the session's newest assistant message asked for a secret (a password, a
    code): whatever the person sends next is masked, even if their turn then fails."""
    row = await uow.fetch_one(_ASKED_SECRET, {"session_id": session_id})
    return row is not None and bool(row[0])


async def find_attachment(
    uow: UnitOfWork, session_id: str, attachment_id: str
) -> StoredAttachment | None:
    """A file of this session, or None (a file of another session is not found either)."""
    attachment = await uow.session.get(WebAttachment, attachment_id)
    if attachment is None or attachment.session_id != session_id:
        return None
    return StoredAttachment(
        attachment.kind, attachment.name, attachment.content_type, attachment.data
    )


async def forget_transcript(uow: UnitOfWork, session_id: str) -> int:
    """Forget the session's transcript (the chat was signed out): its files are deleted and
    its messages emptied, never to be listed again; the session itself goes on. Returns how
    many messages were forgotten.

    The rows stay, empty, until the session is purged: their ids are what keeps later ids
    growing (SQLite hands out the highest id again once its row is deleted, and a page that
    already saw that id would skip the new message) and what recognises a pushed notification
    delivered again (``outbox_id``).
    """
    await uow.session.execute(delete(WebAttachment).where(WebAttachment.session_id == session_id))
    result = await uow.session.execute(
        update(WebMessage)
        .where(WebMessage.session_id == session_id, WebMessage.sender != FORGOTTEN)
        .values(
            sender=FORGOTTEN,
            text="",
            buttons=[],
            attachments=[],
            secret_input=False,
            input_kind=None,
        )
        .returning(WebMessage.id)
    )
    return len(result.all())
