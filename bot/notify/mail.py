"""Two mailers (``core.ports.Mailer``): a Maildir folder by default, an SMTP server when set.

Both build the same RFC 5322 message (UTF-8, attachments as MIME parts, ``Date`` and
``Message-ID``) and do their blocking I/O in a worker thread, so a slow disk or server never
stalls the event loop.

Errors (what ``send`` raises, all ``OSError``, as the port promises)::

    OSError
     ├── ConnectionError, TimeoutError, ssl.SSLError   (the network, the TLS handshake)
     ├── smtplib.SMTPException                         (the server refused: auth, recipient, ...)
     │    └── smtplib.SMTPNotSupportedError            (also: a password would go in clear text)
     └── PermissionError, FileNotFoundError, ...       (the Maildir folder)

Mail bodies carry one-time codes, and the SMTP URL a password: neither is ever logged. The log
says only the recipient's domain, the size and the number of attachments.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import mailbox
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urlsplit

from core.accounts.policy import validate_email
from core.clock import Clock, SystemClock
from core.errors import InvalidEmail
from core.ports import Mailer, OutgoingMail

__all__ = [
    "DEFAULT_SENDER",
    "SMTP_TIMEOUT_SECONDS",
    "MaildirMailer",
    "SmtpMailer",
    "build_message",
    "mailer_from_settings",
    "sender_domain",
]

logger = logging.getLogger(__name__)

DEFAULT_SENDER: Final = "casebot <no-reply@casebot.invalid>"
SMTP_TIMEOUT_SECONDS: Final = 10.0
_DEFAULT_PORTS: Final = {"smtp": 25, "smtps": 465}


def build_message(mail: OutgoingMail, *, sender: str, clock: Clock) -> EmailMessage:
    """The RFC 5322 message of one mail: a UTF-8 text body, then each attachment as a part.

    Raises:
        ValueError: the recipient is not an address ``core.accounts.policy.validate_email``
            accepts as it is, a header (subject, or one of ``mail.headers``) holds a line
            break or repeats one already set, or a content type is not ``maintype/subtype``.
    """
    _checked_recipient(mail.to)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(clock.now())
    given = {name.lower() for name, _value in mail.headers}
    if "message-id" not in given:  # a caller may name the message (the same one sent again)
        # The domain of our own address, not the host name: make_msgid would otherwise ask the
        # resolver for this machine's name, which can hang on a badly configured host.
        message["Message-ID"] = make_msgid(domain=_domain(sender) or "casebot.invalid")
    for name, value in mail.headers:
        if name in message or any(c in name + value for c in "\r\n"):
            raise ValueError(f"a header may not be set twice or hold a line break: {name!r}")
        message[name] = value
    message.set_content(mail.body, charset="utf-8")
    for attachment in mail.attachments:
        maintype, slash, subtype = attachment.content_type.partition("/")
        if not slash or not maintype or not subtype:
            raise ValueError(f"not a MIME type: {attachment.content_type!r}")
        # Text (a calendar file) is UTF-8 (RFC 5545's default too): said, for every reader.
        params = {"charset": "utf-8"} if maintype == "text" else None
        message.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
            params=params,
        )
    return message


def _checked_recipient(address: str) -> str:
    """``address``, when it is one the accounts' parser accepts unchanged: mail goes only to an
    address that was checked (see ``core.accounts.policy.validate_email``).

    Raises:
        ValueError: it is not.
    """
    try:
        checked = validate_email(address)
    except InvalidEmail:
        checked = None
    if checked != address:
        raise ValueError("the recipient is not a checked email address")
    return address


def sender_domain(sender: str = DEFAULT_SENDER) -> str:
    """The domain of a sender address, for the ids of its messages."""
    return _domain(sender) or "casebot.invalid"


def _domain(address: str) -> str:
    """The domain of an address (``"Ana <ana@example.com>"`` gives ``example.com``), or ``""``."""
    return parseaddr(address)[1].rpartition("@")[2]


class MaildirMailer:
    """Delivers each mail as a file into a Maildir folder (``tmp/``, ``new/``, ``cur/``).

    Any mail reader opens the folder (``mutt -f var/mail``); tests and the demo read it back.
    The folder is created, private to its owner, at the first mail.
    """

    def __init__(
        self, folder: Path, *, sender: str = DEFAULT_SENDER, clock: Clock | None = None
    ) -> None:
        self.folder = folder
        self._sender = sender
        self._clock: Clock = clock or SystemClock()

    async def send(self, mail: OutgoingMail) -> None:
        """Write the mail into the folder as a new message.

        Raises:
            OSError: the folder cannot be created or written.
            ValueError: the mail cannot be a message (see ``build_message``).
        """
        message = build_message(mail, sender=self._sender, clock=self._clock)
        key = await asyncio.to_thread(self._deliver, message)
        logger.info(
            "mail to a recipient at %s written to the maildir as %s (%d attachment(s))",
            _domain(mail.to) or "?",
            key,
            len(mail.attachments),
        )

    def _deliver(self, message: EmailMessage) -> str:
        # mailbox creates the folder itself (private to its owner) but not its parents.
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        # mailbox writes under tmp/ then renames into new/, so a reader never sees half a mail.
        return mailbox.Maildir(self.folder, create=True).add(message)


class SmtpMailer:
    """Hands each mail to an SMTP server named by a URL, one connection per mail.

    ``smtp://[user:password@]host[:port]`` (port 25 by default) upgrades the connection with
    STARTTLS whenever the server offers it; ``smtps://[user:password@]host[:port]`` (465) speaks
    TLS from the first byte. User and password are URL-decoded (``%40`` for ``@``). Certificates
    are checked against the system's trust store.

    A password is sent in clear text only to a loopback address (a local relay or a test
    server); to any other host without TLS, ``send`` refuses before logging in.

    A connection per mail keeps this simple and robust (no idle connection to lose); the
    connection costs a loopback relay about 2 ms. The TLS context (the system's trust store) is
    made once per mailer, when first needed, and shared by every connection.
    """

    def __init__(
        self,
        url: str,
        *,
        sender: str = DEFAULT_SENDER,
        timeout: float = SMTP_TIMEOUT_SECONDS,
        clock: Clock | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Read the URL.

        Raises:
            ValueError: the URL is not ``smtp://`` or ``smtps://`` with a host, its port is not
                a number, or a user is given without a password (or either is not ASCII, which
                smtplib cannot send).
        """
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS:
            raise ValueError("the SMTP URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("the SMTP URL names no host")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError("the SMTP URL's port is not a number from 0 to 65535") from exc
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if (user is None) != (password is None):
            raise ValueError("the SMTP URL needs both a user and a password, or neither")
        if not (user or "").isascii() or not (password or "").isascii():
            raise ValueError("the SMTP URL's user and password must be ASCII")
        self.host: str = parts.hostname
        self.port: int = port or _DEFAULT_PORTS[parts.scheme]
        self.implicit_tls: bool = parts.scheme == "smtps"
        self.user = user
        self._password = password
        self._sender = sender
        self._timeout = timeout
        self._clock: Clock = clock or SystemClock()
        self._ssl_context = ssl_context
        self._context_lock = threading.Lock()

    def __repr__(self) -> str:
        # Never the password: this object may end up in a log line or a traceback.
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = f"{self.user}:***@" if self.user else ""
        return f"SmtpMailer('{scheme}://{user}{self.host}:{self.port}')"

    async def send(self, mail: OutgoingMail) -> None:
        """Hand the mail over to the server.

        Raises:
            OSError: the server cannot be reached in time, TLS fails, or the server refuses the
                login, the sender or the recipient (``smtplib.SMTPException``).
            ValueError: the mail cannot be a message (see ``build_message``).
        """
        message = build_message(mail, sender=self._sender, clock=self._clock)
        await asyncio.to_thread(self._deliver, message, _checked_recipient(mail.to))
        logger.info(
            "mail to a recipient at %s handed to %s:%d (%d attachment(s))",
            _domain(mail.to) or "?",
            self.host,
            self.port,
            len(mail.attachments),
        )

    def _context(self) -> ssl.SSLContext:
        # Made once, when TLS is first needed: reading the system's trust store costs about a
        # tenth of a second of CPU (holding the GIL), far more than handing a mail over. One
        # context serves every connection, from any thread; a changed trust store is read at
        # the next start.
        with self._context_lock:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            return self._ssl_context

    def _deliver(self, message: EmailMessage, recipient: str) -> None:
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self._timeout, context=self._context()
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
        with client:
            client.ehlo()
            encrypted = self.implicit_tls
            if not encrypted and client.has_extn("starttls"):
                client.starttls(context=self._context())
                client.ehlo()  # the server's extensions may differ once encrypted (AUTH)
                encrypted = True
            if self.user is not None and self._password is not None:
                if not encrypted and not _is_loopback(self.host):
                    raise smtplib.SMTPNotSupportedError(
                        f"{self.host} offers no TLS: the SMTP password is not sent in clear text"
                    )
                client.login(self.user, self._password)
            # The envelope is the checked address and our own, never read back from the
            # headers: a header parser may find more in a ``To`` than was checked.
            client.send_message(message, from_addr=parseaddr(self._sender)[1], to_addrs=[recipient])


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mailer_from_settings(smtp_url: str | None, var_dir: Path) -> Mailer:
    """The mailer the configuration asks for: SMTP when ``CASEBOT_SMTP_URL`` is set, else a
    Maildir under ``var_dir/mail``.

    Raises:
        ValueError: the SMTP URL is malformed (see ``SmtpMailer``).
    """
    if smtp_url:
        return SmtpMailer(smtp_url)
    return MaildirMailer(var_dir / "mail")
