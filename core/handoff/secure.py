"""Secure messages: what a person writes when no agent can take the chat, and the answer that
staff send back later, to the person's chat and, for a signed-in person, to their account's
email too, even when the chat is long gone."""

from __future__ import annotations

from typing import Final

from sqlalchemy import select

from core.accounts.models import Account
from core.errors import AlreadyReplied, SecureMessageNotFound
from core.handoff.models import SecureMessage
from core.handoff.service import announce_change
from core.outbox.service import add_notification
from core.uow import UnitOfWork

__all__ = [
    "AGENT_REPLY",
    "EMAIL_CHANNEL",
    "MAX_SECURE_MESSAGE",
    "reply_to_secure_message",
    "secure_messages",
    "send_secure_message",
]

AGENT_REPLY: Final = "agent_reply"
EMAIL_CHANNEL: Final = "email"
MAX_SECURE_MESSAGE: Final = 2000


async def send_secure_message(
    uow: UnitOfWork,
    *,
    channel: str,
    chat_id: str,
    locale: str,
    text: str,
    account_id: int | None = None,
    topic: str | None = None,
) -> SecureMessage:
    """Keep a person's message for staff, tied to their account when they are signed in."""
    message = SecureMessage(
        channel=channel,
        chat_id=chat_id,
        locale=locale,
        account_id=account_id,
        topic=topic,
        text=text[:MAX_SECURE_MESSAGE],
        created_at=uow.clock.now(),
    )
    uow.session.add(message)
    await uow.flush()
    await announce_change(uow)
    return message


async def reply_to_secure_message(
    uow: UnitOfWork, message_id: int, staff_id: int, text: str
) -> SecureMessage:
    """Answer a secure message: an ``agent_reply`` outbox row to the person's chat, worded in
    their language when it is sent, and for a message tied to an account, an ``agent_reply``
    row to the ``email`` channel at the account's address.

    Raises:
        SecureMessageNotFound: there is none with this id.
        AlreadyReplied: it was answered already.
    """
    message = await uow.session.get(SecureMessage, message_id, populate_existing=True)
    if message is None:
        raise SecureMessageNotFound(message_id)
    if message.replied_at is not None:
        raise AlreadyReplied(message_id)
    message.replied_at = uow.clock.now()
    message.reply_text = text[:MAX_SECURE_MESSAGE]
    message.replied_by = staff_id
    await uow.flush()
    payload = {
        "secure_message_id": message.id,
        "text": message.reply_text,
        "locale": message.locale,
    }
    await add_notification(
        uow,
        kind=AGENT_REPLY,
        channel=message.channel,
        address=message.chat_id,
        payload=payload,
        dedupe_key=f"{AGENT_REPLY}:{message.id}:chat",
    )
    if message.account_id is not None:
        email = await uow.session.scalar(
            select(Account.email).where(Account.id == message.account_id)
        )
        if email is not None:
            await add_notification(
                uow,
                kind=AGENT_REPLY,
                channel=EMAIL_CHANNEL,
                address=email,
                payload=payload,
                dedupe_key=f"{AGENT_REPLY}:{message.id}:email",
            )
    return message


async def secure_messages(uow: UnitOfWork, *, unanswered: bool = True) -> list[SecureMessage]:
    """Secure messages, oldest first: only those not answered yet, unless ``unanswered`` is
    False."""
    query = select(SecureMessage).order_by(SecureMessage.id)
    if unanswered:
        query = query.where(SecureMessage.replied_at.is_(None))
    return list(await uow.session.scalars(query))
