"""The mailers against real back ends: a Maildir folder on disk, and a real SMTP server (aiosmtpd,
on a free local port) that records what it receives, in plain text, with a login, with STARTTLS
and with implicit TLS (a self-signed certificate made by openssl for the test)."""

from __future__ import annotations

import mailbox
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.notify.mail import (
    DEFAULT_SENDER,
    MaildirMailer,
    SmtpMailer,
    build_message,
    mailer_from_settings,
)
from core.ports import Attachment, OutgoingMail
from tests.fakes import FakeClock

SUBJECT = "Ваш код входа · 您的登录代码 · رمز الدخول"
BODY = "Здравствуйте, Ана!\n您的代码是 482913。\nرمزك هو 482913.\n"
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
MAIL = OutgoingMail(
    to="ana.demo@example.com",
    subject=SUBJECT,
    body=BODY,
    attachments=(
        Attachment("cita.ics", "text/calendar", ICS),
        Attachment("código-qr.png", "image/png", PNG),
    ),
)
USER, PASSWORD = "casebot@example.com", "p@ss:wörd/ 42"  # needs URL-encoding; not ASCII
ASCII_PASSWORD = "p@ss:word/ 42"


def _parse(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _check_message(message: EmailMessage, *, sender: str = DEFAULT_SENDER) -> None:
    assert message["From"] == sender
    assert message["To"] == "ana.demo@example.com"
    assert message["Subject"] == SUBJECT
    assert message["Message-ID"].startswith("<")
    assert message["Message-ID"].endswith(">")
    assert parsedate_to_datetime(message["Date"]).tzinfo is not None
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert body.get_content_charset() == "utf-8"
    assert body.get_content().replace("\r\n", "\n") == BODY  # SMTP carries CRLF line ends
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attachments) == {"cita.ics", "código-qr.png"}
    assert attachments["cita.ics"].get_content_type() == "text/calendar"
    assert attachments["cita.ics"].get_payload(decode=True) == ICS
    assert attachments["código-qr.png"].get_content_type() == "image/png"
    assert attachments["código-qr.png"].get_payload(decode=True) == PNG


# --- the message ----------------------------------------------------------------------------


def test_the_message_is_dated_by_the_clock_and_ids_are_unique() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    first = build_message(MAIL, sender=DEFAULT_SENDER, clock=clock)
    second = build_message(MAIL, sender=DEFAULT_SENDER, clock=clock)

    assert parsedate_to_datetime(first["Date"]) == clock.now()
    assert first["Message-ID"].endswith("@casebot.invalid>")
    assert first["Message-ID"] != second["Message-ID"]


def test_headers_are_encoded_so_the_raw_message_is_ascii_headers() -> None:
    raw = build_message(MAIL, sender=DEFAULT_SENDER, clock=FakeClock()).as_bytes()
    headers = raw.split(b"\n\n", 1)[0]

    assert headers.isascii()
    assert b"=?utf-8?" in headers


def test_a_subject_with_a_line_break_is_refused() -> None:
    mail = OutgoingMail(to="ana@example.com", subject="Hi\r\nBcc: x@evil.example", body="b")

    with pytest.raises(ValueError, match="linefeed"):
        build_message(mail, sender=DEFAULT_SENDER, clock=FakeClock())


def test_an_attachment_without_a_mime_type_is_refused() -> None:
    mail = OutgoingMail("ana@example.com", "s", "b", (Attachment("x", "calendar", b"x"),))

    with pytest.raises(ValueError, match="MIME type"):
        build_message(mail, sender=DEFAULT_SENDER, clock=FakeClock())


# --- Maildir --------------------------------------------------------------------------------


async def test_the_maildir_mailer_writes_a_parsable_message_with_its_attachments(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "var" / "mail"
    await MaildirMailer(folder).send(MAIL)

    assert {path.name for path in folder.iterdir()} == {"tmp", "new", "cur"}
    files = list((folder / "new").iterdir())
    assert len(files) == 1
    _check_message(_parse(files[0].read_bytes()))


async def test_the_maildir_is_private_and_keeps_every_mail(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path / "mail", sender="USCIS helper <help@example.org>")
    for _ in range(3):
        await mailer.send(MAIL)

    box = mailbox.Maildir(tmp_path / "mail", create=False)
    assert len(box) == 3
    for key in box.iterkeys():
        _check_message(_parse(box.get_bytes(key)), sender="USCIS helper <help@example.org>")
    assert (tmp_path / "mail").stat().st_mode & 0o077 == 0


async def test_an_unwritable_maildir_raises_os_error(tmp_path: Path) -> None:
    blocker = tmp_path / "mail"
    blocker.write_text("a file where the folder should be")

    with pytest.raises((NotADirectoryError, FileExistsError)):
        await MaildirMailer(blocker).send(MAIL)


def test_without_an_smtp_url_mail_goes_to_the_maildir_under_var(tmp_path: Path) -> None:
    mailer = mailer_from_settings(None, tmp_path)

    assert isinstance(mailer, MaildirMailer)
    assert mailer.folder == tmp_path / "mail"


def test_with_an_smtp_url_mail_goes_to_that_server(tmp_path: Path) -> None:
    mailer = mailer_from_settings("smtps://mail.example.com", tmp_path)

    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.implicit_tls) == ("mail.example.com", 465, True)


