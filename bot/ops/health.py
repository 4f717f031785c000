"""Readiness checks that parts of the server register, for ``/readyz`` to ask.

A channel that can be down while the process runs (Telegram) adds a named check when it is set
up; ``/readyz`` (``bot.channels.web.server``) answers 503 while any check says False. The
web server needs no import of the channel, nor the channel of the web server.
"""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

__all__ = ["READY_CHECKS", "add_ready_check"]

READY_CHECKS = web.AppKey("casebot_ready_checks", dict[str, Callable[[], bool]])


def add_ready_check(web_app: web.Application, name: str, check: Callable[[], bool]) -> None:
    """Make ``/readyz`` report ``name`` as ``ok`` while ``check()`` is True, else ``down``."""
    if READY_CHECKS not in web_app:
        web_app[READY_CHECKS] = {}
    web_app[READY_CHECKS][name] = check
