"""Slow work taken out of a transaction that can be undone and run again (a chat turn).

Some steps of a turn are slow and need no database: an Argon2id hash (tens of milliseconds of
CPU), a lookup at USCIS (an HTTP request, up to seconds). Done inside the turn's transaction
they would hold it all that time: on SQLite the process's single write queue, which every other
chat's turn waits on; on PostgreSQL a pooled connection. So a turn runs under
:meth:`Deferral.scope`: a step whose result is not known yet notes the work that would produce
it and raises :class:`WorkNeeded`; the caller undoes the turn, runs every noted piece of work
with :meth:`Deferral.compute`, outside any transaction, and runs the turn again, which then
finds the results. Each piece of work runs once per deferral, whatever the number of runs.

Keys hold what the work is about (a secret, a receipt number): keep a deferral no longer than
the turn it serves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["Deferral", "WorkNeeded", "active_deferral"]

Work = Callable[[], Awaitable[object]]


class WorkNeeded(Exception):
    """A result asked for in a :class:`Deferral` scope is not known yet: undo the work, run
    ``compute()`` outside any transaction, and do the work again."""


_deferral: ContextVar[Deferral | None] = ContextVar("casebot_deferral", default=None)


def active_deferral() -> Deferral | None:
    """The deferral whose scope this task runs in, or None (then do slow work at once)."""
    return _deferral.get()


class Deferral:
    """The slow results of one piece of work that runs again until they are all known."""

    def __init__(self) -> None:
        self._known: dict[Hashable, object] = {}
        self._pending: dict[Hashable, Work] = {}

    @contextmanager
    def scope(self) -> Iterator[None]:
        """Within it (this task and those it starts), :meth:`known_or_pending` answers from
        what is known, or notes what is not and raises :class:`WorkNeeded`."""
        token = _deferral.set(self)
        try:
            yield
        finally:
            _deferral.reset(token)

    @property
    def pending(self) -> bool:
        return bool(self._pending)

    def knows(self, key: Hashable) -> bool:
        return key in self._known

    def known_or_pending(self, key: Hashable, work: Work) -> object:
        """The result of the work named ``key`` if it ran; else note ``work`` to run.

        Raises:
            WorkNeeded: the result is not known yet.
        """
        if key in self._known:
            return self._known[key]
        self._pending.setdefault(key, work)
        raise WorkNeeded()

    async def compute(self) -> None:
        """Run every pending piece of work (outside the scope, so for real), concurrently.

        Raises:
            Exception: what a piece of work raised (the others' results are kept).
        """
        pending, self._pending = self._pending, {}
        token = _deferral.set(None)
        try:
            # A result may itself be an exception object (an error kept as a value): what a
            # piece of work raised is told apart by the flag.
            outcomes = await asyncio.gather(*(_outcome(work) for work in pending.values()))
        finally:
            _deferral.reset(token)
        failure: Exception | None = None
        for key, (ok, result) in zip(pending, outcomes, strict=True):
            if ok:
                self._known[key] = result
            elif failure is None and isinstance(result, Exception):
                failure = result
        if failure is not None:
            raise failure


async def _outcome(work: Work) -> tuple[bool, object]:
    try:
        return True, await work()
    except Exception as error:
        return False, error
