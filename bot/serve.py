"""The composition root of ``casebot serve``: the aiohttp application with everything it runs.

``cli.py`` parses the command line and binds the sockets; this module builds the rest.
"""

from __future__ import annotations

import asyncio
import gc
import logging

from aiohttp import web

from bot.app import App, Prepared
from bot.channels.background import setup_notifications
from bot.channels.telegram.webhook import setup_telegram
from bot.channels.web.server import create_web_app
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
    """The web application of ``casebot serve``, with Telegram, the outbox dispatcher, web
    pushes, housekeeping, metrics and the USCIS poller wired to start and stop with it.

    Args:
        app: the composed application (settings, database, services).
        demo: load the demo data into an empty database.
        url: where the server listens, for the log line that says so.
    """
    warming: list[asyncio.Future[None]] = []

    async def _startup(_web_app: web.Application) -> None:
        if await app.prepare_database(demo_if_empty=demo) is Prepared.EMPTY:
            logger.warning(
                "the database holds no account, case or office: load the demo data with "
                "`casebot demo` (or start with `casebot serve --demo`), or add offices with "
                "`casebot admin office add` and cases with `casebot admin import-cases`"
            )
        if url is not None:
            logger.info("casebot is serving on %s", url)
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
    setup_telegram(web_app, app)
    # The outbox dispatcher of every channel, web pushes and metrics, after Telegram.
    setup_notifications(web_app, app)
    # The poller of followed USCIS cases (CASEBOT_CASE_SOURCE uscis or both).
    web_app.cleanup_ctx.append(poller_context(app.uow_factory, app.uscis, app.settings.case_source))
    return web_app
