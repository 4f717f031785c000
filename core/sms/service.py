"""Text messages in the database: opted-out numbers, delivery statuses, and which of a batch of
texts may go now (``screen``).

A text notification is an outbox row with ``channel="sms"``, the number (E.164) as its
address, and the ``kind``/``payload`` of any notification; the payload may carry ``locale``
and ``time_zone`` (IANA; New York when missing).

Inbound keywords follow the US carriers' rules: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END and QUIT
end every text to the number at once (``opt_out`` parks what is pending for it, and the sender
checks the table before each text); START and UNSTOP turn texts on again; HELP and INFO ask for
help. Only a message that is the keyword alone (any case, spaces around) counts.

A STOP also reaches consent: the number's contact points (``core.contacts``) that were on are
stopped, marked as stopped by the keyword, so no status change queues a text for it any more;
a START turns on again only those (a contact point the person stopped in the chat or by its
link stays off).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, func, select, update

from core.cases.repository import dialect_insert
from core.contacts.models import ContactChannel, ContactPoint
from core.outbox.dispatch import ClaimedMessage, Held
from core.outbox.models import OutboxMessage, OutboxStatus
from core.sms.models import SmsDelivery, SmsOptOut
from core.sms.rules import DAILY_CAP, day_start, hold, is_code, zone_of
from core.uow import UnitOfWork

__all__ = [
    "CHANNEL",
    "FINAL_STATUSES",
    "OPTED_OUT",
    "STATUSES",
    "Keyword",
    "OptOut",
    "is_opted_out",
    "keyword_of",
    "number_locale",
    "opt_in",
    "opt_out",
    "purge_deliveries",
    "record_accepted",
    "record_status",
    "screen",
    "sent_today",
]

CHANNEL: Final = "sms"
OPTED_OUT: Final = "the number opted out (STOP)"
FINAL_STATUSES: Final = frozenset(
    {"delivered", "undelivered", "failed", "canceled", "partially_delivered"}
)
STATUSES: Final = frozenset({"accepted", "queued", "sending", "sent", "scheduled", "read"})


class Keyword(enum.StrEnum):
    STOP = "stop"
    START = "start"
    HELP = "help"


_KEYWORDS: Final = {
    **dict.fromkeys(("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"), Keyword.STOP),
    **dict.fromkeys(("START", "UNSTOP"), Keyword.START),
    **dict.fromkeys(("HELP", "INFO"), Keyword.HELP),
}


def keyword_of(body: str) -> Keyword | None:
    """The keyword an inbound text is, or None (any other text)."""
    return _KEYWORDS.get(body.strip().upper())


@dataclass(frozen=True, slots=True)
class OptOut:
    """What a STOP did: whether the number was opted in until now (then it is confirmed),
    how many pending texts were parked, the language of its last text, if known, and how many
    of its contact points it stopped."""

    new: bool
    parked: int
    locale: str | None
    stopped_contacts: int = 0


async def is_opted_out(uow: UnitOfWork, number: str) -> bool:
    return await uow.session.get(SmsOptOut, number) is not None


async def number_locale(uow: UnitOfWork, number: str) -> str | None:
    """The language of the latest pending text to ``number`` that names one (texts sent keep
    no payload), or None."""
    payloads = await uow.session.scalars(
        select(OutboxMessage.payload)
        .where(
            OutboxMessage.channel == CHANNEL,
            OutboxMessage.address == number,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(20)
    )
    for payload in payloads:
        locale = payload.get("locale") if isinstance(payload, dict) else None
        if isinstance(locale, str) and locale:
            return locale
    return None


async def opt_out(uow: UnitOfWork, number: str, *, keyword: str, now: datetime) -> OptOut:
    """The number replied STOP (or another stop word): no text goes to it any more, and every
    text pending for it is parked now (those a sender holds at this moment included: it
    checks again before sending). Idempotent: a second STOP changes nothing and says so."""
    locale = await number_locale(uow, number)
    inserted = await uow.session.execute(  # two STOPs at once: one of them is the new one
        dialect_insert(uow)(SmsOptOut)
        .values(number=number, keyword=keyword[:20], opted_out_at=now)
        .on_conflict_do_nothing(index_elements=["number"])
        .returning(SmsOptOut.number)
    )
    new = inserted.first() is not None
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.channel == CHANNEL,
            OutboxMessage.address == number,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(
            status=OutboxStatus.PARKED,
            last_error=OPTED_OUT,
            payload={},
            next_attempt_at=now,
            claimed_until=None,
            claimed_by=None,
        )
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    parked = len(result.all())
    stopped = await uow.session.execute(
        update(ContactPoint)
        .where(
            ContactPoint.channel == ContactChannel.SMS,
            ContactPoint.address == number,
            ContactPoint.stopped_at.is_(None),
        )
        .values(stopped_at=now, stopped_by_keyword=True)
        .returning(ContactPoint.id)
        .execution_options(synchronize_session=False)
    )
    stopped_contacts = len(stopped.all())
    await uow.flush()
    return OptOut(new=new, parked=parked, locale=locale, stopped_contacts=stopped_contacts)


async def opt_in(uow: UnitOfWork, number: str) -> bool:
    """The number replied START: texts may go to it again, and its contact points that a STOP
    stopped are on again. Returns whether it was opted out."""
    await uow.session.execute(
        update(ContactPoint)
        .where(
            ContactPoint.channel == ContactChannel.SMS,
            ContactPoint.address == number,
            ContactPoint.stopped_by_keyword.is_(True),
        )
        .values(stopped_at=None, stopped_by_keyword=False)
        .execution_options(synchronize_session=False)
    )
    row = await uow.session.get(SmsOptOut, number)
    if row is None:
        await uow.flush()
        return False
    await uow.session.delete(row)
    await uow.flush()
    return True


async def sent_today(uow: UnitOfWork, number: str, *, since: datetime) -> int:
    """Texts that are not codes sent to ``number`` since ``since``."""
    count = await uow.session.scalar(
        select(func.count()).where(
            OutboxMessage.channel == CHANNEL,
            OutboxMessage.address == number,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.sent_at >= since,
            OutboxMessage.kind.not_like("code%"),
        )
    )
    return int(count or 0)


async def screen(
    uow: UnitOfWork, messages: Sequence[ClaimedMessage], *, now: datetime, cap: int = DAILY_CAP
) -> dict[int, Held]:
    """Which of a claimed batch of texts may not go now: to a number that opted out (parked),
    in the person's quiet hours or over the number's daily cap (deferred to when they may go,
    see ``core.sms.rules``). The texts of the batch that may go count toward the cap of the
    ones after them."""
    held: dict[int, Held] = {}
    admitted: Counter[str] = Counter()
    counted: dict[str, int] = {}
    for message in messages:
        number = message.address
        if await is_opted_out(uow, number):
            held[message.id] = Held(None, OPTED_OUT)
            continue
        zone = zone_of(message.payload.get("time_zone"))
        if number not in counted and not is_code(message.kind):
            counted[number] = await sent_today(uow, number, since=day_start(now, zone))
        wait = hold(
            message.kind,
            now=now,
            zone=zone,
            sent_today=counted.get(number, 0) + admitted[number],
            cap=cap,
        )
        if wait is not None:
            held[message.id] = Held(wait.until, str(wait.reason))
        elif not is_code(message.kind):
            admitted[number] += 1
    return held


async def record_accepted(
    uow: UnitOfWork, sid: str, *, number: str, outbox_id: int | None, now: datetime
) -> None:
    """The provider accepted a text (its id ``sid``): kept to match its status callbacks, which
    may arrive before this is written (then the row they made gets the outbox id)."""
    statement = dialect_insert(uow)(SmsDelivery).values(
        sid=sid, outbox_id=outbox_id, number=number, status="queued", created_at=now,
        updated_at=now,
    )  # fmt: skip
    await uow.session.execute(
        statement.on_conflict_do_update(index_elements=["sid"], set_={"outbox_id": outbox_id})
    )


async def record_status(
    uow: UnitOfWork, sid: str, *, number: str, status: str, error_code: int | None, now: datetime
) -> None:
    """A delivery status the provider reported (for a text whose acceptance may not be written
    yet). A final status (delivered, undelivered, failed) is never replaced by an earlier one
    arriving late.

    Raises:
        ValueError: a status the provider does not send.
    """
    if status not in FINAL_STATUSES and status not in STATUSES:
        raise ValueError(f"unknown message status {status!r}")
    await uow.session.execute(
        dialect_insert(uow)(SmsDelivery)
        .values(
            sid=sid,
            number=number[:16],
            status=status,
            error_code=error_code,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["sid"])
    )
    statement = select(SmsDelivery).where(SmsDelivery.sid == sid)
    if uow.dialect == "postgresql":
        statement = statement.with_for_update()
    row = (await uow.session.scalars(statement.execution_options(populate_existing=True))).one()
    if row.status in FINAL_STATUSES and status not in FINAL_STATUSES:
        return
    row.status = status
    row.error_code = error_code
    row.updated_at = now
    await uow.flush()


async def purge_deliveries(uow: UnitOfWork, *, updated_before: datetime, limit: int) -> int:
    """Delete up to ``limit`` delivery records last updated before ``updated_before`` (a phone
    number is personal data: kept as long as the sent notification it belongs to); returns how
    many. Opted-out numbers are kept: they are the record of a person's refusal."""
    found = await uow.session.scalars(
        select(SmsDelivery.sid)
        .where(SmsDelivery.updated_at < updated_before)
        .order_by(SmsDelivery.updated_at)
        .limit(limit)
    )
    sids = list(found)
    if sids:
        await uow.session.execute(delete(SmsDelivery).where(SmsDelivery.sid.in_(sids)))
    return len(sids)
