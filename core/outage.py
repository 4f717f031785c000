"""Telling "the database cannot be reached right now" from a bug.

When the database is down, restarting, unreachable over the network, or (SQLite) locked by
another process for longer than the busy timeout, every turn fails the same way and no fault of
the code is involved: the person is told the service is unavailable for a moment, the channel
answers so the message is tried again later (HTTP 503 with ``Retry-After``; Telegram redelivers
or the inbox keeps the update), and the pool reconnects by itself once the server is back
(``pool_pre_ping``). A bug (a wrong query, a broken invariant) must stay loud instead: logged
with its traceback and answered as an internal error.

What counts as unavailable, looked for along the exception's causes (SQLAlchemy wraps the
driver's error, which wraps the socket's)::

    OSError (ConnectionRefusedError, ConnectionResetError, socket.gaierror, ...)
    TimeoutError (asyncio and socket timeouts)
    sqlalchemy.exc.TimeoutError                 no pooled connection became free in time
    sqlalchemy.exc.DBAPIError with connection_invalidated
                                                SQLAlchemy saw the connection die under it
    asyncpg's InterfaceError "connection is closed" (its other InterfaceErrors are bugs)
    a PostgreSQL error of SQLSTATE class 08 (connection exception), 53 (insufficient
        resources: too many connections, disk full), 57P01-57P03 (admin or crash shutdown,
        cannot connect now: the server is starting or stopping)
    a sqlite3 error whose primary code is BUSY or LOCKED (another process holds the file longer
        than the busy timeout), CANTOPEN, IOERR, READONLY, FULL, PERM, NOMEM or PROTOCOL

Not unavailable: anything else, among them sqlite3's ``no such table`` (also an
``OperationalError``), integrity errors, and every exception of the code itself.

A database can answer reads and still refuse writes (a full disk: SQLite reads its file, and
fails at the first page it must write). Each :class:`core.db.Database` therefore keeps a
:class:`WriteHealth`: a unit of work that meets an outage marks it failing, and the next commit
that wrote marks it healthy again. Readiness reports the database down while it is failing, and
tries a write of its own each time it is asked (``core.write_probe``), so an instance taken out
of rotation comes back by itself without waiting for traffic.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Final

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

__all__ = [
    "RETRY_AFTER_SECONDS",
    "DatabaseUnavailable",
    "DatabaseUnusable",
    "OutageWatch",
    "WriteHealth",
    "is_database_unavailable",
    "unusable_at_start",
]

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS: Final = 5
"""What ``Retry-After`` tells a client to wait before trying again during an outage."""

_SQLITE_OUTAGE: Final = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_PERM,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_PROTOCOL,
    }
)
_SQLITE_DAMAGED: Final = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_PG_OUTAGE_STATES: Final = ("57P01", "57P02", "57P03")
_PG_OUTAGE_CLASSES: Final = ("08", "53")
_DEPTH: Final = 10  # causes looked at, at most (a chain is short; this only bounds a cycle)


class DatabaseUnavailable(Exception):
    """The database could not be reached; raised where a caller must tell an outage apart
    (the original error is its ``__cause__``)."""


class DatabaseUnusable(Exception):
    """The database cannot be used at start-up (out of reach, or a damaged file); the message
    is one line for the operator: what is wrong and what to do."""


def unusable_at_start(error: BaseException, url: str) -> DatabaseUnusable | None:
    """What to tell the operator when opening or migrating the database at ``url`` failed with
    ``error``; None when ``error`` is neither an outage nor a damaged file (a bug: let it be
    loud). The URL's password is never part of the message."""
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    where = parsed.database or ":memory:"
    if not sqlite:
        where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
    damaged = _sqlite_code_along(error, _SQLITE_DAMAGED)
    if sqlite and damaged is not None:
        return DatabaseUnusable(
            f"the database file {where} is damaged or is not a SQLite database ({damaged}): "
            "restore the latest backup with `casebot admin restore FILE`, or "
            "move the file away to start with an empty database"
        )
    if not is_database_unavailable(error):
        return None
    reason = _describe(error)
    if sqlite:
        return DatabaseUnusable(
            f"cannot open the database file {where} ({reason}): check that its folder exists, "
            "is writable by casebot and has free space, or correct CASEBOT_DATABASE_URL"
        )
    return DatabaseUnusable(
        f"cannot reach the database at {where} ({reason}): start the database server or "
        "correct CASEBOT_DATABASE_URL, then try again"
    )


