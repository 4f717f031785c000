"""Telegram's published flood limits, and which Bot API calls and chats they apply to.

Which calls count: a *message* is a call that puts something into a chat - an endpoint starting
with ``send`` (except ``sendChatAction``), ``edit``, ``copyMessage(s)``, ``forwardMessage(s)``
or ``stopPoll`` - that names a ``chat_id``. Everything else (``getMe``, ``setMyCommands``,
``answerCallbackQuery``, ``sendChatAction``, ``deleteMessage``, ``setWebhook``...) is not
throttled: Telegram does not count it against the message limits, and delaying a callback answer
or a typing indicator behind a queue of replies would make the bot feel stuck. Such a call still
waits while its chat is paused by a 429.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CHAT_BURST",
    "CHAT_INTERVAL",
    "GROUP_PERIOD",
    "GROUP_RATE",
    "MARGIN",
    "OVERALL_RATE",
    "chat_key",
    "counts_as_message",
]

OVERALL_RATE: Final = 30.0
"""Messages per second for the whole bot (Telegram's free broadcast limit)."""
CHAT_INTERVAL: Final = 1.0
"""Seconds between two messages to one chat, sustained."""
CHAT_BURST: Final = 3
"""Messages one chat may get at once before the 1 s spacing applies: Telegram tolerates a short
burst, and a reply of two messages (or an edited button and its answer) should not take a
second per message. The bucket refills one message per ``CHAT_INTERVAL``."""
GROUP_RATE: Final = 20
"""Messages per ``GROUP_PERIOD`` to one group, supergroup or channel."""
GROUP_PERIOD: Final = 60.0
MARGIN: Final = 0.05
"""Seconds added to the 1 s overall window (after a message's answer): timer and clock slack."""

_MESSAGE_PREFIXES: Final = ("send", "edit", "copyMessage", "forwardMessage", "stopPoll")
_NOT_MESSAGES: Final = frozenset({"sendChatAction"})


def counts_as_message(endpoint: str) -> bool:
    """Tell whether a Bot API call counts against Telegram's message limits."""
    return endpoint.startswith(_MESSAGE_PREFIXES) and endpoint not in _NOT_MESSAGES


def chat_key(chat_id: object) -> tuple[int | str, bool] | None:
    """Return ``(key, is_group)`` for a ``chat_id`` parameter, or None when there is none.

    A negative id is a group, supergroup or channel; so is an ``@username`` (only those have
    one). A numeric string is read as the number it spells, so ``"42"`` and ``42`` share a lane.
    """
    if chat_id is None or isinstance(chat_id, bool):
        return None
    if isinstance(chat_id, int):
        return chat_id, chat_id < 0
    text = str(chat_id)
    try:
        number = int(text)
    except ValueError:
        return text.lower(), True
    return number, number < 0
