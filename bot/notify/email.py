"""The ``email`` outbox channel: status changes and confirmation codes to confirmed addresses
(``core.contacts``), through the Mailer port (SMTP, or the Maildir folder).

It is an ``ExternalSender``, so it has the dispatcher's guarantees for the network (see
``bot.notify.dispatcher``): rows are leased, each mail's ``sent`` mark is committed as soon as
the server accepted it, a failure is retried after a backoff and parked after too many, a
refusal no retry can change (the server refused the recipient, the address is not one the
mailer takes) is parked at once. One worker at a time sends mail (``exclusive``, the sender
lock), as for Telegram: a worker killed mid-batch leaves leased rows, which the next holder of
the lock releases at once and sends (other workers take over when the holder dies). SMTP takes no
idempotency key, so a worker killed between the server's "accepted" and the sent mark leaves a
row that is sent again (at least once, as for Telegram); the copy carries the same
``Message-ID`` (derived from the address and the words), which mail stores and readers treat
as one message.

Every mail to a confirmed contact point carries its one-click unsubscribe (RFC 8058): the
``List-Unsubscribe`` header with the link to ``/unsubscribe?t=TOKEN`` on this server
(``CASEBOT_PUBLIC_URL``), ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``, and the same
link in the body, in the person's language. The token is opened from its sealed copy here and
never logged. A code mail to an address not yet confirmed has no link: there is nothing to
stop yet.
"""

from __future__ import annotations

import hashlib
import smtplib
from typing import Final

from bot.dialogs.model import Reply
from bot.notify.mail import sender_domain
from bot.notify.senders import ExternalSender
from bot.wording.i18n import DEFAULT_LOCALE, translator
from core.accounts.policy import validate_email
from core.contacts.service import active_contact, unsubscribe_token
from core.errors import InvalidEmail
from core.ports import Attachment, Mailer, OutgoingMail
from core.uow import UnitOfWorkFactory

__all__ = ["DEFAULT_PUBLIC_URL", "EmailSender", "unsubscribe_url"]

DEFAULT_PUBLIC_URL: Final = "http://127.0.0.1:8080"
_SUBJECT_LENGTH: Final = 120


def unsubscribe_url(base: str, token: str) -> str:
    """The link that turns a contact point's updates off (``GET`` shows a button, ``POST`` with
    ``List-Unsubscribe=One-Click`` does it)."""
    return f"{base.rstrip('/')}/unsubscribe?t={token}"


def _subject(text: str) -> str:
    first = text.strip().split("\n", 1)[0].strip()
    if len(first) > _SUBJECT_LENGTH:
        first = first[: _SUBJECT_LENGTH - 1].rstrip() + "…"
    return first or "casebot"


class EmailSender(ExternalSender):
    """Mails the ``email`` channel's rows. The subject is the message's first line; a reply's
    attachments (an appointment's calendar file) are attached."""

    channel = "email"

    def __init__(
        self, mailer: Mailer, uow_factory: UnitOfWorkFactory, *, public_url: str | None = None
    ) -> None:
        self.mailer = mailer
        self.uow_factory = uow_factory
        self.public_url = public_url or DEFAULT_PUBLIC_URL

    def address_problem(self, address: str) -> str | None:
        try:
            checked = validate_email(address)
        except InvalidEmail:
            checked = None
        return None if checked == address else "not a checked email address"

    async def send(self, address: str, reply: Reply) -> None:
        async with self.uow_factory() as uow:
            contact = await active_contact(uow, self.channel, address)
            token = unsubscribe_token(uow, contact) if contact is not None else None
            locale = contact.locale if contact is not None else DEFAULT_LOCALE
        body = reply.text
        # The same row sent again (a worker killed between the server's "accepted" and the
        # sent mark) carries the same Message-ID, which mail stores and readers fold into one.
        digest = hashlib.sha256(f"{address}\n{reply.text}".encode()).hexdigest()[:32]
        headers: tuple[tuple[str, str], ...] = (("Message-ID", f"<{digest}@{sender_domain()}>"),)
        if token is not None:
            url = unsubscribe_url(self.public_url, token)
            t = translator(locale)
            body += "\n\n-- \n" + t._("To stop these emails, open this link: {url}").format(url=url)
            headers += (
                ("List-Unsubscribe", f"<{url}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            )
        attachments = tuple(
            Attachment(filename=a.name, content_type=a.content_type, data=a.data)
            for a in reply.attachments
        )
        await self.mailer.send(
            OutgoingMail(
                to=address,
                subject=_subject(reply.text),
                body=body,
                attachments=attachments,
                headers=headers,
            )
        )

    def is_permanent(self, error: BaseException) -> bool:
        # The server refused the recipient, or the mail cannot be a message: retrying will not
        # change that. Everything else (the network, a full disk, a 4xx) is tried again.
        return super().is_permanent(error) or isinstance(
            error, smtplib.SMTPRecipientsRefused | ValueError
        )
