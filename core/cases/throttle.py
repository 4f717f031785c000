"""The throttle on public case lookups, per requester (a chat, a web session)."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from core import ratelimit
from core.uow import UnitOfWork

__all__ = ["LOOKUPS_PER_HOUR", "LOOKUPS_PER_MINUTE", "throttle_lookup"]

# Enough for a person checking a few cases, too few to enumerate receipt numbers.
LOOKUPS_PER_MINUTE: Final = 10
LOOKUPS_PER_HOUR: Final = 60


async def throttle_lookup(uow: UnitOfWork, requester: str) -> None:
    """Count one lookup by ``requester`` (in the caller's unit of work).

    Raises:
        RateLimited: over :data:`LOOKUPS_PER_MINUTE` this minute or :data:`LOOKUPS_PER_HOUR`
            this hour.
    """
    await ratelimit.hit_all(
        uow,
        [
            (f"case_lookup:m:{requester}", LOOKUPS_PER_MINUTE, timedelta(minutes=1)),
            (f"case_lookup:h:{requester}", LOOKUPS_PER_HOUR, timedelta(hours=1)),
        ],
    )
