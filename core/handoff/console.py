"""What the agents' console reads: the waiting line, one conversation with its context, and
the changes since a point (the live feed).

Plain data only: the console API turns it into JSON. The person's text is returned as they
wrote it (the console shows it as text, never as markup); a secret the chat held back has no
text here either (``withheld``), and the web transcript keeps secrets masked.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import func, select

from core.accounts.models import Account
from core.appointments.service import list_appointments
from core.cases.service import list_cases
from core.errors import HandoffNotFound
from core.handoff.models import Handoff, HandoffMessage, HandoffStatus, SecureMessage, Sender
from core.uow import UnitOfWork
from core.web_sessions import FORGOTTEN, WebMessage

__all__ = [
    "TRANSCRIPT_LIMIT",
    "CaseLine",
    "Conversation",
    "FeedEvent",
    "LineMessage",
    "QueueEntry",
    "SecureView",
    "Visit",
    "abandoned_since",
    "conversation",
    "feed_after",
    "feed_cursor",
    "handoff_access",
    "queue_lengths",
    "secure_message_language",
    "secure_message_list",
    "waiting_queue",
]

WEB_CHANNEL: Final = "webchat"
# The bot's transcript shown to the agent: its newest messages, at most this many.
TRANSCRIPT_LIMIT: Final = 200
QUEUE_LIMIT: Final = 500


@dataclass(frozen=True, slots=True)
class QueueEntry:
    handoff_id: int
    language: str
    channel: str
    waiting_seconds: int
    topic: str | None
    signed_in: bool


@dataclass(frozen=True, slots=True)
class LineMessage:
    """One line of a transcript: ``sender`` is person, bot, agent or system (``event`` says
    what happened); ``text`` is empty for a withheld secret and an event."""

    sender: str
    text: str
    at: datetime | None
    event: str | None = None
    masked: bool = False


@dataclass(frozen=True, slots=True)
class CaseLine:
    receipt: str
    form_type: str
    status: str
    updated_at: datetime
    received_date: date | None


@dataclass(frozen=True, slots=True)
class Visit:
    kind: str
    office: str
    starts_at: datetime
    status: str


@dataclass(frozen=True, slots=True)
class Conversation:
    handoff_id: int
    status: str
    language: str
    channel: str
    topic: str | None
    signed_in: bool
    staff_id: int | None
    agent_name: str | None
    created_at: datetime
    outcome: str | None
    bot_transcript: list[LineMessage]
    messages: list[LineMessage]
    cases: list[CaseLine]
    appointments: list[Visit]


async def waiting_queue(uow: UnitOfWork, languages: Collection[str] | None) -> list[QueueEntry]:
    """The people waiting, oldest first; only those of ``languages`` (None: every language)."""
    query = select(Handoff).where(Handoff.status == HandoffStatus.WAITING)
    if languages is not None:
        query = query.where(Handoff.language.in_(list(languages)))
    rows = await uow.session.scalars(query.order_by(Handoff.id).limit(QUEUE_LIMIT))
    now = uow.clock.now()
    return [
        QueueEntry(
            handoff_id=h.id,
            language=h.language,
            channel=h.channel,
            waiting_seconds=max(0, int((now - h.created_at).total_seconds())),
            topic=h.topic,
            signed_in=h.account_id is not None,
        )
        for h in rows
    ]


async def queue_lengths(uow: UnitOfWork) -> dict[str, int]:
    """How many people wait, per language."""
    rows = await uow.session.execute(
        select(Handoff.language, func.count(Handoff.id))
        .where(Handoff.status == HandoffStatus.WAITING)
        .group_by(Handoff.language)
    )
    return {language: count for language, count in rows}


def _handoff_line(message: HandoffMessage) -> LineMessage:
    if message.sender == Sender.SYSTEM:
        return LineMessage(
            "system", "", message.created_at, message.event, masked=message.event == "withheld"
        )
    return LineMessage(message.sender.value, message.text, message.created_at)


async def _bot_transcript(uow: UnitOfWork, handoff: Handoff) -> list[LineMessage]:
    """The web chat's transcript before and around the handoff (other channels keep none)."""
    if handoff.channel != WEB_CHANNEL:
        return []
    rows = await uow.session.scalars(
        select(WebMessage)
        .where(WebMessage.session_id == handoff.chat_id, WebMessage.sender != FORGOTTEN)
        .order_by(WebMessage.id.desc())
        .limit(TRANSCRIPT_LIMIT)
    )
    lines = []
    for m in reversed(list(rows)):
        sender = "person" if m.sender == "user" else "bot"
        if m.secret_input and sender == "person":
            lines.append(LineMessage(sender, "", m.created_at, masked=True))
        else:
            lines.append(LineMessage(sender, m.text, m.created_at))
    return lines


