"""Ports at the core's edges. Each has a real implementation outside the core and a fake in tests.

The clock port lives in ``core.clock``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "Attachment",
    "Mailer",
    "OutgoingMail",
    "OutgoingSms",
    "SmsProvider",
    "SmsRefused",
    "SmsUnavailable",
]


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


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One text message, already worded and cut to size (``core.sms.segments``).

    Attributes:
        to: the number in E.164 (``+12025550123``).
        body: the text.
    """

    to: str
    body: str


class SmsRefused(Exception):
    """The provider refused a text for good (an unsubscribed or invalid number, a bad
    request): no retry can change it.

    Attributes:
        status: the HTTP status of the answer.
        code: the provider's error code (Twilio's ``21610`` unsubscribed recipient, ``21211``
            invalid number, ...), or None.
    """

    def __init__(self, status: int, code: int | None) -> None:
        super().__init__(f"refused: HTTP {status}, code {code}")
        self.status = status
        self.code = code


class SmsUnavailable(Exception):
    """The provider could not take a text now (429, a 5xx, the network): try again later.

    Attributes:
        status: the HTTP status, or None when no answer came.
        retry_after: seconds the provider asked to wait, or None.
    """

    def __init__(self, status: int | None, retry_after: float | None = None) -> None:
        super().__init__(f"unavailable: HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class SmsProvider(Protocol):
    """Sends text messages through a provider (Twilio's Messages API, or a fake).

    ``send`` returns the provider's id of the message once it accepted it.

    Raises:
        SmsRefused: never worth another try.
        SmsUnavailable: try again later.
    """

    async def send(self, sms: OutgoingSms) -> str: ...

    async def close(self) -> None: ...
