"""The HTTP server: the widget and its demo page, the web chat API, health and metrics."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.admin.api import add_admin_routes
from bot.app import App
from bot.channels.web.api import add_chat_routes, error_middleware, json_error
from bot.channels.web.chat import WebChatConfig, WebChatHub
from bot.channels.web.console_api import CONSOLE_CSP, Console, ConsoleConfig, add_console_routes
from bot.channels.web.console_desk import ConsoleHub, add_desk_routes
from bot.channels.web.console_stats import add_stats_routes
from bot.channels.web.openapi import openapi_document
from bot.channels.web.sms import add_sms_routes
from bot.channels.web.unsubscribe import add_unsubscribe_routes
from bot.channels.web.widget_labels import widget_script
from bot.engine import Engine
from bot.ops.health import READY_CHECKS
from bot.ops.log_escape import install_log_escaping, printable
from bot.ops.metrics import HandoffMetrics
from bot.settings import Settings
from bot.wording.i18n import CatalogError, check_catalogs
from core.schema import head_revision, stored_revision
from core.write_probe import probe_write

__all__ = [
    "APP_KEY",
    "STATIC_DIR",
    "AccessLogScrubber",
    "PathOnlyAccessLogger",
    "RequestTimeouts",
    "add_web_routes",
    "create_web_app",
    "new_web_app",
    "runner_options",
    "web_chat_config",
]

APP_KEY = web.AppKey("casebot_app", App)


STATIC_DIR: Final = Path(__file__).resolve().parents[2] / "static"
# The room for an 8 KiB JSON body and its envelope: the API refuses anything larger itself.
CLIENT_MAX_SIZE: Final = 16 * 1024


@dataclass(frozen=True, slots=True)
class RequestTimeouts:
    """How long a client may take to send a request, so a stalled one cannot hold a socket.

    Attributes:
        header_seconds: from the connection (or the end of the last answer) to the end of the
            request's headers; also how long an idle keep-alive connection stays open.
        body_seconds: to send the whole body once the headers are in; then 408 and closed.
    """

    header_seconds: float = 15.0
    body_seconds: float = 15.0

    def __post_init__(self) -> None:
        if not (self.header_seconds > 0 and self.body_seconds > 0):
            raise ValueError("request timeouts must be positive")


def runner_options(timeouts: RequestTimeouts) -> dict[str, Any]:
    """The request handler's options that enforce ``timeouts`` (for ``web.run_app`` or
    ``web.AppRunner``): aiohttp closes a connection still waiting for its request's headers
    when its keep-alive timer runs out."""
    return {"keepalive_timeout": timeouts.header_seconds}


class _BodyTimedOut(Exception):
    """Raised into a handler's read of a body that did not arrive in time."""


# A large upload (an operator's import) gets this much more time per byte announced.
_SECONDS_PER_BYTE: Final = 1 / (64 * 1024)


def _body_timeout(seconds: float) -> Any:
    @web.middleware
    async def read_body_in_time(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.body_exists:
            return await handler(request)
        # A deadline for the whole body, not a pause between reads: a client sending a byte
        # now and then would reset the latter forever. When it passes, any read of the body
        # raises, and the client gets a 408 and a closed connection.
        allowed = seconds + (request.content_length or 0) * _SECONDS_PER_BYTE
        content = request.content

        def expire() -> None:
            if not content.is_eof():
                content.set_exception(_BodyTimedOut())

        timer = asyncio.get_running_loop().call_later(allowed, expire)
        try:
            return await handler(request)
        except _BodyTimedOut:
            response = json_error(
                408, "request_timeout", "The request body did not arrive in time."
            )
            response.force_close()
            return response
        finally:
            timer.cancel()

    return read_body_in_time


# A query string (``?token=...``) and a whole receipt number (``/cases/WAC2212345678/``).
_QUERY: Final = re.compile(r"\?[^\s\"]*")
_RECEIPT: Final = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{3})[0-9]{7}([0-9]{3})(?![0-9])")


class AccessLogScrubber(logging.Filter):
    """Keeps secrets out of the access log, whatever access logger the server runs with (a
    test server, another runner): query strings dropped, receipt numbers masked like
    ``WAC*******678``. Installed on ``aiohttp.access`` by :func:`create_web_app`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        cleaned = _RECEIPT.sub(r"\1*******\2", _QUERY.sub("", message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _scrub_access_log() -> None:
    access = logging.getLogger("aiohttp.access")
    if not any(isinstance(f, AccessLogScrubber) for f in access.filters):
        access.addFilter(AccessLogScrubber())


HEALTH_PATHS: Final = frozenset({"/livez", "/readyz", "/healthz"})


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Logs method, path and status, never the query string: it carries session tokens; and
    no health check that passed."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        # A load balancer asks every few seconds; only a failed health check is news.
        if request.path in HEALTH_PATHS and response.status == 200:
            return
        self.logger.info(
            "%s %s %d %.1f ms",
            printable(request.method),
            printable(request.path),
            response.status,
            time * 1000,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


async def livez(_request: web.Request) -> web.Response:
    """Liveness: the process answers (nothing else is checked: a restart would not fix a
    database that is down). ``pid`` says which worker answered."""
    return web.json_response({"status": "ok", "pid": os.getpid()})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: the database answers at the schema this version ships and takes writes,
    every catalog is loaded, and Telegram is connected when it is configured; 503 naming what
    is not.

    Whether the database takes writes is what the units of work last met
    (``core.outage.WriteHealth``): while writes fail (a full disk answers reads), each call
    tries one write (``core.write_probe``), so readiness comes back as soon as the database
    does, with or without traffic."""
    app = request.app[APP_KEY]
    checks: dict[str, str] = {}
    body: dict[str, object] = {}
    try:
        # One plain query of the stored revision each time, no Alembic run (and nothing in the
        # log): load balancers poll this every few seconds, and a database swapped or emptied
        # under the server must not pass for ready.
        revision = await stored_revision(app.db)
        body["schema"] = revision
        if app.db.storage.failing:
            await probe_write(app.uow_factory)
        checks["database"] = "ok"
        checks["schema"] = "ok" if revision == head_revision() else "behind"
    except Exception:  # the database is down: say so, with a 503, not a crash
        checks["database"] = "down"
    try:
        check_catalogs()  # cached after the first read: a dictionary look-up per locale
        checks["catalogs"] = "ok"
    except CatalogError:
        checks["catalogs"] = "missing"
    for name, check in request.app.get(READY_CHECKS, {}).items():
        checks[name] = "ok" if check() else "down"
    ready = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", **body, "checks": checks}
    return web.json_response(body, status=200 if ready else 503)


