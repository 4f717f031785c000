"""The supervisors' waiting-time figures in the console API (``GET /api/console/stats``): for
each language's line and for all of them, who waits now and the longest wait, who chats with
an agent, the wait before a claim over the last day (p50, p95) and the chats handled and
abandoned today (the day of the agents' time zone). The figures are the core's
(``core.handoff.figures``); this module only checks the role and writes JSON.

Only a supervisor may read them: an agent gets a JSON 403 (``supervisors_only``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.channels.web.api import ApiError
from bot.channels.web.console_api import CONSOLE_KEY, _console, _signed_in
from core.handoff.figures import LineFigures, wait_figures
from core.staff import StaffRole
from core.staff.models import STAFF_LANGUAGES

__all__ = ["add_stats_routes"]


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _line_json(figures: LineFigures) -> dict[str, Any]:
    return {
        "waiting": figures.waiting,
        "longest_wait_seconds": _seconds(figures.longest_wait),
        "with_agent": figures.with_agent,
        "claims": figures.claims,
        "wait_p50_seconds": _seconds(figures.wait_p50),
        "wait_p95_seconds": _seconds(figures.wait_p95),
        "handled_today": figures.handled_today,
        "abandoned_today": figures.abandoned_today,
    }


async def get_stats(request: web.Request) -> web.Response:
    console = _console(request)
    async with console.uow_factory() as uow:
        staff = await _signed_in(request, uow)
        if staff.role != StaffRole.SUPERVISOR:
            await uow.commit()  # the refused request counts too
            raise ApiError(
                403, "supervisors_only", "Only supervisors see the waiting-time figures."
            )
        figures = await wait_figures(uow, STAFF_LANGUAGES, zone=console.hours.zone)
        await uow.commit()
    return web.json_response(
        {
            "time_zone": console.hours.zone,
            "day_start": figures.day_start.isoformat(),
            "window_seconds": _seconds(figures.window),
            "languages": [
                {"language": language, **_line_json(line)}
                for language, line in figures.languages.items()
            ],
            "all": _line_json(figures.all),
        },
        headers={"Cache-Control": "no-store"},
    )


def add_stats_routes(app: web.Application) -> None:
    """Mount ``GET /api/console/stats`` (after ``add_console_routes``)."""
    assert CONSOLE_KEY in app
    app.router.add_get("/api/console/stats", get_stats, allow_head=False)
