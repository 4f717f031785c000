"""The web chat's transcript as the API shows it: a stored message as JSON, and an
assistant's reply stored with its buttons and files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.dialogs.model import Reply
from core.uow import UnitOfWork
from core.web_sessions import StoredAttachment, TranscriptMessage, add_message

__all__ = ["MessageView", "store_reply"]


@dataclass(frozen=True, slots=True)
class MessageView:
    """One transcript message as the API shows it (see ``to_json``)."""

    id: int
    sender: str
    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    attachments: tuple[tuple[str, str, str], ...] = ()  # (id, kind, name)
    secret_input: bool = False

    @classmethod
    def of(cls, message: TranscriptMessage) -> MessageView:
        return cls(
            id=message.id,
            sender=message.sender,
            text=message.text,
            buttons=tuple((label, payload) for label, payload in message.buttons),
            attachments=tuple((a_id, kind, name) for a_id, kind, name in message.attachments),
            secret_input=message.secret_input,
        )

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
            ],
            "secret_input": self.secret_input,
        }


async def store_reply(
    uow: UnitOfWork, session_id: str, reply: Reply, *, outbox_id: int | None = None
) -> TranscriptMessage:
    """An assistant's message in the session's transcript, with its buttons and files;
    ``outbox_id`` names the outbox row of a pushed notification."""
    return await add_message(
        uow,
        session_id,
        sender="bot",
        text=reply.text,
        buttons=[(b.label, b.payload) for b in reply.buttons],
        attachments=[
            StoredAttachment(a.kind, a.name, a.content_type, a.data) for a in reply.attachments
        ],
        secret_input=reply.secret_input,
        outbox_id=outbox_id,
    )
