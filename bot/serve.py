"""The composition root of ``casebot serve``: the aiohttp application with everything it runs.

``cli.py`` parses the command line, binds the sockets and runs what :func:`build_server`
builds. The world is built once: one dialog engine, observed by one set of metrics, serves the
web chat and Telegram, and the outbox dispatcher counts in the same metrics. What runs beside
the routes is a chain of aiohttp ``cleanup_ctx`` entries, each starting before its ``yield``
and stopping after it, appended in the order of what each needs:

1. ``database``: the schema brought up to date (the demo data with ``--demo``); closed last;
2. ``web_chat``: nothing to start; the turns still running end before the database closes;
3. ``telegram`` (``TELEGRAM_BOT_TOKEN``): polling or the webhook, and its inbox;
4. ``notifications``: the web chat's push listener, the outbox dispatcher, housekeeping;
5. ``uscis_poller`` (``CASEBOT_CASE_SOURCE`` ``uscis`` or ``both``).

aiohttp starts them in that order and stops them in reverse. Before any stops, when the server
shuts down (``on_shutdown``), the web chat tells its WebSockets to reconnect
(``bot.channels.web.api``): then the server stops listening, waits for the requests in hand,
and the chain unwinds.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from bot.app import App, Prepared
from bot.channels.background import setup_notifications
from bot.channels.telegram.webhook import setup_telegram
from bot.channels.web.chat import WebChatHub
from bot.channels.web.limits import WebMetrics
from bot.channels.web.server import add_web_routes, new_web_app, web_chat_config
from bot.dialogs.registry import all_dialogs
from bot.ops.metrics import CasebotMetrics
from bot.uscis.wiring import poller_context

__all__ = ["build_server", "settle_start_up"]

logger = logging.getLogger("casebot")


def settle_start_up() -> None:
    """Collect start-up's garbage, then keep what is left out of later collections.

    What start-up made (the modules, the schema, the translations, the free-text model) lives
    as long as the process; a full collection would walk all of it, and one did pause the
    server for 74 ms under load (``bench_web``). Frozen (``gc.freeze``), it is left out; what
    requests make is collected as before.
    """
    gc.collect()
    gc.freeze()


def build_server(app: App, *, demo: bool = False, url: str | None = None) -> web.Application:
    """The web application of ``casebot serve``: the web chat, its API and widget, the admin
    API, Telegram when it is configured, the outbox dispatcher, web pushes, housekeeping,
    metrics and the USCIS poller, built once and started and stopped with the server.

    Nothing runs and no I/O happens until the application starts.

    Args:
        app: the composed application (settings, database, services).
        demo: load the demo data into a database that holds no account, case or office.
        url: where the server listens, for the log line that says so.

    Raises:
        ValueError: the Telegram settings cannot make a bot (see ``TelegramChannel``).
    """
    dialogs = all_dialogs()
    web_metrics = WebMetrics()  # the registry /metrics serves
    metrics = CasebotMetrics(web_metrics.registry, dialogs)
    engine = app.build_engine(dialogs=dialogs, observer=metrics)
    hub = WebChatHub(engine, app.uow_factory, web_chat_config(app.settings), web_metrics)

    web_app = new_web_app()
    web_app.cleanup_ctx.append(_database(app, demo=demo, url=url))
    add_web_routes(web_app, app, hub)  # appends web_chat
    telegram = setup_telegram(web_app, app, engine, metrics)
    setup_notifications(web_app, app, metrics=metrics, telegram=telegram)
    web_app.cleanup_ctx.append(poller_context(app.uow_factory, app.uscis, app.settings.case_source))
    return web_app


def _database(
    app: App, *, demo: bool, url: str | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def database(_web_app: web.Application) -> AsyncIterator[None]:
        if await app.prepare_database(demo_if_empty=demo) is Prepared.EMPTY:
            logger.warning(
                "the database holds no account, case or office: load the demo data with "
                "`casebot demo` (or start with `casebot serve --demo`), or add offices with "
                "`casebot admin office add` and cases with `casebot admin import-cases`"
            )
        if url is not None:
            logger.info("casebot is serving on %s", url)
        _warm_model()
        yield
        await app.close()  # the USCIS client and the database's connections

    return database


def _warm_model() -> None:
    """Build the free-text model and the knowledge base's matcher (about 0.2 s) in a thread
    while the server listens, then settle start-up's objects (:func:`settle_start_up`)."""
    from bot.knowledge.matching import matcher
    from bot.understanding import load_model

    def load() -> None:
        load_model()
        matcher()

    warming = asyncio.get_running_loop().run_in_executor(None, load)
    warming.add_done_callback(lambda _loaded: settle_start_up())
