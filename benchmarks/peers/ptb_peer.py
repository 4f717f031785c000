"""The case-status flow on python-telegram-bot 22, written as its documentation and examples do:
``Application`` + ``ConversationHandler`` (entry ``/start``, one state per step, inline keyboards
answered with ``CallbackQueryHandler`` and edited in place, as ``inlinekeyboard2.py`` does) +
``PicklePersistence`` (the conversation's state survives a restart), ``concurrent_updates``
left off as the ``ConversationHandler`` documentation requires ("ConversationHandler heavily
relies on incoming updates being processed one by one").

python benchmarks/peers/ptb_peer.py --api URL --db PATH --state FILE [--webhook-port P]
(with the peers' own environment, ``make bench-peers``). Polling by default; with
``--webhook-port`` it serves ``Application.run_webhook`` on 127.0.0.1:P (tornado).
"""

from __future__ import annotations

import argparse
import logging

import flow
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)

MENU, ASK = range(2)
WEBHOOK_URL = "https://bot.example.test/telegram"
WEBHOOK_SECRET = "peer-webhook-secret"  # noqa: S105 (a benchmark's loopback webhook)

cases: flow.Cases


def menu_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(flow.CHECK, callback_data="check")]])


def status_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Get updates", callback_data="subscribe")],
            [InlineKeyboardButton("Check another case", callback_data="check")],
            [InlineKeyboardButton("Menu", callback_data="menu")],
        ]
    )


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.message is not None
    await update.message.reply_text(flow.HELLO, reply_markup=menu_keyboard())
    return MENU


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(flow.HELLO, reply_markup=menu_keyboard())
    return MENU


async def check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None
    await query.answer()
    await query.edit_message_text(flow.ASK)
    return ASK


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    assert query is not None
    assert context.user_data is not None
    context.user_data.setdefault("subscriptions", []).append(context.user_data.get("last"))
    await query.answer(flow.SUBSCRIBED)
    return ASK


async def receipt(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.message is not None
    assert update.message.text is not None
    assert context.user_data is not None
    number = flow.normalized(update.message.text)
    if not flow.RECEIPT.match(number):
        await update.message.reply_text(flow.NOT_A_RECEIPT)
        return ASK
    case = cases.find(number)
    if case is None:
        await update.message.reply_text(flow.NOT_FOUND)
        return ASK
    context.user_data["last"] = case.receipt
    await update.message.reply_text(case.text(), reply_markup=status_keyboard())
    return ASK


def build(api: str, token: str, state: str) -> Application:  # type: ignore[type-arg]
    persistence = PicklePersistence(filepath=state)
    application = (
        Application.builder()
        .token(token)
        .base_url(f"{api}/bot")
        .persistence(persistence)
        .concurrent_updates(False)
        .build()
    )
    conversation = ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={
            MENU: [CallbackQueryHandler(check, pattern="^check$")],
            ASK: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, receipt),
                CallbackQueryHandler(check, pattern="^check$"),
                CallbackQueryHandler(menu, pattern="^menu$"),
                CallbackQueryHandler(subscribe, pattern="^subscribe$"),
            ],
        },
        fallbacks=[CommandHandler("start", start)],
        name="case_status",
        persistent=True,
        allow_reentry=True,
    )
    application.add_handler(conversation)
    return application


def main() -> None:
    global cases
    parser = argparse.ArgumentParser()
    parser.add_argument("--api", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--webhook-port", type=int)
    args = parser.parse_args()
    logging.basicConfig(level=getattr(logging, __import__("os").environ.get("PEER_LOG", "WARNING")))
    cases = flow.Cases(args.db)
    application = build(args.api, args.token, args.state)
    if args.webhook_port is None:
        application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=2)
    else:
        application.run_webhook(
            listen="127.0.0.1",
            port=args.webhook_port,
            url_path="telegram",
            secret_token=WEBHOOK_SECRET,
            webhook_url=WEBHOOK_URL,
            allowed_updates=Update.ALL_TYPES,
        )


if __name__ == "__main__":
    main()
