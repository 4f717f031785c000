"""Helpers of the outbox tests: cases followed by web chat sessions, status changes that queue
notifications, and a recording stand-in for a network channel."""

from __future__ import annotations

from typing import Final

from sqlalchemy import func, select

from bot.dialogs.model import Reply
from bot.notify.dispatcher import ExternalSender, PermanentFailure
from core.cases.models import Case
from core.cases.service import update_status
from core.cases.subscriptions import subscribe
from core.outbox.models import OutboxMessage
from core.uow import UnitOfWorkFactory
from core.web_sessions import WebMessage, start_session

RECEIPT_PREFIX: Final = "IOE09"


def receipt(n: int) -> str:
    return f"{RECEIPT_PREFIX}{n:08d}"


async def seed_cases(
    uow_factory: UnitOfWorkFactory, cases: int, *, channel: str, chats: list[str]
) -> list[str]:
    """``cases`` cases, each followed by every chat of ``chats`` on ``channel``; returns the
    receipt numbers."""
    numbers = [receipt(n) for n in range(1, cases + 1)]
    async with uow_factory() as uow:
        for number in numbers:
            uow.session.add(
                Case(receipt_number=number, form_type="I-765", status_code="case_received")
            )
        await uow.flush()
        for number in numbers:
            for chat in chats:
                await subscribe(uow, number, channel=channel, chat_id=chat)
        await uow.commit()
    return numbers


async def web_sessions(uow_factory: UnitOfWorkFactory, count: int) -> list[str]:
    """``count`` new web chat sessions; returns their ids."""
    ids = []
    async with uow_factory() as uow:
        for _ in range(count):
            session_id, _token = await start_session(uow)
            ids.append(session_id)
        await uow.commit()
    return ids


async def change_statuses(uow_factory: UnitOfWorkFactory, numbers: list[str], status: str) -> None:
    """What an operator's status update does, for each case (notifications queued)."""
    async with uow_factory() as uow:
        for number in numbers:
            assert await update_status(uow, number, status)
        await uow.commit()


async def outbox_rows(uow_factory: UnitOfWorkFactory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def pushed(uow_factory: UnitOfWorkFactory) -> dict[int, int]:
    """How many transcript messages each outbox id has (the pushed notifications)."""
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(WebMessage.outbox_id, func.count())
            .where(WebMessage.outbox_id.is_not(None))
            .group_by(WebMessage.outbox_id)
        )
        return {int(outbox_id): int(count) for outbox_id, count in rows}


class RecordingSender(ExternalSender):
    """A network channel that records what it was asked to send (a stand-in for a service
    such as Telegram; the Telegram sender itself is tested against the fake Bot API)."""

    def __init__(self, channel: str = "telegram", *, exclusive: bool = True) -> None:
        self.channel = channel
        self.exclusive = exclusive
        self.sent: list[tuple[str, str]] = []
        self.refuse: set[str] = set()  # addresses refused for good
        self.fail: set[str] = set()  # addresses that fail for now

    async def send(self, address: str, reply: Reply) -> None:
        if address in self.refuse:
            raise PermanentFailure("the person blocked the bot")
        if address in self.fail:
            raise ConnectionError("the service is unreachable")
        self.sent.append((address, reply.text))