# --- SMTP URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.example.com", ("relay.example.com", 25, False, None, None)),
        ("smtp://u:p@relay.example.com:587", ("relay.example.com", 587, False, "u", "p")),
        ("smtps://relay.example.com", ("relay.example.com", 465, True, None, None)),
        (
            "smtps://bot%40example.com:p%40ss%3Aw%2F@relay.example.com:2465",
            ("relay.example.com", 2465, True, "bot@example.com", "p@ss:w/"),
        ),
    ],
)
def test_the_smtp_url_is_read(url: str, expected: tuple[Any, ...]) -> None:
    mailer = SmtpMailer(url)

    assert (
        mailer.host,
        mailer.port,
        mailer.implicit_tls,
        mailer.user,
        mailer._password,
    ) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://relay.example.com",
        "smtp://",
        "smtp://relay.example.com:port",
        "smtp://user@relay.example.com",
        "smtp://user:p%C3%A4ss@relay.example.com",
    ],
)
def test_a_bad_smtp_url_is_refused_when_the_mailer_is_built(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP URL"):
        SmtpMailer(url)


def test_the_password_never_shows_in_the_mailers_repr() -> None:
    mailer = SmtpMailer("smtp://bot:hunter2-secret@relay.example.com:587")

    assert "hunter2" not in repr(mailer)
    assert "bot:***@relay.example.com:587" in repr(mailer)


# --- a real SMTP server ---------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    login: LoginPassword | None
    encrypted: bool


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps every message it accepts."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content,
                login=session.auth_data,
                encrypted=server.transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 Message accepted for delivery"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = isinstance(data, LoginPassword) and data == (USER.encode(), ASCII_PASSWORD.encode())
    # handled=False: aiosmtpd then answers 535 itself on a failure.
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[Recorder, int]]]:
    """Start aiosmtpd servers on free ports: ``recorder, port = smtp_server(**smtp_options)``."""
    controllers: list[Controller] = []

    def start(host: str = "127.0.0.1", **options: Any) -> tuple[Recorder, int]:
        recorder = Recorder()
        port = _free_port()
        controller = Controller(recorder, hostname=host, port=port, **options)
        controller.start()
        controllers.append(controller)
        return recorder, port

    yield start
    for controller in controllers:
        controller.stop()


def _own_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: picks a route, sends nothing
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, and its key."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def _client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


async def test_mail_is_handed_to_a_plain_smtp_server(smtp_server: Any) -> None:
    recorder, port = smtp_server()

    await SmtpMailer(f"smtp://127.0.0.1:{port}").send(MAIL)

    (received,) = recorder.messages
    assert received.mail_from == "no-reply@casebot.invalid"
    assert received.rcpt_tos == ["ana.demo@example.com"]
    assert received.login is None
    assert not received.encrypted
    _check_message(_parse(received.content))


async def test_the_mailer_logs_in_with_the_urls_user_and_password(smtp_server: Any) -> None:
    recorder, port = smtp_server(authenticator=_authenticator, auth_require_tls=False)
    url = f"smtp://casebot%40example.com:p%40ss%3Aword%2F%2042@127.0.0.1:{port}"

    await SmtpMailer(url).send(MAIL)

    (received,) = recorder.messages
    assert received.login == (USER.encode(), ASCII_PASSWORD.encode())
    _check_message(_parse(received.content))


async def test_a_wrong_password_raises_an_os_error(smtp_server: Any) -> None:
    recorder, port = smtp_server(authenticator=_authenticator, auth_require_tls=False)

    with pytest.raises(OSError, match="535"):
        await SmtpMailer(f"smtp://casebot%40example.com:wrong@127.0.0.1:{port}").send(MAIL)
    assert recorder.messages == []


