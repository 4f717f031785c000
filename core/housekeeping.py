"""What is deleted once it has expired, so that the database does not grow for ever.

A web chat session that nobody has used for longer than its idle expiry is refused from then on
(``core.web_sessions``): :func:`purge_idle_web_sessions` deletes it with everything kept for its
chat, the transcript and its files, the conversation, the sign-in link and the case
subscriptions. Nobody can read them any more, and a transcript is personal data. It deletes at
most ``limit`` sessions per call, so that a caller runs it as several short transactions: on
SQLite a long one would hold the write lock every chat turn waits for. (Old rate-limit windows
go with ``core.ratelimit.purge_expired``; ``bot/ops/housekeeping.py`` runs both.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from core.accounts.models import ChannelLink
from core.cases.models import Subscription
from core.conversations import Conversation
from core.uow import UnitOfWork
from core.web_sessions import WEB_CHANNEL, WebAttachment, WebMessage, WebSession

__all__ = ["purge_idle_web_sessions"]


async def purge_idle_web_sessions(
    uow: UnitOfWork, *, seen_before: datetime, limit: int = 500
) -> int:
    """Delete up to ``limit`` web chat sessions last seen before ``seen_before`` (the longest
    unused first), with their transcripts, files, conversations, sign-in links and case
    subscriptions. Returns how many sessions were deleted."""
    found = await uow.session.execute(
        select(WebSession.id)
        .where(WebSession.last_seen_at < seen_before)
        .order_by(WebSession.last_seen_at)
        .limit(limit)
    )
    ids = list(found.scalars())
    if not ids:
        return 0
    for chat_table in (Subscription, ChannelLink, Conversation):
        await uow.session.execute(
            delete(chat_table).where(chat_table.channel == WEB_CHANNEL, chat_table.chat_id.in_(ids))
        )
    # Not left to ON DELETE CASCADE: a connection without SQLite's foreign_keys pragma (an
    # operator's shell) would skip it.
    await uow.session.execute(delete(WebAttachment).where(WebAttachment.session_id.in_(ids)))
    await uow.session.execute(delete(WebMessage).where(WebMessage.session_id.in_(ids)))
    await uow.session.execute(delete(WebSession).where(WebSession.id.in_(ids)))
    return len(ids)
