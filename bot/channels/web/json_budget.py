"""Reading a JSON body within a budget: at most so many bytes and so deep.

Python's ``json`` module recurses once per nesting level, so ``[[[[...]]]]`` a few thousand deep
raises ``RecursionError`` (not ``ValueError``) and would become a 500. Every JSON body the
server reads from a client (web chat, admin API, Telegram webhook) goes through
:func:`parse_json`, which measures the nesting first, in one pass and without recursion, and
answers any refusal with ``ValueError``: the parser is total on bytes.
"""

from __future__ import annotations

import json
from typing import Any, Final

__all__ = ["MAX_JSON_DEPTH", "JsonRefused", "json_depth", "parse_json"]

# Deeper than any body the API documents (the admin hours object is 2 deep), far below
# Python's recursion limit.
MAX_JSON_DEPTH: Final = 32


class JsonRefused(ValueError):
    """The body is not JSON within the budget; ``reason`` is ``too_large``, ``too_deep`` or
    ``malformed``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, brackets inside strings ignored.

    It reads the text as JSON would without checking it is JSON: a malformed text still gets a
    number, and the parser refuses it afterwards.
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_json(raw: bytes, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON value of ``raw``.

    Raises:
        JsonRefused: more than ``max_bytes`` bytes (``too_large``), nested deeper than
            ``max_depth`` (``too_deep``), or not UTF-8 JSON (``malformed``).
    """
    if len(raw) > max_bytes:
        raise JsonRefused("too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise JsonRefused("malformed") from None
    # No deeper than it has openers: most bodies have far fewer than the budget, and the
    # counts (in C) spare them the character-by-character walk.
    if text.count("[") + text.count("{") > max_depth and json_depth(text) > max_depth:
        raise JsonRefused("too_deep")
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise JsonRefused("malformed") from None
