"""Helpers for the password and sign-in help conversations."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from sqlalchemy import select

from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from core.accounts.links import link_chat
from core.accounts.service import find_account_by_email
from core.conversations import Conversation
from core.demo import DEMO_EMAIL
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

NEW_PASSWORD: Final = "lantern-harbor-orchid-97"
BACKUP_CODE: Final = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
BACKUP_EXAMPLE: Final = "4F7K-2MQX-9WRT"


async def open_help(chat: FakeChat, choice: str | None = None) -> None:
    """From the menu to the help's first step (and one of its choices)."""
    await chat.send("hi")
    await chat.press("Password and sign-in help")
    if choice is not None:
        await chat.press(choice)


def other_code(code: str) -> str:
    """A 6-digit code that is surely not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def stored_state(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> dict[str, Any]:
    async with uow_factory() as uow:
        conversation = await uow.session.scalar(
            select(Conversation).where(
                Conversation.channel == chat.channel, Conversation.chat_id == chat.chat_id
            )
        )
        assert conversation is not None
        return dict(conversation.state)


def readable(state: dict[str, Any]) -> str:
    """The stored state as text, sealed values left out: a sealed value is random-looking
    base64, in which a 6-digit run turns up by chance about once in 300 values."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ("<sealed>" if k == "sealed" else strip(v)) for k, v in value.items()}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(state))


def sealed_values(state: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "sealed" and isinstance(v, str):
                    found.append(v)
                else:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(state)
    return found


def restarted(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, chat: FakeChat
) -> FakeChat:
    """The same chat on a new engine over the same database (a restart)."""
    engine = Engine(Services(uow_factory=uow_factory, mailer=mailer, clock=clock), all_dialogs())
    return FakeChat(engine, channel=chat.channel, chat_id=chat.chat_id)


def all_texts(chat: FakeChat) -> str:
    return "\n".join(reply.text for turn in chat.turns for reply in turn.replies)


async def ana_id(uow_factory: UnitOfWorkFactory) -> int:
    """The demo account's id."""
    async with uow_factory() as uow:
        account = await find_account_by_email(uow, DEMO_EMAIL)
        assert account is not None
        return account.id


async def link_ana(uow_factory: UnitOfWorkFactory, chat_id: str) -> None:
    """Sign a test chat in as the demo account."""
    account_id = await ana_id(uow_factory)
    async with uow_factory() as uow:
        await link_chat(uow, account_id, "test", chat_id)
        await uow.commit()


async def reach_reset_code(chat: FakeChat, email: str = DEMO_EMAIL) -> None:
    """Open "forgot password" and give the email: the next step asks for the mailed code."""
    await open_help(chat, "I forgot my password")
    await chat.send(email)
