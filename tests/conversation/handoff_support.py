"""A person's chat with live agents, for conversation tests: an engine whose agent desk a test
controls, the agent's side played by calling the core services, and the notifications that
reach the person's chat through the outbox, worded as the dispatcher words them."""

from __future__ import annotations

from sqlalchemy import select

from bot.dialogs.context import Services
from bot.dialogs.model import Reply
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.notify.notifications import render_message
from core.accounts.links import link_chat
from core.accounts.models import Account
from core.handoff import (
    FixedDesk,
    Handoff,
    claim,
    close,
    open_handoff,
    post_agent_message,
    reply_to_secure_message,
    secure_messages,
)
from core.outbox.models import OutboxMessage, OutboxStatus
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

__all__ = ["Agent", "agent_engine", "received", "sign_in"]


def agent_engine(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, desk: FixedDesk
) -> Engine:
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock, agent_desk=desk)
    return Engine(services, all_dialogs())


async def received(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> list[Reply]:
    """What the outbox has for this chat and was not taken yet, worded in its language now
    (and then taken, as the dispatcher would send it)."""
    async with uow_factory() as uow:
        rows = list(
            await uow.session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.channel == chat.channel,
                    OutboxMessage.address == chat.chat_id,
                    OutboxMessage.sent_at.is_(None),
                )
                .order_by(OutboxMessage.id)
            )
        )
        replies = [await render_message(uow, row) for row in rows]
        for row in rows:
            row.sent_at, row.status = uow.clock.now(), OutboxStatus.SENT
        await uow.commit()
    return replies


async def sign_in(uow_factory: UnitOfWorkFactory, chat: FakeChat, email: str) -> None:
    async with uow_factory() as uow:
        account_id = await uow.session.scalar(select(Account.id).where(Account.email == email))
        assert account_id is not None
        await link_chat(uow, account_id, chat.channel, chat.chat_id)
        await uow.commit()


class Agent:
    """A staff member at the console, played through the core services."""

    def __init__(self, uow_factory: UnitOfWorkFactory, staff_id: int, name: str) -> None:
        self.uow_factory = uow_factory
        self.staff_id = staff_id
        self.name = name

    async def handoff_of(self, chat: FakeChat) -> Handoff:
        async with self.uow_factory() as uow:
            handoff = await open_handoff(uow, chat.channel, chat.chat_id)
        assert handoff is not None, "the chat is in no queue"
        return handoff

    async def handoff_of_chat(self, channel: str, chat_id: str) -> int:
        async with self.uow_factory() as uow:
            handoff = await open_handoff(uow, channel, chat_id)
        assert handoff is not None, "the chat is in no queue"
        return handoff.id

    async def claim(self, chat: FakeChat) -> int:
        handoff = await self.handoff_of(chat)
        return await self.claim_id(handoff.id)

    async def claim_id(self, handoff_id: int) -> int:
        async with self.uow_factory() as uow:
            await claim(uow, handoff_id, self.staff_id, self.name)
            await uow.commit()
        return handoff_id

    async def write(self, handoff_id: int, text: str) -> None:
        async with self.uow_factory() as uow:
            await post_agent_message(uow, handoff_id, self.staff_id, text)
            await uow.commit()

    async def close(self, handoff_id: int) -> None:
        async with self.uow_factory() as uow:
            await close(uow, handoff_id, "resolved", staff_id=self.staff_id)
            await uow.commit()

    async def answer_secure_message(self, text: str) -> int:
        """Answer the oldest secure message not answered yet; returns its id."""
        async with self.uow_factory() as uow:
            message = (await secure_messages(uow))[0]
            await reply_to_secure_message(uow, message.id, self.staff_id, text)
            await uow.commit()
        return message.id
