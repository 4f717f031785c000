"""The case-status flow on aiogram 3 + aiogram-dialog 2, written as their documentation does:
a ``StatesGroup``, one ``Window`` per state in a ``Dialog`` (``Const``/``Format`` texts,
``SwitchTo``/``Button`` keyboards, a ``TextInput`` for the receipt number, a getter reading the
case), ``setup_dialogs`` on the ``Dispatcher``, and ``/start`` starting the dialog with
``StartMode.RESET_STACK``. State is durable: ``RedisStorage`` with
``DefaultKeyBuilder(with_destiny=True)`` (what aiogram-dialog requires of a storage), Redis at
127.0.0.1:6379, every key under a prefix of this run's. Polling with ``Dispatcher.start_polling``
(updates handled as tasks, aiogram's default), or webhook with ``SimpleRequestHandler`` +
``setup_application`` on aiohttp, as aiogram's webhook example does.

python benchmarks/peers/aiogram_peer.py --api URL --token T --db PATH --prefix P [--webhook-port N]
(with the peers' own environment, ``make bench-peers``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import flow
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import CommandStart
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import CallbackQuery, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiogram_dialog import Dialog, DialogManager, StartMode, Window, setup_dialogs
from aiogram_dialog.widgets.input import ManagedTextInput, TextInput
from aiogram_dialog.widgets.kbd import Button, SwitchTo
from aiogram_dialog.widgets.text import Const, Format
from aiohttp import web
from redis.asyncio import BlockingConnectionPool, Redis

WEBHOOK_URL = "https://bot.example.test/telegram"
WEBHOOK_SECRET = "peer-webhook-secret"  # noqa: S105 (a benchmark's loopback webhook)

cases: flow.Cases


class CaseStatus(StatesGroup):
    menu = State()
    ask = State()
    status = State()


async def on_receipt(
    message: Message, widget: ManagedTextInput[str], manager: DialogManager, text: str
) -> None:
    number = flow.normalized(text)
    if not flow.RECEIPT.match(number):
        await message.answer(flow.NOT_A_RECEIPT)
        return
    case = cases.find(number)
    if case is None:
        await message.answer(flow.NOT_FOUND)
        return
    manager.dialog_data["receipt"] = case.receipt
    await manager.switch_to(CaseStatus.status)


async def status_getter(dialog_manager: DialogManager, **_: Any) -> dict[str, Any]:
    case = cases.find(dialog_manager.dialog_data["receipt"])
    return {"text": case.text() if case is not None else flow.NOT_FOUND}


async def on_subscribe(callback: CallbackQuery, button: Button, manager: DialogManager) -> None:
    manager.dialog_data.setdefault("subscriptions", []).append(manager.dialog_data["receipt"])
    await callback.answer(flow.SUBSCRIBED)


dialog = Dialog(
    Window(
        Const(flow.HELLO),
        SwitchTo(Const(flow.CHECK), id="check", state=CaseStatus.ask),
        state=CaseStatus.menu,
    ),
    Window(
        Const(flow.ASK),
        TextInput(id="receipt", on_success=on_receipt),
        state=CaseStatus.ask,
    ),
    Window(
        Format("{text}"),
        TextInput(id="another", on_success=on_receipt),
        Button(Const("Get updates"), id="subscribe", on_click=on_subscribe),
        SwitchTo(Const("Check another case"), id="again", state=CaseStatus.ask),
        SwitchTo(Const("Menu"), id="menu", state=CaseStatus.menu),
        getter=status_getter,
        state=CaseStatus.status,
    ),
)


async def start(message: Message, dialog_manager: DialogManager) -> None:
    await dialog_manager.start(CaseStatus.menu, mode=StartMode.RESET_STACK)


def build(prefix: str) -> Dispatcher:
    # The one departure from the examples' ``RedisStorage.from_url(url)``: its pool refuses a
    # 101st connection (redis-py's MaxConnectionsError, a lost update) when many updates are in
    # hand at once; a blocking pool of the same size waits for a free connection instead.
    pool = BlockingConnectionPool.from_url("redis://127.0.0.1:6379/0", max_connections=100)
    storage = RedisStorage(
        Redis(connection_pool=pool),
        key_builder=DefaultKeyBuilder(prefix=prefix, with_destiny=True),
    )
    dispatcher = Dispatcher(storage=storage)
    dispatcher.message.register(start, CommandStart())
    dispatcher.include_router(dialog)
    setup_dialogs(dispatcher)
    return dispatcher


def main() -> None:
    global cases
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--webhook-port", type=int)
    args = parser.parse_args()
    logging.basicConfig(level=getattr(logging, __import__("os").environ.get("PEER_LOG", "WARNING")))
    cases = flow.Cases(args.db)
    session = AiohttpSession(api=TelegramAPIServer.from_base(args.api))
    bot = Bot(args.token, session=session)
    dispatcher = build(args.prefix)
    if args.webhook_port is None:
        asyncio.run(dispatcher.start_polling(bot, polling_timeout=2))
        return

    async def on_startup(bot: Bot) -> None:
        await bot.set_webhook(WEBHOOK_URL, secret_token=WEBHOOK_SECRET)

    dispatcher.startup.register(on_startup)
    app = web.Application()
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=WEBHOOK_SECRET).register(
        app, path="/telegram"
    )
    setup_application(app, dispatcher, bot=bot)
    web.run_app(app, host="127.0.0.1", port=args.webhook_port, print=None)


if __name__ == "__main__":
    main()
