"""The handoff's services: a person asks for a person, waits in the queue of their language,
an agent claims the chat (one agent, however many click at once), they write to each other,
and one of them ends it.

Every change is written in the caller's unit of work, with the notification that tells the
person (an outbox row to their chat: ``HANDOFF_CLAIMED``, ``AGENT_MESSAGE``,
``HANDOFF_TRANSFERRED``, ``HANDOFF_CLOSED``), worded in their language when it is sent.
When someone leaves the line of a language (claimed, gone, passed on) or joins it ahead of
others (passed from another language), each waiting person whose place changed is told the new
place and wait (``HANDOFF_PLACE``; place 1: they are next): one pending notice per person,
whose place is read when it is sent, so a person whose chat is slow to deliver (Telegram's
per-chat limits) gets the newest place once, not every move since; near the head of the line
within seconds, further back at most once a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy import delete, func, select, tuple_, update

from core.errors import AlreadyClaimed, HandoffNotFound, HandoffNotOpen, NotHandoffAgent
from core.handoff.models import Handoff, HandoffMessage, HandoffStatus, Sender
from core.outbox.models import OutboxMessage, OutboxStatus
from core.outbox.service import add_notification
from core.uow import UnitOfWork, notify_listeners

__all__ = [
    "AGENT_MESSAGE",
    "CONSOLE_CHANNEL",
    "DEFAULT_WAIT",
    "HANDOFF_CLAIMED",
    "HANDOFF_CLOSED",
    "HANDOFF_NEXT",
    "HANDOFF_PLACE",
    "HANDOFF_TRANSFERRED",
    "NEAR_HEAD",
    "OPEN",
    "PLACE_DELAY",
    "PLACE_INTERVAL",
    "HandoffView",
    "Place",
    "announce_change",
    "claim",
    "close",
    "end_by_person",
    "estimated_wait",
    "get_handoff",
    "handoff_messages",
    "handoff_view",
    "open_handoff",
    "place_in_queue",
    "post_agent_message",
    "post_person_message",
    "queue_position",
    "request_agent",
    "transfer",
    "with_agent",
]

HANDOFF_CLAIMED: Final = "handoff_claimed"
AGENT_MESSAGE: Final = "agent_message"
HANDOFF_TRANSFERRED: Final = "handoff_transferred"
HANDOFF_CLOSED: Final = "handoff_closed"
HANDOFF_NEXT: Final = "handoff_next"  # the person moved up to the head of the line (older rows)
HANDOFF_PLACE: Final = "handoff_place"  # the line moved: the person's new place and wait

OPEN: Final = (HandoffStatus.WAITING, HandoffStatus.CLAIMED)
# The wait for one person when there are no recent claims to measure it by.
DEFAULT_WAIT: Final = timedelta(minutes=3)
# Recent claims the estimate is measured on: at most this many, from at most this long ago.
RECENT_CLAIMS: Final = 20
RECENT_WINDOW: Final = timedelta(hours=24)
# How long a notice of a new place in line waits before it goes, for a person near the head
# (``NEAR_HEAD``): the line's moves of those seconds are told in it, and the agents' messages
# go first. Further back, a person is told at most every ``PLACE_INTERVAL``.
PLACE_DELAY: Final = timedelta(seconds=2)
PLACE_INTERVAL: Final = timedelta(seconds=60)
NEAR_HEAD: Final = 3
# What a person's or an agent's message may hold at most (longer is cut).
MAX_MESSAGE: Final = 4000
# The PostgreSQL channel every change of a handoff is announced on (the agents' consoles
# listen, on every worker, and read what changed from the tables).
CONSOLE_CHANNEL: Final = "casebot_console"


async def announce_change(uow: UnitOfWork) -> None:
    """Wake the consoles listening on every worker once ``uow`` commits (PostgreSQL; in one
    SQLite process the consoles read the tables on their own)."""
    if uow.dialect == "postgresql":
        await notify_listeners(uow, CONSOLE_CHANNEL, "changed")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a waiting person is: their ``position`` in the queue of their language (1 is
    next) and the estimated ``wait``."""

    position: int
    wait: timedelta


@dataclass(frozen=True, slots=True)
class HandoffView:
    """A handoff as the chat sees it (plain data, no row)."""

    id: int
    status: HandoffStatus
    agent_name: str | None
    language: str

    @property
    def open(self) -> bool:
        return self.status in OPEN