# /healthz, from before the split, answers as /readyz.
healthz = readyz


def _static(
    name: str,
    content_type: str,
    transform: Callable[[str], str] | None = None,
    headers: dict[str, str] | None = None,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def serve(_request: web.Request) -> web.StreamResponse:
        path = STATIC_DIR / name
        if not path.is_file():  # the widget is not built into this tree (yet)
            return json_error(404, "not_found", f"{name} is not available.")
        body = path.read_bytes()
        if transform is not None:
            body = transform(body.decode("utf-8")).encode("utf-8")
        return web.Response(
            body=body,
            content_type=content_type,
            charset="utf-8",
            headers={"Cache-Control": "no-cache", **(headers or {})},
        )

    return serve


async def openapi(_request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def web_chat_config(settings: Settings) -> WebChatConfig:
    """The web chat's limits for these settings (allowed origins, trusted proxies)."""
    return WebChatConfig(origins=settings.web_origins, trusted_proxies=settings.trusted_proxies)


def new_web_app(timeouts: RequestTimeouts | None = None) -> web.Application:
    """An empty aiohttp application with casebot's middleware (JSON errors, CORS, the body
    timeout of ``timeouts``) and its access log scrubbed; :func:`add_web_routes` fills it."""
    _scrub_access_log()
    # After the scrubber, so the line it rewrites is escaped too.
    install_log_escaping("aiohttp.access", "aiohttp.server", "aiohttp.web")
    body_timeout = _body_timeout((timeouts or RequestTimeouts()).body_seconds)
    return web.Application(
        client_max_size=CLIENT_MAX_SIZE, middlewares=[error_middleware, body_timeout]
    )


def add_web_routes(web_app: web.Application, app: App, hub: WebChatHub) -> None:
    """Mount the web chat of ``hub`` (its API, WebSockets and /metrics; see
    ``add_chat_routes`` for how it stops), the admin API, the widget, its demo page, health
    and the OpenAPI document on ``web_app``."""
    web_app[APP_KEY] = app
    add_chat_routes(web_app, hub, app.settings.metrics_token)
    add_admin_routes(web_app, app.uow_factory, app.settings.admin_token)
    web_app.router.add_get("/", _static("index.html", "text/html"), allow_head=False)
    # The widget's labels come from the catalogs, written into the script as it is served.
    widget = _static("widget.js", "text/javascript", widget_script)
    web_app.router.add_get("/widget.js", widget, allow_head=False)
    console = Console(
        app.uow_factory,
        app.settings.agent_hours,
        ConsoleConfig(
            trusted_proxies=app.settings.trusted_proxies,
            password_checks_per_second=app.settings.password_checks_per_second,
        ),
    )
    add_console_routes(web_app, console)
    add_desk_routes(
        web_app, ConsoleHub(app.uow_factory, app.db, HandoffMetrics(hub.metrics.registry))
    )
    add_stats_routes(web_app)
    # The agents' page: its own files only, under a policy that allows nothing else.
    page_headers = {
        "Content-Security-Policy": CONSOLE_CSP,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
    }
    for path, name, content_type in (
        ("/console", "console.html", "text/html"),
        ("/console.js", "console.js", "text/javascript"),
        ("/console.css", "console.css", "text/css"),
    ):
        page = _static(name, content_type, headers=page_headers)
        web_app.router.add_get(path, page, allow_head=False)
    web_app.router.add_get("/livez", livez, allow_head=False)
    web_app.router.add_get("/readyz", readyz, allow_head=False)
    web_app.router.add_get("/healthz", healthz, allow_head=False)
    web_app.router.add_get("/api/openapi.json", openapi, allow_head=False)
    if app.settings.sms is not None:
        add_sms_routes(web_app, app, app.settings.sms)
    add_unsubscribe_routes(web_app, app)


def create_web_app(
    app: App,
    *,
    engine: Engine | None = None,
    chat_config: WebChatConfig | None = None,
    timeouts: RequestTimeouts | None = None,
) -> web.Application:
    """The web chat server alone around the composed casebot App (``casebot serve`` builds
    more: ``bot/serve.py``).

    Args:
        app: the composed application.
        engine: the dialog engine (default: ``app.build_engine()``).
        chat_config: the web chat limits (default: from the settings).
        timeouts: the body read timeout (default ``RequestTimeouts()``); the header timeout
            is the runner's, from :func:`runner_options`.
    """
    web_app = new_web_app(timeouts)
    config = chat_config or web_chat_config(app.settings)
    add_web_routes(web_app, app, WebChatHub(engine or app.build_engine(), app.uow_factory, config))
    return web_app
