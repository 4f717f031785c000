"""Whole numbers read from what a client sends back: button payloads, typed option numbers.

``str.isdigit`` says yes to ``²``, ``٣`` and ``１``, and ``int()`` refuses some of those and any
string past 4,300 digits, while the database refuses numbers past 64 bits: a payload is a string
the client chose, so it is read here, strictly, and never by ``int()`` on its own.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_DIGITS", "OFFICE_ID_DIGITS", "whole_number"]

# 18 digits always fit in a signed 64-bit column, 9 in a 32-bit one (PostgreSQL's INTEGER ids).
MAX_DIGITS: Final = 18
OFFICE_ID_DIGITS: Final = 9


def whole_number(text: object, *, max_digits: int = MAX_DIGITS) -> int:
    """The value of ``text`` written in ASCII digits, at most ``max_digits`` of them.

    Raises:
        ValueError: not a string, empty, a sign, a space, any other character, or too long.
    """
    if (
        not isinstance(text, str)
        or not 0 < len(text) <= max_digits
        or not text.isascii()
        or not text.isdigit()
    ):
        raise ValueError("not a whole number")
    return int(text)
