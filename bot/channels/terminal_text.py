"""Text laid out for a terminal: lines broken between words, never inside one.

A terminal that wraps a long line itself cuts it at the last column, in the middle of a word
("the n / otice"). ``wrap`` breaks each line at spaces instead, measuring what the terminal
shows: a CJK character takes two columns and may be broken before or after (Chinese and
Japanese have no spaces; a line may not start with closing punctuation such as "。" or "）"),
a combining mark or a zero-width character takes none. Right-to-left text (Arabic) is broken
between its words in reading order; the terminal lays out each line. A word longer than the
line (a web address) stays whole on a line of its own, so it can still be copied.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = ["display_width", "wrap"]

_NO_BREAK_BEFORE: Final = frozenset("、。，．・：；？！）」』】〕〉》〗〙〛｝］,.!?;:)]}%”’…ー")
"""Characters a line may not start with (closing punctuation, the long vowel mark)."""
_NO_BREAK_AFTER: Final = frozenset("（「『【〔〈《〖〘〚｛［([{“‘")
"""Characters a line may not end with (opening punctuation)."""
_HANGING: Final = re.compile(r"\s*(?:(?:[-*•·]|\d{1,3}[.)])\s+)?")
"""A line's indent and list marker: its continuation lines start under the text after them."""


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """The columns a terminal uses to show ``text`` (wide CJK characters count two)."""
    return sum(_char_width(char) for char in text)


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _pieces(text: str) -> list[tuple[str, str]]:
    """``text`` cut where a line may break: (the spaces before, the unbreakable piece)."""
    pieces: list[tuple[str, str]] = []
    for match in re.finditer(r"(\s*)(\S+)", text):
        spaces, word = match.group(1), match.group(2)
        # Inside a word, a CJK character may be broken before or after, except where the
        # punctuation rules say no.
        start = 0
        for i in range(1, len(word)):
            before, after = word[i - 1], word[i]
            if not (_is_wide(before) or _is_wide(after)):
                continue
            if after in _NO_BREAK_BEFORE or before in _NO_BREAK_AFTER:
                continue
            if unicodedata.combining(after):
                continue
            pieces.append((spaces, word[start:i]))
            spaces, start = "", i
        pieces.append((spaces, word[start:]))
    return pieces


def _wrap_line(line: str, width: int) -> list[str]:
    if display_width(line) <= width:
        return [line]
    marker = _HANGING.match(line)
    head = marker.group(0) if marker else ""
    indent = " " * display_width(head)
    if display_width(indent) >= width // 2:  # a deep indent would leave no room
        indent = ""
    lines: list[str] = []
    current = head
    current_width = display_width(head)
    started = False  # whether ``current`` holds a piece yet (beyond the marker)
    for spaces, piece in _pieces(line[len(head) :]):
        piece_width = display_width(piece)
        gap = spaces if started else ""
        if started and current_width + display_width(gap) + piece_width > width:
            lines.append(current)
            current, current_width, gap = indent, display_width(indent), ""
        current += gap + piece
        current_width += display_width(gap) + piece_width
        started = True
    lines.append(current)
    return lines


def wrap(text: str, width: int | None) -> str:
    """``text`` with each line broken between words to fit ``width`` columns (None: as is).

    Existing line breaks stay; a list item's continuation lines are indented under its text.
    """
    if width is None or width < 10:
        return text
    return "\n".join(
        wrapped for line in text.split("\n") for wrapped in _wrap_line(line.rstrip(), width)
    )
