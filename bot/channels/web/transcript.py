"""The web chat's transcript as the API shows it: a stored message as JSON, and an
assistant's reply stored with its buttons and files.

A reply that shows a secret once (``Reply.kept_text``: an authenticator key, a new backup code)
is stored with the secret replaced by a placeholder and without its files (the key's QR code).
Only the answer to its turn shows it (``MessageView.of(message, live=reply)``), the files inline
as ``data:`` URLs, since nothing is kept to download them from; every replay shows the stored
copy.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from bot.dialogs.model import Attachment, Reply
from core.uow import UnitOfWork
from core.web_sessions import StoredAttachment, TranscriptMessage, add_message

__all__ = ["MessageView", "store_reply", "stored_text"]


@dataclass(frozen=True, slots=True)
class MessageView:
    """One transcript message as the API shows it (see ``to_json``)."""

    id: int
    sender: str
    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    attachments: tuple[tuple[str, str, str], ...] = ()  # (id, kind, name)
    secret_input: bool = False
    inline: tuple[Attachment, ...] = ()  # files shown once, never stored
    input_kind: str | None = None
    created_at: datetime | None = None

    @classmethod
    def of(cls, message: TranscriptMessage, *, live: Reply | None = None) -> MessageView:
        """The stored message; with ``live`` (the reply it was stored from, in the answer to
        its turn), the reply's own text and files where the stored copy hides a secret."""
        view = cls(
            id=message.id,
            sender=message.sender,
            text=message.text,
            buttons=tuple((label, payload) for label, payload in message.buttons),
            attachments=tuple((a_id, kind, name) for a_id, kind, name in message.attachments),
            secret_input=message.secret_input,
            input_kind=message.input_kind,
            created_at=message.created_at,
        )
        if live is not None and live.shows_secret:
            return replace(view, text=live.text, inline=live.attachments)
        return view

    def to_json(self, session_id: str, token: str) -> dict[str, Any]:
        """The message object; attachment URLs carry the token (an <img> sends no header)."""
        return {
            "id": self.id,
            "from": self.sender,
            "text": self.text,
            "buttons": [{"label": label, "payload": payload} for label, payload in self.buttons],
            "attachments": [
                {
                    "kind": kind,
                    "name": name,
                    "url": f"/api/chat/sessions/{session_id}/attachments/{a_id}?token={token}",
                }
                for a_id, kind, name in self.attachments
            ]
            + [
                {
                    "kind": file.kind,
                    "name": file.name,
                    "url": f"data:{file.content_type};base64,"
                    + base64.b64encode(file.data).decode("ascii"),
                }
                for file in self.inline
            ],
            "secret_input": self.secret_input,
            "input": self.input_kind or ("password" if self.secret_input else "text"),
            "at": _iso(self.created_at),
        }


def _iso(moment: datetime | None) -> str | None:
    """An instant as ISO 8601 in UTC, to the second (``2026-12-07T17:05:09Z``)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


async def store_reply(
    uow: UnitOfWork,
    session_id: str,
    reply: Reply,
    *,
    outbox_id: int | None = None,
    turn_key: str | None = None,
) -> TranscriptMessage:
    """An assistant's message in the session's transcript, with its buttons and files (a
    secret shown once hidden, and its files left out); ``outbox_id`` names the outbox row of a
    pushed notification, ``turn_key`` the idempotency key of the turn it answers."""
    return await add_message(
        uow,
        session_id,
        sender="bot",
        text=stored_text(reply),
        buttons=[(b.label, b.payload) for b in reply.buttons],
        attachments=[
            StoredAttachment(a.kind, a.name, a.content_type, a.data)
            for a in reply.attachments
            if not reply.shows_secret
        ],
        secret_input=reply.secret_input,
        input_kind=reply.input_kind,
        outbox_id=outbox_id,
        turn_key=turn_key,
    )


def stored_text(reply: Reply) -> str:
    """The text the transcript keeps of a reply (a secret it shows hidden)."""
    return reply.kept_text if reply.kept_text is not None else reply.text
