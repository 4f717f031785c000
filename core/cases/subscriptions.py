"""Following a case: chats that want to hear about its status changes."""

from __future__ import annotations

from typing import Final

from sqlalchemy import bindparam, delete, select

from core.cases.models import Case, Subscription
from core.cases.receipt import ReceiptNumber
from core.cases.repository import dialect_insert, find_case
from core.cases.throttle import throttle_lookup
from core.cases.views import PublicStatus, public_status
from core.errors import CaseNotFound
from core.statements import Prepared
from core.uow import UnitOfWork

__all__ = ["is_following", "subscribe", "subscriptions_for_chat", "unsubscribe"]


async def subscribe(
    uow: UnitOfWork, receipt_number: str | ReceiptNumber, *, channel: str, chat_id: str
) -> bool:
    """Have a chat notified of the case's status changes; anyone may. Idempotent.

    An unknown receipt number counts against the chat's lookup throttle (requester
    ``channel:chat_id``), so subscribing is no way around it.

    Returns:
        True if the chat was not subscribed before.

    Raises:
        InvalidReceiptNumber: not a receipt number.
        RateLimited: the chat tried too many unknown numbers.
        CaseNotFound: no case has this receipt number.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    case = await find_case(uow, receipt)
    if case is None:
        await throttle_lookup(uow, f"{channel}:{chat_id}")
        raise CaseNotFound(receipt_number=str(receipt))
    stmt = (
        dialect_insert(uow)(Subscription)
        .values(case_id=case.id, channel=channel, chat_id=chat_id, created_at=uow.clock.now())
        .on_conflict_do_nothing(index_elements=["case_id", "channel", "chat_id"])
        .returning(Subscription.id)
    )
    new_id = (await uow.session.execute(stmt)).scalar_one_or_none()
    return new_id is not None


async def unsubscribe(
    uow: UnitOfWork, receipt_number: str | ReceiptNumber, *, channel: str, chat_id: str
) -> bool:
    """Stop notifying a chat of a case. Idempotent.

    Returns:
        True if the chat was subscribed (an unknown case: False).

    Raises:
        InvalidReceiptNumber: not a receipt number.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    case_ids = select(Case.id).where(Case.receipt_number == str(receipt)).scalar_subquery()
    result = await uow.session.execute(
        delete(Subscription)
        .where(
            Subscription.case_id == case_ids,
            Subscription.channel == channel,
            Subscription.chat_id == chat_id,
        )
        .returning(Subscription.id)
    )
    return result.first() is not None


# Built once: a case shown in a chat asks it.
_FOLLOWED_CASES: Final = (
    select(Case)
    .join(Subscription, Subscription.case_id == Case.id)
    .where(
        Subscription.channel == bindparam("channel"), Subscription.chat_id == bindparam("chat_id")
    )
    .order_by(Subscription.id)
)


async def subscriptions_for_chat(uow: UnitOfWork, channel: str, chat_id: str) -> list[PublicStatus]:
    """The cases a chat follows, oldest subscription first."""
    cases = await uow.session.scalars(_FOLLOWED_CASES, {"channel": channel, "chat_id": chat_id})
    return [public_status(case) for case in cases]


# Built once: a case shown in a chat asks it.
_FOLLOWS: Final = Prepared(
    select(Subscription.id)
    .join(Case, Case.id == Subscription.case_id)
    .where(
        Case.receipt_number == bindparam("receipt"),
        Subscription.channel == bindparam("channel"),
        Subscription.chat_id == bindparam("chat_id"),
    )
)


async def is_following(
    uow: UnitOfWork, receipt_number: str | ReceiptNumber, *, channel: str, chat_id: str
) -> bool:
    """Whether the chat follows the case (an unknown case: False).

    Raises:
        InvalidReceiptNumber: not a receipt number.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    params = {"receipt": str(receipt), "channel": channel, "chat_id": chat_id}
    return await uow.fetch_one(_FOLLOWS, params) is not None
