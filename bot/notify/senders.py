"""What the outbox dispatcher (``bot/notify/dispatcher.py``) sends through: one sender per channel.

An ``ExternalSender`` sends over the network (Telegram, text messages), a
``TransactionalSender`` delivers into the database inside the dispatcher's transaction (the web
chat's transcript). The dispatcher's docstring tells how each is made exactly once.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from datetime import datetime

from bot.dialogs.model import Reply
from core.outbox.dispatch import ClaimedMessage, Held
from core.outbox.service import OutboxItem
from core.uow import UnitOfWork

__all__ = ["ExternalSender", "PermanentFailure", "Sender", "TransactionalSender"]


class PermanentFailure(Exception):
    """A refusal no retry can change (the person blocked the bot, the session is gone): the
    row is parked at once with this as the reason."""


class ExternalSender(abc.ABC):
    """Sends a rendered notification over the network.

    Attributes:
        channel: the outbox channel it sends (``telegram``).
        exclusive: only one worker at a time may send this channel (a shared rate limit).
        address: only the rows to this address are sent (a process that is one chat of its
            channel, the terminal); None: every row of the channel.
    """

    channel: str
    exclusive: bool = True
    address: str | None = None

    def address_problem(self, address: str) -> str | None:
        """Why a row's address cannot be sent to at all (parked with it), or None."""
        return None

    async def screen(
        self, uow: UnitOfWork, messages: Sequence[ClaimedMessage], *, now: datetime
    ) -> dict[int, Held]:
        """Which claimed messages may not go now (in the claim's unit of work, before they
        are rendered): deferred to a later time, or parked (``Held.until`` None)."""
        return {}

    async def send_message(self, message_id: int, address: str, reply: Reply) -> None:
        """Send the outbox message ``message_id`` (``send`` unless the channel needs the id)."""
        await self.send(address, reply)

    async def record_sent(self, uow: UnitOfWork, message_id: int) -> None:
        """Write what the channel keeps of a message it sent (a provider's message id), in the
        unit of work that marks it sent (committed with the mark)."""
        return None

    @abc.abstractmethod
    async def send(self, address: str, reply: Reply) -> None:
        """Send one message; returns once the service accepted it.

        Raises:
            PermanentFailure: never worth another try.
            Exception: anything else is retried after a backoff.
        """

    def is_permanent(self, error: BaseException) -> bool:
        """Whether a failure of ``send`` is final (besides ``PermanentFailure``)."""
        return isinstance(error, PermanentFailure)


class TransactionalSender(abc.ABC):
    """Delivers a rendered notification inside the dispatcher's unit of work.

    Attributes:
        channel: the outbox channel it delivers (``webchat``).
    """

    channel: str

    @abc.abstractmethod
    async def deliver(self, uow: UnitOfWork, message: OutboxItem, reply: Reply) -> None:
        """Write the delivery in ``uow`` (committed with the ``sent`` mark by the dispatcher).

        Raises:
            PermanentFailure: the address is gone; the row is parked.
        """

    async def after_commit(self) -> None:
        """Called after a batch committed (tell live connections in this process)."""
        return None


Sender = ExternalSender | TransactionalSender