async def handoff_view(uow: UnitOfWork, handoff_id: int) -> HandoffView | None:
    """The handoff as plain data, or None when there is none with this id."""
    row = (
        await uow.session.execute(
            select(Handoff.id, Handoff.status, Handoff.agent_name, Handoff.language).where(
                Handoff.id == handoff_id
            )
        )
    ).first()
    return None if row is None else HandoffView(*row)


async def get_handoff(uow: UnitOfWork, handoff_id: int, *, lock: bool = False) -> Handoff:
    """The handoff, read fresh; with ``lock``, locked until the unit of work ends (PostgreSQL:
    a change made meanwhile by another transaction is waited for, and read).

    Raises:
        HandoffNotFound: there is none with this id.
    """
    query = select(Handoff).where(Handoff.id == handoff_id)
    if lock:
        query = query.with_for_update()
    handoff = await uow.session.scalar(query.execution_options(populate_existing=True))
    if handoff is None:
        raise HandoffNotFound(handoff_id)
    return handoff


async def open_handoff(uow: UnitOfWork, channel: str, chat_id: str) -> Handoff | None:
    """The chat's handoff that is waiting or claimed, or None."""
    handoff: Handoff | None = await uow.session.scalar(
        select(Handoff)
        .where(Handoff.channel == channel, Handoff.chat_id == chat_id, Handoff.status.in_(OPEN))
        .order_by(Handoff.id.desc())
        .limit(1)
        .execution_options(populate_existing=True)
    )
    return handoff


async def with_agent(uow: UnitOfWork, channel: str, chat_id: str) -> bool:
    """Whether an agent has the chat now (what the person types goes to them)."""
    found = await uow.session.scalar(
        select(Handoff.id)
        .where(
            Handoff.channel == channel,
            Handoff.chat_id == chat_id,
            Handoff.status == HandoffStatus.CLAIMED,
        )
        .limit(1)
    )
    return found is not None


async def request_agent(
    uow: UnitOfWork,
    *,
    channel: str,
    chat_id: str,
    language: str,
    topic: str | None = None,
    account_id: int | None = None,
) -> Handoff:
    """Put a chat in the queue of ``language``; a chat with an open handoff keeps it (and its
    place), whatever it asks again."""
    existing = await open_handoff(uow, channel, chat_id)
    if existing is not None:
        return existing
    handoff = Handoff(
        channel=channel,
        chat_id=chat_id,
        language=language,
        topic=topic,
        account_id=account_id,
        status=HandoffStatus.WAITING,
        created_at=uow.clock.now(),
    )
    uow.session.add(handoff)
    await uow.flush()
    await _system(uow, handoff, "requested")
    return handoff


async def queue_position(uow: UnitOfWork, handoff_id: int) -> int:
    """The place of a waiting handoff in the queue of its language (1 is next); 0 when it is
    not waiting.

    Raises:
        HandoffNotFound: there is none with this id.
    """
    handoff = await get_handoff(uow, handoff_id)
    if handoff.status != HandoffStatus.WAITING:
        return 0
    ahead = await uow.session.scalar(
        select(func.count(Handoff.id)).where(
            Handoff.status == HandoffStatus.WAITING,
            Handoff.language == handoff.language,
            Handoff.id < handoff.id,
        )
    )
    return (ahead or 0) + 1


async def estimated_wait(uow: UnitOfWork, language: str, position: int) -> timedelta:
    """How long the person at ``position`` may wait: the average wait of the recent claims of
    that language (``DEFAULT_WAIT`` when there are none) for them and each person ahead."""
    since = uow.clock.now() - RECENT_WINDOW
    rows = await uow.session.execute(
        select(Handoff.created_at, Handoff.claimed_at)
        .where(
            Handoff.language == language,
            Handoff.claimed_at.is_not(None),
            Handoff.claimed_at >= since,
        )
        .order_by(Handoff.claimed_at.desc())
        .limit(RECENT_CLAIMS)
    )
    waits = [claimed - created for created, claimed in rows if claimed is not None]
    each = sum(waits, timedelta()) / len(waits) if waits else DEFAULT_WAIT
    return each * max(1, position)


