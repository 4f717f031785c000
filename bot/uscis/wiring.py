"""Wiring of the case-status source: the USCIS client and its limits from the settings, and the
poller that keeps followed USCIS cases up to date (``casebot serve``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Final

from bot.settings import Settings
from bot.uscis.client import UscisClient
from core.cases.uscis import Budget, CircuitBreaker
from core.cases.uscis.service import CaseSourceMode, Uscis, poll_uscis
from core.clock import Clock
from core.db import Database
from core.uow import UnitOfWorkFactory

__all__ = ["POLL_EVERY_SECONDS", "build_uscis", "close_uscis", "poller_context", "polling_uscis"]

logger = logging.getLogger(__name__)

POLL_EVERY_SECONDS: Final = 300.0


def build_uscis(settings: Settings, db: Database, clock: Clock) -> Uscis | None:
    """The USCIS side for these settings, or None when the case source is ``local``."""
    if CaseSourceMode(settings.case_source) is CaseSourceMode.LOCAL:
        return None
    assert settings.uscis_api_url
    assert settings.uscis_client_id
    assert settings.uscis_client_secret
    client = UscisClient(
        settings.uscis_api_url, settings.uscis_client_id, settings.uscis_client_secret
    )
    return Uscis(
        source=client,
        db=db,
        budget=Budget(rate=settings.uscis_rate, daily=settings.uscis_daily_quota),
        breaker=CircuitBreaker(clock),
    )


async def close_uscis(uscis: Uscis | None) -> None:
    if uscis is None:
        return
    if isinstance(uscis.source, UscisClient):
        await uscis.source.close()
    await uscis.close()


@asynccontextmanager
async def polling_uscis(
    uow_factory: UnitOfWorkFactory,
    uscis: Uscis | None,
    mode: CaseSourceMode,
    *,
    every: float = POLL_EVERY_SECONDS,
) -> AsyncIterator[None]:
    """Run the poller in the background while the block runs (nothing for ``local``)."""
    if uscis is None or mode is CaseSourceMode.LOCAL:
        yield
        return

    async def loop() -> None:
        while True:
            # First wait: the server prepares the database as it starts.
            await asyncio.sleep(every)
            try:
                checked = await poll_uscis(uow_factory, uscis, mode=mode)
                if checked:
                    logger.info("USCIS poll: %d followed cases checked", checked)
            except Exception:  # the edge: keep polling after a bug or a database outage
                logger.exception("USCIS poll failed")

    task = asyncio.create_task(loop(), name="uscis-poller")
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def poller_context(
    uow_factory: UnitOfWorkFactory, uscis: Uscis | None, mode: str
) -> Callable[[object], AsyncIterator[None]]:
    """The poller as an aiohttp ``cleanup_ctx`` entry (started with the server, stopped
    before the database closes)."""

    async def uscis_poller(_app: object) -> AsyncIterator[None]:
        async with polling_uscis(uow_factory, uscis, CaseSourceMode(mode)):
            yield

    return uscis_poller
