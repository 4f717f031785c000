"""Ports at the core's edges. Each has a real implementation outside the core and a fake in tests.

The clock port lives in ``core.clock``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Attachment", "Mailer", "OutgoingMail"]


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """One email, already worded (by the chat layer, in the recipient's language)."""

    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = field(default=())
    # Extra header fields, (name, value): the one-click unsubscribe of RFC 8058.
    headers: tuple[tuple[str, str], ...] = field(default=())


class Mailer(Protocol):
    """Sends email. Raises ``OSError`` (or a subclass) when the mail could not be handed over."""

    async def send(self, mail: OutgoingMail) -> None: ...