async def conversation(uow: UnitOfWork, handoff_id: int) -> Conversation:
    """One conversation as the agent sees it: the bot's transcript (secrets masked), the
    messages of the handoff, and, for a signed-in person, their cases and appointments.

    Raises:
        HandoffNotFound: there is none with this id.
    """
    handoff = await uow.session.get(Handoff, handoff_id, populate_existing=True)
    if handoff is None:
        raise HandoffNotFound(handoff_id)
    messages = await uow.session.scalars(
        select(HandoffMessage)
        .where(HandoffMessage.handoff_id == handoff_id)
        .order_by(HandoffMessage.id)
    )
    cases: list[CaseLine] = []
    visits: list[Visit] = []
    account = (
        None if handoff.account_id is None else await uow.session.get(Account, handoff.account_id)
    )
    if account is not None:
        for case in await list_cases(uow, account.id):
            cases.append(
                CaseLine(
                    str(case.receipt),
                    case.form_type,
                    case.status.code,
                    case.updated_at,
                    case.received_date,
                )
            )
        for visit in await list_appointments(uow, account.id):
            visits.append(
                Visit(visit.kind.value, visit.office.name, visit.starts_at, visit.status.value)
            )
    return Conversation(
        handoff_id=handoff.id,
        status=handoff.status.value,
        language=handoff.language,
        channel=handoff.channel,
        topic=handoff.topic,
        signed_in=handoff.account_id is not None,
        staff_id=handoff.staff_id,
        agent_name=handoff.agent_name,
        created_at=handoff.created_at,
        outcome=handoff.outcome,
        bot_transcript=await _bot_transcript(uow, handoff),
        messages=[_handoff_line(m) for m in messages],
        cases=cases,
        appointments=visits,
    )


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """A change the console is told of live: ``kind`` is ``handoff`` (an event or message of
    a handoff: ``event`` names it, or ``message`` with ``sender``) or ``secure_message``."""

    cursor: tuple[int, int]
    kind: str
    id: int
    language: str
    event: str
    sender: str | None = None
    staff_id: int | None = None


async def feed_cursor(uow: UnitOfWork) -> tuple[int, int]:
    """The newest handoff message id and secure message id: the feed starts after them."""
    last_message = await uow.session.scalar(select(func.max(HandoffMessage.id)))
    last_secure = await uow.session.scalar(select(func.max(SecureMessage.id)))
    return last_message or 0, last_secure or 0


async def feed_after(uow: UnitOfWork, cursor: tuple[int, int], limit: int = 500) -> list[FeedEvent]:
    """What happened after ``cursor``, oldest first: every handoff message (a system event or a
    message), then the new secure messages. Each event names the handoff's current language."""
    after_message, after_secure = cursor
    rows = await uow.session.execute(
        select(
            HandoffMessage.id,
            HandoffMessage.handoff_id,
            HandoffMessage.sender,
            HandoffMessage.event,
            HandoffMessage.staff_id,
            Handoff.language,
        )
        .join(Handoff, Handoff.id == HandoffMessage.handoff_id)
        .where(HandoffMessage.id > after_message)
        .order_by(HandoffMessage.id)
        .limit(limit)
    )
    events: list[FeedEvent] = []
    last_secure = after_secure
    for message_id, handoff_id, sender, event, staff_id, language in rows:
        name = event if sender == Sender.SYSTEM and event else "message"
        events.append(
            FeedEvent(
                (message_id, last_secure),
                "handoff",
                handoff_id,
                language,
                name,
                sender=sender.value,
                staff_id=staff_id,
            )
        )
    last_message = events[-1].cursor[0] if events else after_message
    secure = await uow.session.execute(
        select(SecureMessage.id, SecureMessage.locale)
        .where(SecureMessage.id > after_secure)
        .order_by(SecureMessage.id)
        .limit(limit)
    )
    for secure_id, locale in secure:
        events.append(
            FeedEvent((last_message, secure_id), "secure_message", secure_id, locale, "new")
        )
    return events


async def abandoned_since(uow: UnitOfWork, since: datetime) -> int:
    """How many people left the line before an agent took them, since ``since``."""
    count = await uow.session.scalar(
        select(func.count(Handoff.id)).where(
            Handoff.status == HandoffStatus.ABANDONED, Handoff.closed_at >= since
        )
    )
    return count or 0


async def handoff_access(uow: UnitOfWork, handoff_id: int) -> tuple[str, int | None]:
    """The language of a handoff and the staff member who holds it (None: nobody).

    Raises:
        HandoffNotFound: there is none with this id.
    """
    row = (
        await uow.session.execute(
            select(Handoff.language, Handoff.staff_id).where(Handoff.id == handoff_id)
        )
    ).first()
    if row is None:
        raise HandoffNotFound(handoff_id)
    return row[0], row[1]


@dataclass(frozen=True, slots=True)
class SecureView:
    """A secure message as the console shows it."""

    id: int
    language: str
    channel: str
    topic: str | None
    signed_in: bool
    text: str
    created_at: datetime
    replied_at: datetime | None
    reply_text: str | None

    @classmethod
    def of(cls, m: SecureMessage) -> SecureView:
        return cls(
            m.id,
            m.locale,
            m.channel,
            m.topic,
            m.account_id is not None,
            m.text,
            m.created_at,
            m.replied_at,
            m.reply_text,
        )


async def secure_message_list(
    uow: UnitOfWork, languages: Collection[str] | None, *, answered: bool = False, limit: int = 500
) -> list[SecureView]:
    """Secure messages of ``languages`` (None: all), oldest first; only the unanswered ones
    unless ``answered``."""
    query = select(SecureMessage).order_by(SecureMessage.id).limit(limit)
    if not answered:
        query = query.where(SecureMessage.replied_at.is_(None))
    if languages is not None:
        query = query.where(SecureMessage.locale.in_(list(languages)))
    return [SecureView.of(m) for m in await uow.session.scalars(query)]


async def secure_message_language(uow: UnitOfWork, message_id: int) -> str | None:
    """The language of a secure message (None: there is none with this id)."""
    language: str | None = await uow.session.scalar(
        select(SecureMessage.locale).where(SecureMessage.id == message_id)
    )
    return language
