"""The ``casebot`` command line.

casebot serve [--host H] [--port P] [--workers N] [--demo]
                                               the HTTP server (web chat, API, widget); N
                                               processes on one port under a supervisor
casebot chat [--lang L] [--demo]               the assistant in this terminal
casebot demo                                   (re)load the demo data, idempotently
casebot understand [--lang L] TEXT             what a message asks for, as one JSON object
casebot admin ...                              operator commands (see bot/admin/cli.py)
casebot --version

The demo data (whose account's password is published) goes into an empty database only with
``--demo`` or ``casebot demo``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import logging
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from bot.admin.cli import add_admin_parser, run_admin
from bot.app import App, Prepared, build_app
from bot.ops.logs import configure_logging
from bot.settings import DEFAULT_HOST, DEFAULT_PORT, ConfigError, Settings
from bot.wording.i18n import CatalogError, check_catalogs
from core.outage import DatabaseUnusable

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
# Alembic tells which dialect and DDL mode it assumes each time it looks at a schema: noise on
# every command (core.schema logs what it changed instead). Shown with --verbose.
QUIET_UNLESS_VERBOSE: Final = ("alembic",)
DEMO_HELP: Final = (
    "load the demo data (its account's password is public) into a database with no account, "
    "case or office"
)


def _version() -> str:
    try:
        return importlib.metadata.version("casebot")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree not installed
        return "unknown (not installed)"


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casebot", description="casebot, the case assistant")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser.add_argument("--version", action="version", version=f"casebot {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the web chat server")
    serve.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    serve.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (SO_REUSEPORT), restarted if one dies",
    )
    serve.add_argument("--demo", action="store_true", help=DEMO_HELP)

    chat = commands.add_parser("chat", help="chat with the assistant in this terminal")
    chat.add_argument("--lang", default=None, help="language: en, es, zh, vi, tl, ko, ar, ...")
    chat.add_argument("--demo", action="store_true", help=DEMO_HELP)

    commands.add_parser("demo", help="(re)load the demo data, idempotently")

    understand = commands.add_parser(
        "understand",
        help="print what a message asks for (intent, receipt number, language, topic)",
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
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"casebot: configuration error: {exc}", file=sys.stderr)
        return 2
    quiet = args.command == "chat"  # the terminal is the conversation: keep logs out of it
    configure_logging(
        log_format=settings.log_format,
        level=logging.DEBUG
        if args.verbose
        else logging.WARNING
        if quiet
        else logging.getLevelName(settings.log_level or "INFO"),
    )
    # The httpx logger prints request URLs, and Telegram's contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Even with --verbose: the SQL drivers log statements with their parameters (emails,
    # receipt numbers, hashes), and python-telegram-bot every update and message it handles.
    for name in SILENCED_AT_DEBUG:
        logging.getLogger(name).setLevel(logging.INFO if name == "telegram" else logging.WARNING)
    for name in QUIET_UNLESS_VERBOSE:
        logging.getLogger(name).setLevel(logging.NOTSET if args.verbose else logging.WARNING)
    if args.command in {"serve", "chat"}:
        # Every language is read before anyone is answered: a missing catalog is this one
        # line at start-up, not an English reply to someone who chose Spanish.
        try:
            check_catalogs()
        except CatalogError as exc:
            print(f"casebot: {exc}", file=sys.stderr)
            return 2
    if args.command == "serve" and args.workers != 1:
        return _supervise(settings, args.workers, argv)
    sockets: list[socket.socket] = []
    if args.command == "serve":  # before anything starts: a port in use is one line, not a trace
        from bot.ops.listen import CannotListen, listen
        from bot.ops.supervisor import worker_number

        try:
            # Under a supervisor (serve --workers N) every worker binds the same port.
            sockets = listen(args.host, args.port, reuse_port=worker_number() is not None)
        except CannotListen as exc:
            print(f"casebot: {exc}", file=sys.stderr)
            return 2
    app = build_app(settings)
    try:
        if args.command == "serve":
            return _serve(app, args.host, sockets, demo=args.demo)
        return asyncio.run(_run_async(app, args))
    except DatabaseUnusable as exc:  # what to do, in one line, not a traceback
        print(f"casebot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        for sock in sockets:
            sock.close()


async def _run_async(app: App, args: argparse.Namespace) -> int:
    try:
        if args.command == "chat":
            from bot.channels.console import run_console

            if await app.prepare_database(demo_if_empty=args.demo) is Prepared.EMPTY:
                print(
                    "casebot: the database holds no account, case or office; "
                    "`casebot chat --demo` loads the demo data",
                    file=sys.stderr,
                )
            await run_console(
                app.build_engine(),
                locale=args.lang,
                attachments_dir=app.settings.var_dir / "attachments",
            )
            return 0
        if args.command == "demo":
            from core.demo import load_demo

            await app.prepare_database(demo_if_empty=False)
            report = await load_demo(app.uow_factory)
            print(f"demo data loaded: {report}")
            return 0
        if args.action in ("backup", "restore"):  # the database as it is: no migration first
            return _backup_or_restore(app.settings.database_url, args.action, args.path)
        await app.prepare_database(demo_if_empty=False)
        return await run_admin(app, args)
    finally:
        await app.close()


def _backup_or_restore(database_url: str, action: str, path: Path) -> int:
    from core.backup import BackupError, backup, restore

    try:
        print(backup(database_url, path) if action == "backup" else restore(database_url, path))
    except BackupError as exc:
        print(f"casebot: {exc}", file=sys.stderr)
        return 1
    return 0


def _supervise(settings: Settings, workers: int, argv: Sequence[str] | None) -> int:
    """``serve --workers N``: the same command line, one worker each, under a supervisor."""
    from bot.ops.supervisor import Supervisor, check_workers

    try:
        check_workers(settings, workers)
    except ConfigError as exc:
        print(f"casebot: configuration error: {exc}", file=sys.stderr)
        return 2
    if settings.database_url.startswith("sqlite"):
        logger.warning(
            "%d workers on one SQLite file take turns on its single writer; PostgreSQL is the "
            "way to use several cores (README: Deploying)",
            workers,
        )
    # The last --workers on a command line wins: each worker is this command, with one.
    given = list(sys.argv[1:] if argv is None else argv)
    command = [sys.executable, "-m", "bot", *given, "--workers", "1"]
    return Supervisor(command, workers).run()


def _understand(text: str, lang: str | None) -> int:
    from bot.knowledge.matching import read
    from bot.wording.i18n import LOCALES, normalize_locale

    hint = normalize_locale(lang)
    if lang is not None and hint is None:
        print(
            f"casebot: --lang {lang!r} is not a language casebot speaks "
            f"(one of {', '.join(LOCALES)})",
            file=sys.stderr,
        )
        return 2
    reading = read(text, hint)
    understood = reading.understanding
    print(
        json.dumps(
            {
                "intent": understood.intent,
                "receipt_number": understood.receipt_number,
                "language": understood.language,
                "topic": reading.topic,
            }
        )
    )
    return 0


def _serve(app: App, host: str, sockets: list[socket.socket], *, demo: bool) -> int:
    from aiohttp import web

    from bot.channels.web.server import PathOnlyAccessLogger, RequestTimeouts, runner_options
    from bot.serve import build_server

    port = sockets[0].getsockname()[1]  # the one asked for, or the one given for --port 0
    shown = f"[{host}]" if ":" in host else host
    web.run_app(
        build_server(app, demo=demo, url=f"http://{shown}:{port}/"),
        sock=sockets,
        print=lambda _msg: None,
        access_log_class=PathOnlyAccessLogger,
        **runner_options(RequestTimeouts()),
    )
    return 0
