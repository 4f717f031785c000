"""The ``casebot`` command line.

casebot serve [--host H] [--port P]    the HTTP server (web chat, API, widget)
casebot demo                           (re)load the demo data, idempotently
casebot understand [--lang L] TEXT     what a message asks for, as one JSON object
casebot admin ...                      operator commands (see bot/admin/cli.py)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import sys
from collections.abc import Sequence
from typing import Final

from bot.admin.cli import add_admin_parser, run_admin
from bot.app import App, build_app
from bot.settings import DEFAULT_HOST, DEFAULT_PORT, ConfigError, Settings
from bot.wording.i18n import CatalogError, check_catalogs

__all__ = ["main"]

logger = logging.getLogger("casebot")
# Loggers whose DEBUG (and, for the SQL drivers, INFO) lines carry personal data or secrets.
SILENCED_AT_DEBUG: Final = (
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "aiosqlite",
    "asyncpg",
    "telegram",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casebot", description="casebot, the case assistant")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web chat server")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)

    chat = commands.add_parser("chat", help="chat with the assistant in this terminal")
    chat.add_argument("--lang", default=None, help="language: en, es, zh, vi, tl, ko, ar, ...")

    commands.add_parser("demo", help="(re)load the demo data, idempotently")

    understand = commands.add_parser(
        "understand", help="print what a message asks for (intent, receipt number, language)"
    )
    understand.add_argument("--lang", default=None, help="the conversation's language (a hint)")
    understand.add_argument("text", nargs="+", help="the message (several words are joined)")

    add_admin_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit status."""
    args = _parser().parse_args(argv)
    if args.command == "understand":  # no database, settings or logging: text in, JSON out
        return _understand(" ".join(args.text), args.lang)
    quiet = args.command == "chat"  # the terminal is the conversation: keep logs out of it
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The httpx logger prints request URLs, and Telegram's contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Even with --verbose: the SQL drivers log statements with their parameters (emails,
    # receipt numbers, hashes), and python-telegram-bot every update and message it handles.
    for name in SILENCED_AT_DEBUG:
        logging.getLogger(name).setLevel(logging.INFO if name == "telegram" else logging.WARNING)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"casebot: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command in {"serve", "chat"}:
        # Every language is read before anyone is answered: a missing catalog is this one
        # line at start-up, not an English reply to someone who chose Spanish.
        try:
            check_catalogs()
        except CatalogError as exc:
            print(f"casebot: {exc}", file=sys.stderr)
            return 2
    app = build_app(settings)
    try:
        if args.command == "serve":
            return _serve(app, args.host, args.port)
        return asyncio.run(_run_async(app, args))
    except KeyboardInterrupt:
        return 130


async def _run_async(app: App, args: argparse.Namespace) -> int:
    try:
        if args.command == "chat":
            from bot.channels.console import run_console

            await app.prepare_database(demo_if_empty=app.settings.uses_default_database)
            await run_console(app.build_engine(), locale=args.lang)
            return 0
        if args.command == "demo":
            from core.demo import load_demo

            await app.prepare_database(demo_if_empty=False)
            report = await load_demo(app.uow_factory)
            print(f"demo data loaded: {report}")
            return 0
        await app.prepare_database(demo_if_empty=app.settings.uses_default_database)
        return await run_admin(app, args)
    finally:
        await app.close()


def _understand(text: str, lang: str | None) -> int:
    from bot.understanding import understand
    from bot.wording.i18n import LOCALES, normalize_locale

    hint = normalize_locale(lang)
    if lang is not None and hint is None:
        print(
            f"casebot: --lang {lang!r} is not a language casebot speaks "
            f"(one of {', '.join(LOCALES)})",
            file=sys.stderr,
        )
        return 2
    understood = understand(text, hint)
    print(
        json.dumps(
            {
                "intent": understood.intent,
                "receipt_number": understood.receipt_number,
                "language": understood.language,
            }
        )
    )
    return 0


def settle_start_up() -> None:
    """Collect start-up's garbage, then keep what is left out of later collections.

    What start-up made (the modules, the schema, the translations, the free-text model) lives
    as long as the process; a full collection would walk all of it, and one did pause the
    server for 74 ms under load (``bench_web``). Frozen (``gc.freeze``), it is left out; what
    requests make is collected as before.
    """
    gc.collect()
    gc.freeze()


def _serve(app: App, host: str, port: int) -> int:
    from aiohttp import web

    from bot.channels.web.server import (
        PathOnlyAccessLogger,
        RequestTimeouts,
        create_web_app,
        runner_options,
    )

    warming: list[asyncio.Future[None]] = []

    async def _startup(_web_app: web.Application) -> None:
        await app.prepare_database(demo_if_empty=app.settings.uses_default_database)
        logger.info("casebot is serving on http://%s:%d/", host, port)
        # The free-text model (about 0.1 s to build) in a thread, while the server listens.
        from bot.understanding import load_model

        warming.append(asyncio.get_running_loop().run_in_executor(None, load_model))
        warming[0].add_done_callback(lambda _loaded: settle_start_up())

    async def _cleanup(_web_app: web.Application) -> None:
        await app.close()

    web_app = create_web_app(app)
    web_app.on_startup.append(_startup)
    web_app.on_cleanup.append(_cleanup)
    # Telegram too when TELEGRAM_BOT_TOKEN is set; it starts after the database above.
    from bot.channels.telegram.webhook import setup_telegram

    setup_telegram(web_app, app)
    # The outbox dispatcher of every channel, web pushes and metrics, after Telegram.
    from bot.channels.background import setup_notifications

    setup_notifications(web_app, app)
    # The poller of followed USCIS cases (CASEBOT_CASE_SOURCE uscis or both).
    from bot.uscis.wiring import poller_context

    web_app.cleanup_ctx.append(poller_context(app.uow_factory, app.uscis, app.settings.case_source))
    web.run_app(
        web_app,
        host=host,
        port=port,
        print=lambda _msg: None,
        access_log_class=PathOnlyAccessLogger,
        **runner_options(RequestTimeouts()),
    )
    return 0