async def test_a_password_is_never_sent_in_clear_text_over_the_network(smtp_server: Any) -> None:
    address = _own_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    recorder, port = smtp_server(address, authenticator=_authenticator, auth_require_tls=False)
    url = f"smtp://casebot%40example.com:p%40ss%3Aword%2F%2042@{address}:{port}"

    with pytest.raises(OSError, match="clear text"):
        await SmtpMailer(url).send(MAIL)
    assert recorder.messages == []


async def test_starttls_is_used_when_the_server_offers_it(
    smtp_server: Any, certificate: tuple[Path, Path]
) -> None:
    recorder, port = smtp_server(
        tls_context=_server_context(certificate),
        require_starttls=True,
        authenticator=_authenticator,
    )
    url = f"smtp://casebot%40example.com:p%40ss%3Aword%2F%2042@127.0.0.1:{port}"

    await SmtpMailer(url, ssl_context=_client_context(certificate)).send(MAIL)

    (received,) = recorder.messages
    assert received.encrypted
    assert received.login == (USER.encode(), ASCII_PASSWORD.encode())


async def test_smtps_speaks_tls_from_the_first_byte(
    smtp_server: Any, certificate: tuple[Path, Path]
) -> None:
    recorder, port = smtp_server(ssl_context=_server_context(certificate))

    await SmtpMailer(f"smtps://127.0.0.1:{port}", ssl_context=_client_context(certificate)).send(
        MAIL
    )

    (received,) = recorder.messages
    assert received.encrypted
    _check_message(_parse(received.content))


async def test_an_untrusted_certificate_raises_an_os_error(
    smtp_server: Any, certificate: tuple[Path, Path]
) -> None:
    recorder, port = smtp_server(ssl_context=_server_context(certificate))

    with pytest.raises(ssl.SSLCertVerificationError):  # the system does not trust it
        await SmtpMailer(f"smtps://127.0.0.1:{port}").send(MAIL)
    assert recorder.messages == []


def _counting_contexts(monkeypatch: pytest.MonkeyPatch) -> list[ssl.SSLContext]:
    """Every context ``ssl.create_default_context`` makes from now on (each reads the system's
    trust store: a tenth of a second of CPU)."""
    made: list[ssl.SSLContext] = []
    create = ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(create(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counting)
    return made


async def test_plain_smtp_reads_no_trust_store(
    smtp_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder, port = smtp_server()
    made = _counting_contexts(monkeypatch)
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}")

    for _ in range(3):
        await mailer.send(MAIL)

    assert len(recorder.messages) == 3
    assert made == []  # the server offers no TLS: nothing to check a certificate against


async def test_the_trust_store_is_read_once_per_mailer(
    smtp_server: Any, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder, port = smtp_server(ssl_context=_server_context(certificate))
    made = _counting_contexts(monkeypatch)
    mailer = SmtpMailer(f"smtps://127.0.0.1:{port}")

    for _ in range(3):  # each mail still checks the certificate, with the same context
        with pytest.raises(ssl.SSLCertVerificationError):
            await mailer.send(MAIL)

    assert len(made) == 1
    assert recorder.messages == []


async def test_a_refused_connection_raises_an_os_error_at_once() -> None:
    port = _free_port()  # nothing listens there any more
    started = time.monotonic()

    with pytest.raises(ConnectionRefusedError):
        await SmtpMailer(f"smtp://127.0.0.1:{port}").send(MAIL)
    assert time.monotonic() - started < 2


async def test_a_server_that_never_answers_times_out(smtp_server: Any) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts the connection, never sends a greeting
        port = silent.getsockname()[1]
        started = time.monotonic()

        with pytest.raises(OSError, match="timed out"):
            await SmtpMailer(f"smtp://127.0.0.1:{port}", timeout=0.5).send(MAIL)
    assert time.monotonic() - started < 5


async def test_nothing_secret_is_logged(
    smtp_server: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    _recorder, port = smtp_server(authenticator=_authenticator, auth_require_tls=False)
    url = f"smtp://casebot%40example.com:p%40ss%3Aword%2F%2042@127.0.0.1:{port}"
    caplog.set_level("DEBUG")

    await SmtpMailer(url).send(MAIL)
    await MaildirMailer(tmp_path / "mail").send(MAIL)

    logged = "\n".join(
        record.getMessage() for record in caplog.records if record.name == "bot.notify.mail"
    )
    assert "example.com" in logged
    for secret in ("482913", "ana.demo", SUBJECT, "p@ss", "p%40ss"):
        assert secret not in logged
