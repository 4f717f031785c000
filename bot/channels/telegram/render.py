"""Turning the engine's replies into Telegram's shapes: message chunks and inline keyboards."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from telegram import InlineKeyboardMarkup

from bot.dialogs.model import Button, Reply

__all__ = ["MAX_MESSAGE_LENGTH", "fewer_messages", "keyboard", "pressed_text", "split_text"]

# Telegram's limit on one message, counted in UTF-16 code units.
MAX_MESSAGE_LENGTH: Final = 4096
MAX_CALLBACK_BYTES: Final = 64
# Labels this short fit two to a row on a phone.
SHORT_LABEL: Final = 16


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Cut a text into messages of at most ``limit`` UTF-16 units, at line breaks when it can,
    else at spaces, else anywhere. An empty text gives no message."""
    if _units(text) <= limit:
        return [text] if text.strip() else []
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _units(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = ""
        while _units(line) > limit:
            head = _cut(line, limit)
            chunks.append(head.rstrip())
            line = line[len(head) :].lstrip(" ")
        current = line
    if current.strip():
        chunks.append(current)
    return [chunk.rstrip("\n") for chunk in chunks]


def _cut(line: str, limit: int) -> str:
    """The longest head of ``line`` within ``limit``, ending at a space if there is one."""
    end = len(line)
    while _units(line[:end]) > limit:
        end -= 1
    space = line.rfind(" ", 0, end)
    return line[: space + 1] if space > 0 else line[:end]


def keyboard(buttons: Sequence[Button]) -> dict[str, Any] | None:
    """The ``reply_markup`` of an inline keyboard, as the Bot API's JSON object: one button per
    row, or two per row when every label is short. (Built as plain data, not as
    python-telegram-bot's ``InlineKeyboardMarkup`` of button objects, which the request would
    only turn back into this: a fifth of sending a reply's CPU.)

    Raises:
        ValueError: a payload is longer than Telegram's 64-byte ``callback_data``.
    """
    if not buttons:
        return None
    for button in buttons:
        if len(button.payload.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"button payload over {MAX_CALLBACK_BYTES} bytes: {button.label!r}")
    keys = [{"text": b.label, "callback_data": b.payload} for b in buttons]
    per_row = 2 if len(keys) > 2 and all(len(b.label) <= SHORT_LABEL for b in buttons) else 1
    return {"inline_keyboard": [keys[i : i + per_row] for i in range(0, len(keys), per_row)]}


def fewer_messages(replies: Sequence[Reply]) -> list[Reply]:
    """The replies in as few messages as they fit: a reply with text only (no buttons, no
    attachment) shares its message with the next one, a blank line between them, when both fit
    in one message. Order, buttons (always on the last), attachments and secrecy are kept."""
    merged: list[Reply] = []
    for reply in replies:
        previous = merged[-1] if merged else None
        if (
            previous is None
            or previous.buttons
            or previous.attachments
            or not previous.text.strip()
            or not reply.text.strip()
            or _units(f"{previous.text}\n\n{reply.text}") > MAX_MESSAGE_LENGTH
        ):
            merged.append(reply)
            continue
        kept = None
        if previous.kept_text is not None or reply.kept_text is not None:
            kept = f"{previous.kept_text or previous.text}\n\n{reply.kept_text or reply.text}"
        merged[-1] = Reply(
            f"{previous.text}\n\n{reply.text}",
            buttons=reply.buttons,
            attachments=reply.attachments,
            secret_input=reply.secret_input,
            kept_text=kept,
        )
    return merged


CHOSEN: Final = "✔"
"""Marks the choice made, under the text of a pressed message."""


def pressed_text(text: str, markup: InlineKeyboardMarkup | None, pressed: str | None) -> str | None:
    """The text of a pressed message with the label of the button pressed under it, or None
    when that button is not among its buttons or the text would not fit."""
    if markup is None or pressed is None:
        return None
    label = next(
        (b.text for row in markup.inline_keyboard for b in row if b.callback_data == pressed),
        None,
    )
    if label is None:
        return None
    edited = f"{text}\n\n{CHOSEN} {label}"
    return edited if _units(edited) <= MAX_MESSAGE_LENGTH else None
