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
    """The update a webhook's JSON body holds.

    Raises:
        ValueError: the data is not an update.
    """
    try:
        return Update.de_json(data, bot)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a Telegram update: {type(exc).__name__}") from None


def to_incoming(update: Update) -> Incoming | None:
    """The engine's view of an update, or None for what the bot does not handle."""
    user = update.effective_user
    user_id = str(user.id) if user is not None else None
    locale_hint = user.language_code if user is not None else None
    query = update.callback_query
    if query is not None:
        if query.message is None or query.data is None:
            return None
        return Incoming(
            CHANNEL,
            str(query.message.chat.id),
            payload=query.data,
            user_id=user_id,
            locale_hint=locale_hint,
            update_id=update.update_id,
        )
    message = update.message
    if message is None:
        return None
    text = message.text or message.caption or ""
    if text.startswith("/"):
        # "/start@casebot deep-link" is the command "/start".
        text = text.split()[0].split("@")[0] if text.strip() else text
    return Incoming(
        CHANNEL,
        str(message.chat.id),
        text=text,
        user_id=user_id,
        locale_hint=locale_hint,
        update_id=update.update_id,
    )
