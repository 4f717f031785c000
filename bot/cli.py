"""The ``casebot`` command line.

casebot serve [--host H] [--port P]    the HTTP server (web chat, API, widget)
casebot demo                           (re)load the demo data, idempotently
casebot understand [--lang L] TEXT     what a message asks for, as one JSON object
casebot admin migrate                  bring the database to the latest schema
casebot admin set-status RECEIPT STATUS
casebot admin import-cases FILE.csv
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.app import App, build_app
from bot.settings import DEFAULT_HOST, DEFAULT_PORT, ConfigError, Settings
from core.errors import CaseNotFound, InvalidReceiptNumber, UnknownStatus

__all__ = ["main"]

logger = logging.getLogger("casebot")


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

    admin = commands.add_parser("admin", help="operator commands")
    actions = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("migrate", help="bring the database to the latest schema")
    set_status = actions.add_parser("set-status", help="set a case's status (title or code)")
    set_status.add_argument("receipt_number")
    set_status.add_argument("status")
    import_cases = actions.add_parser("import-cases", help="import cases from a CSV file")
    import_cases.add_argument("file", type=Path)
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
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"casebot: configuration error: {exc}", file=sys.stderr)
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
            from bot.handlers.console import run_console

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
        if args.action == "migrate":
            print("database is at the latest schema")
            return 0
        if args.action == "set-status":
            return await _set_status(app, args.receipt_number, args.status)
        if args.action == "import-cases":
            return await _import_cases(app, args.file)
        raise AssertionError(f"unhandled command {args}")
    finally:
        await app.close()


async def _set_status(app: App, receipt: str, status: str) -> int:
    from core.cases.service import update_status

    try:
        async with app.uow_factory() as uow:
            changed = await update_status(uow, receipt, status)
            await uow.commit()
    except InvalidReceiptNumber as exc:
        print(f"casebot: {receipt!r} is not a receipt number ({exc.reason})", file=sys.stderr)
        return 1
    except UnknownStatus:
        print(f"casebot: no status is called {status!r}", file=sys.stderr)
        return 1
    except CaseNotFound:
        print(f"casebot: no case {receipt!r}", file=sys.stderr)
        return 1
    print("status updated" if changed else "the case has that status already")
    return 0


async def _import_cases(app: App, path: Path) -> int:
    from core.importer import ImportFailed, import_cases_file

    try:
        result = await import_cases_file(app.uow_factory, path)
    except ImportFailed as exc:
        for problem in exc.problems:
            print(f"{path}:{problem.line}: {problem.message}", file=sys.stderr)
        print(f"casebot: nothing imported ({len(exc.problems)} bad row(s))", file=sys.stderr)
        return 1
    print(
        f"imported {result.created} new, {result.updated} updated, "
        f"{result.unchanged} unchanged case(s)"
    )
    return 0


def _understand(text: str, lang: str | None) -> int:
    from bot.i18n import LOCALES, normalize_locale
    from bot.understanding import understand

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


def _serve(app: App, host: str, port: int) -> int:
    from aiohttp import web

    from bot.handlers.web import PathOnlyAccessLogger, create_web_app

    async def _startup(_web_app: web.Application) -> None:
        await app.prepare_database(demo_if_empty=app.settings.uses_default_database)
        logger.info("casebot is serving on http://%s:%d/", host, port)

    async def _cleanup(_web_app: web.Application) -> None:
        await app.close()

    web_app = create_web_app(app)
    web_app.on_startup.append(_startup)
    web_app.on_cleanup.append(_cleanup)
    # Telegram too when TELEGRAM_BOT_TOKEN is set; it starts after the database above.
    from bot.handlers.telegram_webhook import setup_telegram

    setup_telegram(web_app, app)
    web.run_app(
        web_app,
        host=host,
        port=port,
        print=lambda _msg: None,
        access_log_class=PathOnlyAccessLogger,
    )
    return 0
