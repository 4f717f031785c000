"""Log lines that a client cannot forge: control characters in logged values are escaped.

A request path may carry ``%0a`` (a line feed once decoded), a header or a typed text other
control characters; logged as they are, they start a fake line in the log (``\\n127.0.0.1 ...
"POST /api/admin/... 200``) or rewrite the terminal. :func:`printable` writes each such
character as a visible escape (``\\n``, ``\\x1b``, ``\\u2028``), and
:class:`EscapeControlCharacters` applies it to every string argument of a log record, so a
message's fixed text stays as the code wrote it and only what came from outside is escaped.
"""

from __future__ import annotations

import logging
import re
from typing import Final

__all__ = ["EscapeControlCharacters", "install_log_escaping", "printable"]

# C0 and C1 controls, DEL, and the characters that end a line in Unicode text.
_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every control and line-ending character written as an escape."""
    return _CONTROL.sub(_escape, text)


class EscapeControlCharacters(logging.Filter):
    """Escapes control characters in a record's string arguments (and in a message that has
    no arguments but is not the code's own, such as a preformatted one); never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(printable(a) if isinstance(a, str) else a for a in args)
        elif isinstance(args, dict):
            record.args = {k: printable(v) if isinstance(v, str) else v for k, v in args.items()}
        if not args and isinstance(record.msg, str):
            record.msg = printable(record.msg)
        return True


def install_log_escaping(*logger_names: str) -> None:
    """Add the filter to every handler of the root logger (which every propagated record goes
    through) and to the named loggers; a second call adds nothing."""
    targets: list[logging.Filterer] = list(logging.getLogger().handlers)
    targets += [logging.getLogger(name) for name in logger_names]
    for target in targets:
        if not any(isinstance(f, EscapeControlCharacters) for f in target.filters):
            target.addFilter(EscapeControlCharacters())
