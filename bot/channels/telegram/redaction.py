"""Keeps the bot token out of every log record.

The token is part of every Bot API URL, and URLs turn up in log lines: httpx logs each request
at INFO, python-telegram-bot logs its base URL at DEBUG, and a network error's text often quotes
the URL. A filter on one logger would not see records that other loggers propagate to the
root's handlers, so the redaction happens where every record is made: in the log record factory.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Final

__all__ = ["REDACTED", "TokenRedaction", "quiet_http_loggers"]

REDACTED: Final = "<bot-token>"

_Factory = Callable[..., logging.LogRecord]


def quiet_http_loggers() -> None:
    """Keep httpx (which prints request URLs) at WARNING, and python-telegram-bot at INFO,
    whatever the root level is: at DEBUG the library logs its URL with the token when the bot
    is built, every update it processes (a typed password with it) and every call's
    parameters (message texts, the webhook's secret)."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)


class TokenRedaction:
    """Replaces the token in the message, arguments and exception text of every new record.

    Use ``install()`` when the bot starts and ``uninstall()`` when it stops; several may be
    installed at once (each wraps the factory it found).

    Args:
        token: the bot token; also its secret half alone (after the colon) is redacted.

    Raises:
        ValueError: the token is empty.
    """

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("a bot token is needed")
        self._needles = [token]
        _bot_id, _, secret = token.partition(":")
        if len(secret) >= 8:
            self._needles.append(secret)
        self._previous: _Factory | None = None

    def redact(self, text: str) -> str:
        for needle in self._needles:
            text = text.replace(needle, REDACTED)
        return text

    def install(self) -> None:
        if self._previous is not None:
            return
        previous = logging.getLogRecordFactory()
        self._previous = previous

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            self._clean(record)
            return record

        self._factory = factory
        logging.setLogRecordFactory(factory)

    def uninstall(self) -> None:
        if self._previous is None:
            return
        # Restore only if nobody wrapped ours meanwhile; otherwise ours stays, harmless.
        if logging.getLogRecordFactory() is self._factory:
            logging.setLogRecordFactory(self._previous)
        self._previous = None

    def _clean(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redact(text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
