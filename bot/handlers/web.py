"""The HTTP server: health check and demo page (the web chat API joins it in its own issue)."""

from __future__ import annotations

from aiohttp import web

from bot.app import App
from core.schema import current_revision

__all__ = ["APP_KEY", "create_web_app"]

APP_KEY = web.AppKey("casebot_app", App)

_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>casebot</title></head>
<body><main><h1>casebot</h1>
<p>The assistant is running. Health: <a href="/healthz">/healthz</a>.</p></main></body></html>
"""


async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    try:
        revision = await current_revision(app.db)
    except Exception:  # the database is down: say so, with a 503, not a crash
        return web.json_response({"status": "unavailable", "database": "down"}, status=503)
    return web.json_response({"status": "ok", "schema": revision})


async def index(_request: web.Request) -> web.Response:
    return web.Response(text=_INDEX, content_type="text/html")


def create_web_app(app: App) -> web.Application:
    """Build the aiohttp application around the composed casebot App."""
    web_app = web.Application(client_max_size=64 * 1024)
    web_app[APP_KEY] = app
    web_app.router.add_get("/", index)
    web_app.router.add_get("/healthz", healthz)
    return web_app