def _sqlite_code_along(error: BaseException, codes: frozenset[int]) -> str | None:
    """The name of the first SQLite error code among ``codes`` along ``error``'s causes."""
    current: BaseException | None = error
    for _ in range(_DEPTH):
        if current is None:
            return None
        code = getattr(current, "sqlite_errorcode", None)
        if isinstance(current, sqlite3.Error) and isinstance(code, int) and code & 0xFF in codes:
            return str(getattr(current, "sqlite_errorname", code))
        current = current.__cause__ or current.__context__
    return None


class WriteHealth:
    """Whether the database's last write failed for an outage, logged once when it begins and
    once when it ends (each failed statement is not news)."""

    def __init__(self) -> None:
        self.failing_since: float | None = None  # time.monotonic() of the first failure
        self.reason: str | None = None  # the error's type, never its text (it may hold data)

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def failed(self, error: BaseException) -> None:
        """A unit of work met an outage (see :func:`is_database_unavailable`)."""
        if self.failing_since is None:
            self.failing_since = time.monotonic()
            self.reason = _describe(error)
            logger.warning("the database refuses work (%s): 503 until it recovers", self.reason)

    def succeeded(self) -> None:
        """A commit that wrote went through."""
        if self.failing_since is not None:
            lasted = time.monotonic() - self.failing_since
            logger.warning("the database takes writes again after %.1f s", lasted)
            self.failing_since = self.reason = None


class OutageWatch:
    """For a loop that meets the database on every pass (a dispatcher): an outage is logged
    when it begins and when it ends, on the loop's own logger, not as an error each pass."""

    def __init__(self, log: logging.Logger, what: str) -> None:
        self.log, self.what = log, what
        self.down = False

    def failed(self, error: BaseException) -> bool:
        """Note a failed pass; False when ``error`` is no outage (the loop reports it itself)."""
        if not is_database_unavailable(error):
            return False
        if not self.down:
            self.down = True
            self.log.warning("%s: the database is unavailable; retrying", self.what)
        return True

    def passed(self) -> None:
        """Note a pass that went through."""
        if self.down:
            self.down = False
            self.log.warning("%s: the database is available again", self.what)


def _describe(error: BaseException) -> str:
    """The name of the innermost error that made ``error`` an outage (``sqlite3.OperationalError
    SQLITE_FULL``, ``ConnectionRefusedError``), for a log line."""
    current: BaseException | None = error
    found = error
    for _ in range(_DEPTH):
        if current is None:
            break
        if _is_outage(current):
            found = current
        current = current.__cause__ or current.__context__
    code = getattr(found, "sqlite_errorname", None)
    return f"{type(found).__name__} {code}" if isinstance(code, str) else type(found).__name__


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or one of its causes) means the database is unreachable for now.

    See the module docstring for what counts.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    for _ in range(_DEPTH):
        if current is None or id(current) in seen:
            return False
        seen.add(id(current))
        if _is_outage(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_outage(error: BaseException) -> bool:
    if isinstance(error, DatabaseUnavailable | OSError | TimeoutError | sa_exc.TimeoutError):
        return True
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int) and isinstance(error, sqlite3.Error):
        return code & 0xFF in _SQLITE_OUTAGE
    state = getattr(error, "sqlstate", None)
    if isinstance(state, str) and type(error).__module__.startswith("asyncpg"):
        return state in _PG_OUTAGE_STATES or state[:2] in _PG_OUTAGE_CLASSES
    # asyncpg's client-side error about a closed connection carries no SQLSTATE; its other
    # InterfaceErrors ("another operation is in progress") are bugs.
    return (
        type(error).__module__.startswith("asyncpg")
        and type(error).__name__ == "InterfaceError"
        and "closed" in str(error)
    )