async def place_in_queue(uow: UnitOfWork, handoff_id: int) -> Place:
    """The position and estimated wait of a handoff (position 0: it is not waiting).

    Raises:
        HandoffNotFound: there is none with this id.
    """
    position = await queue_position(uow, handoff_id)
    handoff = await get_handoff(uow, handoff_id)
    wait = await estimated_wait(uow, handoff.language, position) if position else timedelta()
    return Place(position, wait)


async def claim(uow: UnitOfWork, handoff_id: int, staff_id: int, name: str) -> Handoff:
    """An agent takes a waiting handoff, and the person is told who they now chat with.

    One conditional UPDATE decides: of agents claiming at once, on any number of workers,
    exactly one changes the row; the others find it claimed.

    Raises:
        AlreadyClaimed: it is not waiting any more (someone else has it, or it ended).
        HandoffNotFound: there is none with this id.
    """
    now = uow.clock.now()
    result = await uow.session.execute(
        update(Handoff)
        .where(Handoff.id == handoff_id, Handoff.status == HandoffStatus.WAITING)
        .values(status=HandoffStatus.CLAIMED, staff_id=staff_id, agent_name=name, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    handoff = await get_handoff(uow, handoff_id)
    if getattr(result, "rowcount", 0) != 1:
        raise AlreadyClaimed(handoff_id, handoff.staff_id, handoff.status.value)
    event = await _tell_person(uow, handoff, HANDOFF_CLAIMED, "claimed", staff_id=staff_id)
    await _tell_line(uow, handoff.language, after=handoff.id, move=event.id)
    return handoff


async def post_agent_message(
    uow: UnitOfWork, handoff_id: int, staff_id: int, text: str
) -> HandoffMessage:
    """The agent who has the handoff writes to the person (through the outbox, to their chat).

    Raises:
        NotHandoffAgent: this agent does not have it.
        HandoffNotOpen: it is waiting, closed or abandoned.
        HandoffNotFound: there is none with this id.
    """
    handoff = await _held_by(uow, handoff_id, staff_id)
    message = await _add(uow, handoff, Sender.AGENT, text=text[:MAX_MESSAGE], staff_id=staff_id)
    await add_notification(
        uow,
        kind=AGENT_MESSAGE,
        channel=handoff.channel,
        address=handoff.chat_id,
        payload={"handoff_id": handoff.id, "agent_name": handoff.agent_name, "text": message.text},
        dedupe_key=f"handoff-message:{message.id}",
    )
    return message


async def post_person_message(
    uow: UnitOfWork, handoff_id: int, text: str, *, withheld: bool = False
) -> HandoffMessage:
    """The person writes to the agent. A message the chat found to be a secret (a password, a
    code) is ``withheld``: the agent and the transcript learn only that one was held back.

    Raises:
        HandoffNotOpen: it is not claimed (closed, abandoned, or still waiting).
        HandoffNotFound: there is none with this id.
    """
    handoff = await get_handoff(uow, handoff_id)
    if handoff.status != HandoffStatus.CLAIMED:
        raise HandoffNotOpen(handoff_id, handoff.status.value)
    if withheld:
        return await _add(uow, handoff, Sender.SYSTEM, event="withheld")
    return await _add(uow, handoff, Sender.PERSON, text=text[:MAX_MESSAGE])


async def transfer(
    uow: UnitOfWork,
    handoff_id: int,
    staff_id: int,
    *,
    to_language: str | None = None,
    to_staff: tuple[int, str] | None = None,
) -> Handoff:
    """The agent who has the handoff passes it on: to the queue of another language (it waits
    again, first in line by its age), or to another agent (``(staff_id, name)``), who has it
    at once. The person is told.

    Raises:
        ValueError: neither or both of ``to_language`` and ``to_staff``.
        NotHandoffAgent, HandoffNotOpen, HandoffNotFound: see ``post_agent_message``.
    """
    if (to_language is None) == (to_staff is None):
        raise ValueError("transfer to a language or to a staff member")
    handoff = await _held_by(uow, handoff_id, staff_id)
    if to_staff is not None:
        handoff.staff_id, handoff.agent_name = to_staff
        handoff.claimed_at = uow.clock.now()
        await uow.flush()
        await _tell_person(uow, handoff, HANDOFF_CLAIMED, "transferred", staff_id=to_staff[0])
        return handoff
    assert to_language is not None
    handoff.language = to_language
    handoff.status = HandoffStatus.WAITING
    handoff.staff_id = handoff.agent_name = handoff.claimed_at = None
    await uow.flush()
    event = await _tell_person(uow, handoff, HANDOFF_TRANSFERRED, "transferred", staff_id=staff_id)
    # Back in a line by its age: those of that language behind it are one place further.
    await _tell_line(uow, to_language, after=handoff.id, move=event.id)
    return handoff


async def close(
    uow: UnitOfWork, handoff_id: int, outcome: str, *, staff_id: int | None = None
) -> Handoff:
    """End a handoff with an ``outcome`` (``resolved``, ``no_answer``, ...); the person is told
    and is back with the assistant. With ``staff_id``, only the agent who has it may.

    Raises:
        NotHandoffAgent: ``staff_id`` does not have it.
        HandoffNotOpen: it ended already.
        HandoffNotFound: there is none with this id.
    """
    if staff_id is not None:
        handoff = await _held_by(uow, handoff_id, staff_id)
    else:
        handoff = await _open(uow, handoff_id)
    was_waiting = handoff.status == HandoffStatus.WAITING
    handoff.status = HandoffStatus.CLOSED
    handoff.outcome = outcome[:40]
    handoff.closed_at = uow.clock.now()
    await uow.flush()
    event = await _tell_person(uow, handoff, HANDOFF_CLOSED, "closed", staff_id=staff_id)
    if was_waiting:
        await _tell_line(uow, handoff.language, after=handoff.id, move=event.id)
    return handoff


async def end_by_person(uow: UnitOfWork, handoff_id: int) -> Handoff:
    """The person leaves: a waiting handoff is abandoned, a claimed one closed (outcome
    ``ended_by_person``). Nothing is sent to the person (the chat answers them at once).

    Raises:
        HandoffNotOpen: it ended already.
        HandoffNotFound: there is none with this id.
    """
    handoff = await _open(uow, handoff_id)
    was_waiting = handoff.status == HandoffStatus.WAITING
    if was_waiting:
        handoff.status = HandoffStatus.ABANDONED
        handoff.outcome = "left_queue"
    else:
        handoff.status = HandoffStatus.CLOSED
        handoff.outcome = "ended_by_person"
    handoff.closed_at = uow.clock.now()
    await uow.flush()
    event = await _system(uow, handoff, "ended_by_person")
    if was_waiting:
        await _tell_line(uow, handoff.language, after=handoff.id, move=event.id)
    return handoff


async def handoff_messages(uow: UnitOfWork, handoff_id: int) -> list[HandoffMessage]:
    """The messages of a handoff, oldest first (withheld secrets have no text)."""
    rows = await uow.session.scalars(
        select(HandoffMessage)
        .where(HandoffMessage.handoff_id == handoff_id)
        .order_by(HandoffMessage.id)
    )
    return list(rows)


# --- helpers ---------------------------------------------------------------------------------


async def _open(uow: UnitOfWork, handoff_id: int) -> Handoff:
    # Locked: a claim committed meanwhile is seen (the person who leaves at the moment an
    # agent claims ends the claimed chat; the claim is not overwritten).
    handoff = await get_handoff(uow, handoff_id, lock=True)
    if handoff.status not in OPEN:
        raise HandoffNotOpen(handoff_id, handoff.status.value)
    return handoff


async def _held_by(uow: UnitOfWork, handoff_id: int, staff_id: int) -> Handoff:
    handoff = await _open(uow, handoff_id)
    if handoff.status != HandoffStatus.CLAIMED:
        raise HandoffNotOpen(handoff_id, handoff.status.value)
    if handoff.staff_id != staff_id:
        raise NotHandoffAgent(handoff_id, staff_id)
    return handoff


async def _add(
    uow: UnitOfWork,
    handoff: Handoff,
    sender: Sender,
    *,
    text: str = "",
    event: str | None = None,
    staff_id: int | None = None,
) -> HandoffMessage:
    message = HandoffMessage(
        handoff_id=handoff.id,
        sender=sender,
        event=event,
        text=text,
        staff_id=staff_id,
        created_at=uow.clock.now(),
    )
    uow.session.add(message)
    await uow.flush()
    await announce_change(uow)
    return message


async def _system(
    uow: UnitOfWork, handoff: Handoff, event: str, *, staff_id: int | None = None
) -> HandoffMessage:
    return await _add(uow, handoff, Sender.SYSTEM, event=event, staff_id=staff_id)


async def _tell_line(uow: UnitOfWork, language: str, *, after: int, move: int) -> None:
    """The line of ``language`` moved behind handoff ``after`` (it left, or joined it): each
    one waiting behind it will be told the new place and wait, by one pending notice per
    person that names only the handoff: the place is read when the notice is sent
    (``place_in_queue``), so a move changes no notice already pending, and the moves until it
    goes are told in it at once. A person near the head (place ``NEAR_HEAD`` or better) is told
    within ``PLACE_DELAY``; one further back at most every ``PLACE_INTERVAL``: a long line that
    moves every few seconds does not fill their chat, nor keep the dispatcher from the agents'
    messages. The notices of ``after`` itself are withdrawn (it left, or its place is told
    with its own news)."""
    waiting = (
        await uow.session.execute(
            select(Handoff.id, Handoff.channel, Handoff.chat_id)
            .where(Handoff.status == HandoffStatus.WAITING, Handoff.language == language)
            .order_by(Handoff.id)
        )
    ).all()
    behind = [(n, row) for n, row in enumerate(waiting, start=1) if row.id > after]
    left = await uow.session.scalar(select(Handoff).where(Handoff.id == after))
    if left is not None:
        await uow.session.execute(
            delete(OutboxMessage)
            .where(
                OutboxMessage.kind == HANDOFF_PLACE,
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.claimed_until.is_(None),
                OutboxMessage.channel == left.channel,
                OutboxMessage.address == left.chat_id,
            )
            .execution_options(synchronize_session=False)
        )
    if not behind:
        return
    chats = [(row.channel, row.chat_id) for _, row in behind]
    unsent = select(OutboxMessage.id, OutboxMessage.channel, OutboxMessage.address).where(
        OutboxMessage.kind == HANDOFF_PLACE,
        OutboxMessage.status == OutboxStatus.PENDING,
        OutboxMessage.claimed_until.is_(None),
        tuple_(OutboxMessage.channel, OutboxMessage.address).in_(chats),
    )
    # Not locked: another claim moving the line at the same moment sees these notices pending
    # too (skipping them as locked, it wrote a second one for everyone). A notice being sent
    # right now reads the place before this move; the next move tells the newer one.
    pending = {
        (channel, address): id_ for id_, channel, address in await uow.session.execute(unsent)
    }
    now = uow.clock.now()
    soon = now + PLACE_DELAY
    near = [
        pending[(row.channel, row.chat_id)]
        for position, row in behind
        if position <= NEAR_HEAD and (row.channel, row.chat_id) in pending
    ]
    if near:  # now near the head: their notice goes soon, whenever it was due
        await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(near), OutboxMessage.next_attempt_at > soon)
            .values(next_attempt_at=soon)
            .execution_options(synchronize_session=False)
        )
    uow.session.add_all(
        OutboxMessage(
            kind=HANDOFF_PLACE,
            channel=row.channel,
            address=row.chat_id,
            payload={"handoff_id": row.id, "language": language},
            dedupe_key=f"handoff-place:{row.id}:{move}",
            next_attempt_at=soon if position <= NEAR_HEAD else now + PLACE_INTERVAL,
            created_at=now,
        )
        for position, row in behind
        if (row.channel, row.chat_id) not in pending
    )
    await uow.flush()


async def _tell_person(
    uow: UnitOfWork, handoff: Handoff, kind: str, event: str, *, staff_id: int | None
) -> HandoffMessage:
    """Record the event and queue the notification that tells the person of it; returns
    the event."""
    message = await _system(uow, handoff, event, staff_id=staff_id)
    await add_notification(
        uow,
        kind=kind,
        channel=handoff.channel,
        address=handoff.chat_id,
        payload={
            "handoff_id": handoff.id,
            "agent_name": handoff.agent_name,
            "language": handoff.language,
        },
        dedupe_key=f"handoff-message:{message.id}",
    )
    return message
