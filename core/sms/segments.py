"""A text message's length as phones count it: GSM-7 or UCS-2, and its segments.

A text goes as GSM-7 (the GSM 03.38 alphabet, 7 bits a character) when every character is in
that alphabet, else as UCS-2 (UTF-16 units). One message holds 160 GSM-7 septets or 70 UCS-2
units; a longer text is sent as parts of 153 septets or 67 units each (the rest is the header
that joins them), and a character of GSM-7's extension table (``{`` ``€`` ...) takes two
septets, never split between parts. casebot sends at most ``MAX_SEGMENTS`` parts: ``compose``
cuts a longer body at a word and keeps the footer (how to stop) whole.

Pure functions: no I/O, no wording.
"""

from __future__ import annotations

import enum
import re
from typing import Final

__all__ = [
    "MAX_SEGMENTS",
    "Encoding",
    "compose",
    "encoding_of",
    "plain_text",
    "segments",
]

MAX_SEGMENTS: Final = 3
ELLIPSIS: Final = "..."

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

_LIMITS: Final = {  # (one message, one part of several)
    "gsm7": (160, 153),
    "ucs2": (70, 67),
}

# Typographic characters with a plain GSM-7 equivalent: swapped so the text stays GSM-7.
_PLAIN: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
        "\u2009": " ",
        "\t": " ",
        # Direction marks and zero-width characters: invisible, and they cost UCS-2.
        "\u200b": None,
        "\u200c": None,
        "\u200d": None,
        "\u200e": None,
        "\u200f": None,
        "\u2066": None,
        "\u2067": None,
        "\u2068": None,
        "\u2069": None,
        "\u202a": None,
        "\u202b": None,
        "\u202c": None,
        "\ufeff": None,
    }
)
_BLANK_LINES: Final = re.compile(r"[ ]*\n[\s]*")


class Encoding(enum.StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


def plain_text(text: str) -> str:
    """A chat reply as a text message: typographic punctuation as its plain form, invisible
    marks dropped, no blank lines (each costs characters), no spaces at either end."""
    text = text.replace("\r\n", "\n").translate(_PLAIN)
    return _BLANK_LINES.sub("\n", text).strip()


def encoding_of(text: str) -> Encoding:
    """GSM-7 when every character is in its alphabet (basic or extension), else UCS-2."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        return Encoding.GSM7
    return Encoding.UCS2


def _cost(c: str, encoding: Encoding) -> int:
    if encoding is Encoding.GSM7:
        return 2 if c in GSM7_EXTENSION else 1
    return 2 if ord(c) > 0xFFFF else 1  # a surrogate pair is two UTF-16 units


def segments(text: str) -> list[str]:
    """The parts a text is sent in (one when it fits one message); a character taking two
    septets or units is never split between parts."""
    encoding = encoding_of(text)
    single, part = _LIMITS[encoding]
    if sum(_cost(c, encoding) for c in text) <= single:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for c in text:
        cost = _cost(c, encoding)
        if used + cost > part:
            parts.append("".join(current))
            current, used = [], 0
        current.append(c)
        used += cost
    if current:
        parts.append("".join(current))
    return parts


def _join(body: str, footer: str) -> str:
    return f"{body}\n{footer}" if body and footer else body or footer


def compose(body: str, footer: str, *, max_segments: int = MAX_SEGMENTS) -> str:
    """The text to send: ``body`` as plain text and ``footer`` after it, in at most
    ``max_segments`` parts; a body too long is cut at a word, ``...`` marking the cut, and the
    footer is always kept whole. A character outside GSM-7 in the part cut away does not make
    the text UCS-2."""
    body, footer = plain_text(body), plain_text(footer)
    whole = _join(body, footer)
    if len(segments(whole)) <= max_segments:
        return whole

    def fits(n: int) -> bool:
        return len(segments(_join(body[:n].rstrip() + ELLIPSIS, footer))) <= max_segments

    low, high = 0, len(body)  # fits(low) is assumed; find the longest prefix that fits
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    cut = body[:low]
    if low < len(body) and not body[low].isspace():
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space > low // 2:  # cut between words unless a word is half the text
            cut = cut[:space]
    return _join(cut.rstrip() + ELLIPSIS, footer)
