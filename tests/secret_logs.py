"""Secrets in logs: every log record of a test, at DEBUG, checked for what must never be logged.

``tests/conftest.py`` runs :class:`SecretLogWatch` around every test (an autouse fixture): a
handler on the root logger keeps each record, and the test fails at teardown when one holds

- a secret the test knows: the demo credentials, any constant of the test module (or of a loaded
  ``tests`` conftest) named like ``*PASSWORD``, ``*TOKEN``, ``*SECRET``, ``*SECRET_KEY``,
  ``*_CODE`` (with the secret half of a bot token on its own), every web chat token minted
  during the test (``secrets.token_urlsafe`` is watched), every 6-digit code mailed through a
  ``FakeMailer`` of the test, and the demo authenticator's codes around the test's clocks;
- something shaped like a secret whoever made it: a backup code (``XXXX-XXXX-XXXX``), a new
  authenticator secret (32 Base32 characters), or a full receipt number (3 letters and 10
  digits; a masked ``IOE*******678`` is fine).

The SQL drivers' own DEBUG/INFO output (statements with their parameters) is kept at WARNING
while the watch runs, as ``casebot`` keeps it in every mode: see ``bot.cli``.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any, Final

from core.accounts.otp import TOTP_STEP_SECONDS, hotp, time_step
from core.demo import (
    DEMO_ACCESS_CODE,
    DEMO_BACKUP_CODE,
    DEMO_PASSWORD,
    DEMO_RESET_ANSWER,
    DEMO_TOTP_SECRET,
)
from tests.fakes import FakeClock, FakeMailer

__all__ = ["QUIET_LOGGERS", "SecretLogWatch", "loaded_conftests"]

# Loggers that print SQL statements with their parameters (email addresses, receipt numbers,
# hashes) at INFO/DEBUG: held at WARNING, as the program holds them.
QUIET_LOGGERS: Final = ("sqlalchemy.engine", "sqlalchemy.pool", "aiosqlite", "asyncpg")
_SECRET_NAME: Final = re.compile(r"(PASSWORD|TOKEN|SECRET|SECRET_KEY|_CODE|_ANSWER)S?$")
_SHAPES: Final = {
    "a full receipt number": re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{3}[0-9]{10}(?![0-9])"),
    "a backup code": re.compile(r"(?<![0-9A-Z])[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}(?![0-9A-Z])"),
    "an authenticator secret": re.compile(r"(?<![A-Z2-7])[A-Z2-7]{32}(?![A-Z2-7])"),
}
_SIX_DIGITS: Final = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")
_MIN_SECRET_LENGTH: Final = 6
_A_NAME: Final = re.compile(r"[a-z_]+")  # a state or error name (``reset_code``), no secret
_MAX_STEPS: Final = 240  # two hours of TOTP steps from a fake clock's start


class SecretLogWatch(logging.Handler):
    """Keeps every log record while installed, and names the ones that hold a secret."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.secrets: set[str] = {
            DEMO_PASSWORD,
            DEMO_BACKUP_CODE,
            DEMO_TOTP_SECRET,
            DEMO_ACCESS_CODE,
            DEMO_RESET_ANSWER,
        }
        self.minted: list[str] = []
        self.clocks: list[FakeClock] = []
        self.mailers: list[FakeMailer] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def forget(self) -> None:
        """Drop the records kept so far (a test that logs a secret on purpose)."""
        self.records.clear()

    # --- what the test knows ----------------------------------------------------------------

    def add(self, *values: str) -> None:
        """Watch these values too (shorter than 6 characters: ignored, too common)."""
        for value in values:
            if len(value) >= _MIN_SECRET_LENGTH:
                self.secrets.add(value)
            _bot_id, colon, half = value.partition(":")
            if colon and _bot_id.isdigit() and len(half) >= _MIN_SECRET_LENGTH:
                self.secrets.add(half)

    def add_module_constants(self, module: ModuleType | None) -> None:
        """Watch the module's string constants named like a secret."""
        if module is None:
            return
        for name, value in vars(module).items():
            if (
                name.isupper()
                and isinstance(value, str)
                and _SECRET_NAME.search(name)
                and not _A_NAME.fullmatch(value)
            ):
                self.add(value)

    def add_fixture_values(self, values: Iterable[Any]) -> None:
        """Watch the fake clocks and mailers among a test's fixture values."""
        for value in values:
            if isinstance(value, FakeClock):
                self.clocks.append(value)
            elif isinstance(value, FakeMailer):
                self.mailers.append(value)

    # --- the verdict ------------------------------------------------------------------------

    def leaks(self) -> list[str]:
        """One line per record that holds a secret: the logger, what leaked, where."""
        found: list[str] = []
        texts = [(record, _text(record)) for record in self.records]
        known = self.secrets | set(self.minted)
        if any(_SIX_DIGITS.search(text) for _record, text in texts):
            known |= self._codes()
        for record, text in texts:
            for secret in known:
                if secret in text:
                    found.append(_line(record, f"the secret {_hint(secret)}"))
            for what, shape in _SHAPES.items():
                if shape.search(text):
                    found.append(_line(record, what))
        return found

    def _codes(self) -> set[str]:
        """The 6-digit codes the test may have typed or been sent."""
        codes: set[str] = set()
        for mailer in self.mailers:
            for mail in mailer.sent:
                codes.update(_SIX_DIGITS.findall(mail.body))
        moments = [datetime.now(UTC)]
        for clock in self.clocks:
            start, now = FakeClock().now(), clock.now()
            moments.append(now)
            end = min(now, start + timedelta(seconds=_MAX_STEPS * TOTP_STEP_SECONDS))
            moments.extend(
                start + timedelta(seconds=i * TOTP_STEP_SECONDS)
                for i in range(int((end - start).total_seconds()) // TOTP_STEP_SECONDS + 1)
            )
        steps = {time_step(moment) + drift for moment in moments for drift in (-1, 0, 1)}
        codes.update(hotp(DEMO_TOTP_SECRET, step) for step in steps if step >= 0)
        return codes

    # --- installation -----------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[SecretLogWatch]:
        """Keep every record (root at DEBUG, SQL drivers at WARNING) and every minted token."""
        root = logging.getLogger()
        saved_root = root.level
        saved = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
        real_token_urlsafe = secrets.token_urlsafe

        def token_urlsafe(nbytes: int | None = None) -> str:
            token = real_token_urlsafe(nbytes)
            self.minted.append(token)
            return token

        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        secrets.token_urlsafe = token_urlsafe
        try:
            yield self
        finally:
            secrets.token_urlsafe = real_token_urlsafe
            root.removeHandler(self)
            root.setLevel(saved_root)
            for name, level in saved.items():
                logging.getLogger(name).setLevel(level)


def loaded_conftests() -> list[ModuleType]:
    """The ``tests`` conftest modules loaded so far (their constants name secrets too)."""
    return [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("tests.") and name.endswith("conftest") and module is not None
    ]


def _text(record: logging.LogRecord) -> str:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: its raw parts are still what was logged
        message = f"{record.msg} {record.args}"
    parts = [message]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


def _hint(secret: str) -> str:
    return f"{secret[:2]}…({len(secret)} characters)"


def _line(record: logging.LogRecord, what: str) -> str:
    return f"{record.name} {record.levelname} at {record.pathname}:{record.lineno}: {what}"
