"""Replies a channel could not deliver, kept in the outbox and sent later by the dispatcher.

A turn is committed before its replies are sent. When the network channel stays unreachable
through its own retries (Telegram: the rate limiter retries a 5xx or a network error with
backoff, a few seconds in all), the replies not sent yet are written to the outbox as
``undelivered_reply`` rows, in order, for the person's chat; the dispatcher then sends them
like notifications: one worker at a time, in order per chat, retried with backoff, parked with
the reason after ``MAX_ATTEMPTS`` (about an hour of trying). So a reply is lost only if the
database is unreachable at the same moment as the Bot API (then it is logged).

A kept reply is the reply as it was worded in the turn, in the conversation's language: its
text, buttons and files (base64). Its buttons carry the prompt number of their turn: pressed
after the conversation has moved on, they answer "this menu has expired" and show the current
step, as any old button does.
"""

from __future__ import annotations

import base64
import logging
import secrets
from collections.abc import Sequence
from typing import Any, Final

from bot.model import Attachment, Button, Reply
from core.outbox.service import add_notification
from core.uow import UnitOfWorkFactory

__all__ = ["UNDELIVERED_REPLY", "keep_undelivered", "reply_from_payload", "reply_payload"]

logger = logging.getLogger(__name__)

UNDELIVERED_REPLY: Final = "undelivered_reply"


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


async def keep_undelivered(
    uow_factory: UnitOfWorkFactory, channel: str, address: str, replies: Sequence[Reply]
) -> bool:
    """Write replies that could not be delivered to the outbox, in order, in one transaction.

    Returns:
        True when they are kept; False when the database could not take them either (they are
        lost, and that is logged).
    """
    batch = secrets.token_hex(8)
    try:
        async with uow_factory() as uow:
            for n, reply in enumerate(replies):
                await add_notification(
                    uow,
                    kind=UNDELIVERED_REPLY,
                    channel=channel,
                    address=address,
                    payload=reply_payload(reply),
                    dedupe_key=f"{UNDELIVERED_REPLY}:{channel}:{batch}:{n}",
                )
            await uow.commit()
    except Exception:
        logger.exception("%s: %d undelivered repl(ies) could not be kept", channel, len(replies))
        return False
    logger.warning("%s: kept %d undelivered repl(ies) for later delivery", channel, len(replies))
    return True
