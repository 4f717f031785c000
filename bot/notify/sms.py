"""Text messages: the outbox dispatcher's sender for the ``sms`` channel.

The dispatcher (``bot/notify/dispatcher.py``) claims, screens, renders and records; this sends
one text through the SMS provider port (Twilio's Messages API, ``bot.sms.twilio``). Before the
batch is rendered, ``screen`` parks the texts to numbers that replied STOP and defers those in
the person's quiet hours or over the number's daily cap (``core.sms.rules``) to when they may
go; and right before each text goes, the opted-out table is read again (a STOP may arrive
while the batch is being sent). The rendering (``bot.notify.notifications``) makes each text
plain, at most three parts, ending with how to stop.

The sender is ``exclusive``: one worker at a time sends texts, so the daily cap is counted by
one, and a provider's per-account rate is not multiplied by the workers. A 429 or 5xx from the
provider is retried after the outbox's backoff; a refusal (an unsubscribed or invalid number)
parks the row at once. Twilio takes no idempotency key, so the one window the dispatcher's
docstring describes for Telegram is the same here: a worker killed between Twilio accepting a
text and the ``sent`` mark being committed leaves a row that is sent again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from bot.dialogs.model import Reply
from bot.notify.senders import ExternalSender, PermanentFailure
from core.clock import Clock
from core.outbox.dispatch import ClaimedMessage, Held
from core.ports import OutgoingSms, SmsProvider, SmsRefused
from core.sms.rules import DAILY_CAP
from core.sms.service import CHANNEL, OPTED_OUT, is_opted_out, record_accepted, screen
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = ["US_NUMBER", "SmsSender"]

US_NUMBER: Final = re.compile(r"\+1[2-9]\d{2}[2-9]\d{6}")
"""A US number in E.164 (the North American plan's area and exchange codes start 2-9)."""


class SmsSender(ExternalSender):
    """Sends the outbox's ``sms`` rows through an SMS provider.

    Args:
        provider: the provider port (``TwilioSms``).
        uow_factory: for the opted-out check right before each text.
        clock: the time of the delivery records (the provider's id of each text, written with
            its sent mark).
        cap: texts that are not codes one number gets a day.
    """

    channel = CHANNEL
    exclusive = True

    def __init__(
        self,
        provider: SmsProvider,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        *,
        cap: int = DAILY_CAP,
    ) -> None:
        self.provider = provider
        self.uow_factory = uow_factory
        self.clock = clock
        self.cap = cap
        # outbox id -> (sid, number), until the dispatcher records it sent (``record_sent``)
        self._accepted: dict[int, tuple[str, str]] = {}

    def address_problem(self, address: str) -> str | None:
        if not US_NUMBER.fullmatch(address):
            return "not a US phone number in E.164 form"
        return None

    async def screen(
        self, uow: UnitOfWork, messages: Sequence[ClaimedMessage], *, now: datetime
    ) -> dict[int, Held]:
        return await screen(uow, messages, now=now, cap=self.cap)

    async def send(self, address: str, reply: Reply) -> None:
        await self._send(None, address, reply)

    async def send_message(self, message_id: int, address: str, reply: Reply) -> None:
        await self._send(message_id, address, reply)

    async def _send(self, message_id: int | None, address: str, reply: Reply) -> None:
        async with self.uow_factory() as uow:
            if await is_opted_out(uow, address):
                raise PermanentFailure(OPTED_OUT)
        sid = await self.provider.send(OutgoingSms(to=address, body=reply.text))
        if message_id is not None:
            self._accepted[message_id] = (sid, address)

    async def record_sent(self, uow: UnitOfWork, message_id: int) -> None:
        accepted = self._accepted.pop(message_id, None)
        if accepted is not None:  # kept with the sent mark, in its transaction
            sid, address = accepted
            await record_accepted(
                uow, sid, number=address, outbox_id=message_id, now=self.clock.now()
            )

    def is_permanent(self, error: BaseException) -> bool:
        return isinstance(error, PermanentFailure | SmsRefused)
