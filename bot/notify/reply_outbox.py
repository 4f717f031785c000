"""A network channel's replies kept in the outbox with their turn, so neither a crash nor an
outage of the channel loses them.

Telegram's replies cannot be sent inside the turn's transaction (the rate limiter may hold a
message for seconds), and a reply sent after the commit is lost if the process dies first, or
if the Bot API stays unreachable through the limiter's retries. So the channel writes each
reply as an outbox row (kind ``reply``) in the turn's own transaction, leased to itself
(``keep_replies``), and after the commit sends them in order, marking each row Telegram took
as sent at once, with one prepared statement and one commit (``send_kept``). What it could
not send stays in the outbox:

- the Bot API unreachable (a 5xx, a timeout, a refused connection, after the limiter's
  retries): that row is due again after the outbox backoff, the rows after it with it, and
  the dispatcher delivers them in order (retrying, then parking after ``MAX_ATTEMPTS``);
- the process killed: the channel's sender (the holder of its sender lock, or the next one)
  releases the lease on its next pass (``release_leases``), at the latest when the lease runs
  out (``LEASE``), and the dispatcher sends the rest;
- a refusal no retry can change (the person blocked the bot, a bad request): that row is
  parked with the reason, and the next reply is tried.

With several workers, the lease is what keeps the dispatcher off a turn's replies while the
worker that ran the turn sends them. The channel holds a presence lock under its lease name
(``core.locks.presence_lock``) from ``start`` to ``stop``, and a killed process loses it with
its database connection; the channel's sender releases only the leases
whose owner has no presence left, so the replies of a live worker (itself included) are sent
by that worker alone, and those of a killed one by the dispatcher, once. (On SQLite only one
process serves, and any owner but its own is a dead predecessor.)

Exactly once, except in the one window every Bot API client has: a process that dies between
Telegram accepting a message and the commit of its ``sent`` mark leaves a row that is sent
again. Each reply is marked as soon as it went, before the next one waits for the chat's
pace, so that window is one database round trip per message; a mark shared by a turn's
replies, or put off to be shared with later turns, would widen it to every reply sent
meanwhile (a kill test saw "You are signed in" twice with one mark per turn).

The reply is stored as sent to the person, in the conversation's language (its text, buttons
and files, base64); its buttons carry their turn's prompt number, so pressed after the
conversation has moved on they answer "this menu has expired", as any old button does.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, Final

from bot.dialogs.model import Attachment, Button, Reply
from core.outbox.dispatch import load_claimed, mark_failed, mark_sent_leased, park, queue_behind
from core.outbox.service import lease_messages, withdraw_leased
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "LEASE",
    "REPLY",
    "keep_replies",
    "reply_from_payload",
    "reply_payload",
    "send_kept",
    "withdraw_kept",
]

logger = logging.getLogger(__name__)

REPLY: Final = "reply"
LEASE: Final = timedelta(seconds=60)
"""How long the process that ran the turn has to send its replies before the dispatcher may."""


def reply_payload(reply: Reply) -> dict[str, Any]:
    """A reply as JSON values (``reply_from_payload`` reads it back)."""
    return {
        "text": reply.text,
        "buttons": [[b.label, b.payload, b.means] for b in reply.buttons],
        "attachments": [
            {
                "kind": a.kind,
                "name": a.name,
                "content_type": a.content_type,
                "data": base64.b64encode(a.data).decode("ascii"),
            }
            for a in reply.attachments
        ],
        "secret_input": reply.secret_input,
    }


def reply_from_payload(payload: dict[str, Any]) -> Reply:
    """The reply kept by ``reply_payload``.

    Raises:
        KeyError, TypeError, ValueError: the payload is not one (the dispatcher parks it).
    """
    text = payload["text"]
    if not isinstance(text, str):
        raise TypeError("the text is not a string")
    return Reply(
        text=text,
        buttons=tuple(
            Button(str(label), str(data), means) for label, data, means in payload["buttons"]
        ),
        attachments=tuple(
            Attachment(
                kind=str(a["kind"]),
                name=str(a["name"]),
                content_type=str(a["content_type"]),
                data=base64.b64decode(a["data"], validate=True),
            )
            for a in payload["attachments"]
        ),
        secret_input=bool(payload.get("secret_input", False)),
    )


async def keep_replies(
    uow: UnitOfWork, channel: str, address: str, replies: Sequence[Reply], *, worker: str
) -> list[int]:
    """Write the turn's replies into the outbox in the caller's unit of work (the turn's),
    leased to ``worker`` for ``LEASE``; returns the row ids, in order."""
    return await lease_messages(
        uow,
        kind=REPLY,
        channel=channel,
        address=address,
        payloads=[reply_payload(reply) for reply in replies],
        lease=LEASE,
        worker=worker,
    )


async def withdraw_kept(uow: UnitOfWork, row_ids: Sequence[int], *, worker: str) -> None:
    """Delete kept replies that were never sent (superseded by the turn's final answer), in
    the caller's unit of work; rows no longer leased to ``worker`` are left alone."""
    await withdraw_leased(uow, row_ids, worker=worker)


async def send_kept(
    uow_factory: UnitOfWorkFactory,
    kept: Sequence[tuple[int, Reply]],
    send: Callable[[Reply], Awaitable[None]],
    *,
    worker: str,
    is_permanent: Callable[[BaseException], bool],
) -> int:
    """Send kept replies in order, each marked sent as soon as it went (see the module
    docstring for what happens to the others).

    Returns:
        How many were delivered now.
    """
    delivered = 0
    for n, (row_id, reply) in enumerate(kept):
        try:
            await send(reply)
        except Exception as error:
            if is_permanent(error):
                await _settle(uow_factory, row_id, worker, error, permanent=True)
                continue
            logger.warning(
                "%d repl(ies) left to the outbox: %s", len(kept) - n, type(error).__name__
            )
            await _settle(uow_factory, row_id, worker, error, permanent=False)
            await _queue_behind(
                uow_factory, [i for i, _ in kept[n + 1 :]], worker, failed_id=row_id
            )
            return delivered
        # At once, before the next reply waits for the chat's pace: a worker killed meanwhile
        # must not leave this one to be sent again. Shielded: a stopping process still
        # records what went.
        await asyncio.shield(_mark_sent(uow_factory, row_id, worker))
        delivered += 1
    return delivered


async def _mark_sent(uow_factory: UnitOfWorkFactory, row_id: int, worker: str) -> None:
    async with uow_factory() as uow:
        await mark_sent_leased(uow, [row_id], worker=worker, now=uow.clock.now())
        await uow.commit()


async def _settle(
    uow_factory: UnitOfWorkFactory, row_id: int, worker: str, error: BaseException, *,
    permanent: bool,
) -> None:  # fmt: skip
    """Park the row (a refusal for good) or leave it to the dispatcher after the backoff."""
    reason = f"{type(error).__name__}: {error}"
    try:
        async with uow_factory() as uow:
            if await load_claimed(uow, row_id, worker=worker) is None:
                return
            if permanent:
                await park(uow, row_id, reason=reason, now=uow.clock.now())
            else:
                await mark_failed(uow, row_id, error=reason, now=uow.clock.now())
            await uow.commit()
    except Exception:  # the lease runs out and the dispatcher takes the row all the same
        logger.exception("could not record the failure of outbox %s", row_id)


async def _queue_behind(
    uow_factory: UnitOfWorkFactory, row_ids: list[int], worker: str, *, failed_id: int
) -> None:
    if not row_ids:
        return
    try:
        async with uow_factory() as uow:
            await queue_behind(uow, row_ids, failed_id=failed_id, worker=worker)
            await uow.commit()
    except Exception:  # the lease runs out and the dispatcher takes the rows all the same
        logger.exception("could not hand %d repl(ies) to the outbox", len(row_ids))
