"""What arrives from Telegram: an ``Update`` as the engine's ``Incoming``, and the order in
which the updates of one chat are processed (one after another, other chats concurrently)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Final

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from bot.dialogs.model import Incoming
from bot.engine import KeyedLock

__all__ = ["CHANNEL", "ChatOrderedUpdates", "parse_update", "to_incoming"]

CHANNEL: Final = "telegram"
MAX_ID: Final = 2**63


class ChatOrderedUpdates(BaseUpdateProcessor):
    """Runs updates concurrently, but one chat's one after another, in arrival order.

    The lock is taken before anything awaits, so updates that the Application started in
    order queue for it in order (asyncio locks are FIFO).
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: KeyedLock[int] = KeyedLock()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        async with self._chats.hold(chat.id):
            await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


def parse_update(data: Any, bot: Bot) -> Update:
    """The ``Update`` of a webhook body's JSON object.

    Raises:
        ValueError: the object is no update: ``Update.de_json`` raises whatever a field of the
            wrong type or out of range makes it raise (a ``date`` past the platform's
            ``time_t`` is an ``OverflowError``), and all of it means the same.
    """
    try:
        update = Update.de_json(data, bot)
        chat, user = update.effective_chat, update.effective_user
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError, OSError) as exc:
        raise ValueError(f"not a Telegram update: {type(exc).__name__}") from None
    # Telegram's ids are whole numbers of at most 52 bits; the Application keeps them in sets
    # (a list there is unhashable) and the inbox stores a chat's in a 64-character column.
    for found in (chat, user):
        if found is not None and not _is_telegram_id(found.id):
            raise ValueError("not a Telegram update: an id that is not a 64-bit whole number")
    return update


def _is_telegram_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_ID


def _chat_of(message: object) -> str | None:
    """The chat id of a message, when it is a whole number as Telegram's are (a callback's
    message is not the update's effective chat, which ``parse_update`` checks)."""
    chat = getattr(message, "chat", None)
    chat_id = getattr(chat, "id", None)
    return str(chat_id) if _is_telegram_id(chat_id) else None


def to_incoming(update: Update) -> Incoming | None:
    """The engine's view of an update, or None for what the bot does not handle (which
    includes a forged update whose fields are not of Telegram's types: ``de_json`` takes any
    JSON value for a text or a chat id)."""
    user = update.effective_user
    user_id = str(user.id) if user is not None else None
    language = user.language_code if user is not None else None
    locale_hint = language if isinstance(language, str) else None
    query = update.callback_query
    if query is not None:
        query_chat = _chat_of(query.message)
        if query_chat is None or not isinstance(query.data, str):
            return None
        return Incoming(
            CHANNEL,
            query_chat,
            payload=query.data,
            user_id=user_id,
            locale_hint=locale_hint,
            update_id=update.update_id,
        )
    message = update.message
    chat_id = _chat_of(message)
    if message is None or chat_id is None:
        return None
    text = message.text or message.caption or ""
    if not isinstance(text, str):
        return None
    if text.startswith("/"):
        # "/start@casebot deep-link" is the command "/start".
        text = text.split()[0].split("@")[0] if text.strip() else text
    return Incoming(
        CHANNEL,
        chat_id,
        text=text,
        user_id=user_id,
        locale_hint=locale_hint,
        update_id=update.update_id,
    )
