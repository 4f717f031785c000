"""Notifications on Telegram: the outbox dispatcher's sender for the ``telegram`` channel.

The dispatcher (``bot/notify/dispatcher.py``) claims, renders and records; this sends one rendered
notification with the running channel's bot, so the channel's rate limiter applies (one chat's
messages in order and 1 a second, 30 a second in all). The sender is ``exclusive``: one worker
at a time sends Telegram notifications, since the 30 a second are the bot's, not a worker's.

Telegram's refusals that no retry can change park the row at once: the person blocked the bot
or left (Forbidden), the chat is gone or the request is wrong (BadRequest), the group became a
supergroup (ChatMigrated). Anything else (a timeout, a 5xx, a network error) is retried after
a backoff. How exactly-once holds, and the one window Telegram leaves open, is explained in
``bot/notify/dispatcher.py``.
"""

from __future__ import annotations

from typing import Final

from telegram.error import BadRequest, ChatMigrated, Forbidden

from bot.channels.telegram.channel import CHANNEL, TelegramChannel
from bot.dialogs.model import Reply
from bot.notify.dispatcher import ExternalSender, PermanentFailure

__all__ = ["PERMANENT", "TelegramSender"]

PERMANENT: Final = (Forbidden, BadRequest, ChatMigrated, PermanentFailure)


class TelegramSender(ExternalSender):
    """Sends the outbox's ``telegram`` rows with a running ``TelegramChannel``'s bot."""

    channel = CHANNEL
    exclusive = True

    def __init__(self, telegram: TelegramChannel) -> None:
        self.telegram = telegram

    def address_problem(self, address: str) -> str | None:
        try:
            int(address)
        except ValueError:
            return "not a Telegram chat id"
        return None

    async def send(self, address: str, reply: Reply) -> None:
        await self.telegram.send_reply(int(address), reply)

    def is_permanent(self, error: BaseException) -> bool:
        return isinstance(error, PERMANENT)
