"""A write that tells whether the database takes writes: readiness asks it while the database's
:class:`core.outage.WriteHealth` says writes fail, since a read (all readiness otherwise does)
succeeds on a full disk."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from core import ratelimit
from core.uow import UnitOfWorkFactory

__all__ = ["PROBE_KEY", "probe_write"]

PROBE_KEY: Final = "casebot:write-probe"


async def probe_write(uow_factory: UnitOfWorkFactory) -> None:
    """Write and commit one row (a count in ``rate_limits``, purged with the other expired
    windows); a commit that wrote marks the database's writes healthy again.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database refused the write.
    """
    async with uow_factory() as uow:
        await ratelimit.increment(uow, PROBE_KEY, window=timedelta(minutes=1))
        await uow.commit()
