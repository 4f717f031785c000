"""The unit of work: one transaction per operation, rolled back unless committed.

A unit of work opened while another is open in the same task (a service that manages its own
units of work, called from inside a chat turn) joins the outer one as a SAVEPOINT: its commit
releases the savepoint, its rollback undoes only its own part, and the outer unit of work decides
whether the whole turn is committed. That keeps a turn atomic, and on SQLite it avoids waiting on
the process's write queue that the outer unit of work already holds.

Two ways to run statements, in the same transaction:

- ``uow.session``, an SQLAlchemy ``AsyncSession`` (the ORM), made on first use;
- ``uow.fetch_all`` / ``fetch_one`` / ``execute`` with a :class:`core.statements.Prepared`
  statement: the few statements every turn runs. On SQLite they go straight to the connection
  (no session needed at all); pending ORM changes are flushed first either way.

On SQLite the units of work of a process take turns on the database's write lock, and so share
one connection (``Database.writer``). The transaction is begun on it with ``BEGIN IMMEDIATE``
by the first statement, prepared or ORM; a nested unit of work is the session's savepoint (so
that the session's objects follow its rollback). Nothing is visible to others before the
outermost commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Self

from sqlalchemy import text
from sqlalchemy.exc import PendingRollbackError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, AsyncSessionTransaction

from core.clock import Clock, SystemClock
from core.db import Database, call_when_not_busy
from core.outage import is_database_unavailable
from core.secret_box import SecretBox
from core.statements import Prepared, run_sqlite

__all__ = ["UnitOfWork", "UnitOfWorkFactory", "notify_listeners"]

_open_unit: ContextVar[UnitOfWork | None] = ContextVar("casebot_open_unit_of_work", default=None)
_NO_PARAMS: Mapping[str, Any] = {}


class UnitOfWork:
    """A transaction, the session that runs it, the clock its rules read, and the box that
    seals and opens the secrets it stores (``secret_box``, see ``core.secret_box``).

    Use it as ``async with uow_factory() as uow: ...; await uow.commit()``. Leaving the block
    without ``commit()`` (or through an exception) rolls everything back. On SQLite the outermost
    unit of work holds the process's write queue for its whole life, so keep slow work outside
    one where the operation allows it. Never share a unit of work between concurrent tasks.
    """

    def __init__(self, db: Database, clock: Clock, secret_box: SecretBox | None = None) -> None:
        self._db = db
        self.clock = clock
        self.secret_box = secret_box or _development_box()
        self._root: UnitOfWork | None = None  # the outermost open unit (self when outermost)
        self._holds_gate = False
        self._token: object | None = None
        self._holds_lock = False
        # The outermost unit's: the session (made on first use), and on SQLite the shared
        # connection and its sqlite3 connection.
        self._session: AsyncSession | None = None
        self._connection: AsyncConnection | None = None
        self._sqlite: sqlite3.Connection | None = None
        # A nested unit's savepoint, and whether it was released into the outer unit.
        self._savepoint: AsyncSessionTransaction | None = None
        self._released = False
        self._changes_at_start = 0  # SQLite: the connection's total_changes when it began
        self._after_commit: list[Callable[[], None]] = []  # the outermost unit's

    @property
    def session(self) -> AsyncSession:
        root = self._root
        if root is None:
            raise RuntimeError("the unit of work is not open: use 'async with'")
        if root._session is None:
            if root._sqlite is not None:  # SQLite: the shared connection
                root._session = self._db.sessionmaker(bind=root._connection)
            else:
                root._session = self._db.sessionmaker()
        return root._session

    @property
    def dialect(self) -> str:
        return self._db.dialect

    @property
    def db(self) -> Database:
        return self._db

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the outermost unit of work commits (never if it rolls back;
        a savepoint rolled back inside a unit that commits still calls it: a harmless extra
        call is the price of keeping this simple). It must not raise."""
        self._require_root()._after_commit.append(callback)

    @property
    def nested(self) -> bool:
        """True when this unit of work is a savepoint inside another one."""
        return self._root is not None and self._root is not self

    async def __aenter__(self) -> Self:
        outer = _open_unit.get()
        if outer is not None and outer._db is self._db and outer._root is not None:
            root = self._root = outer._root
            self._released = False
            self._savepoint = await self.session.begin_nested()
            if root._sqlite is not None:
                # The session emits its SAVEPOINT when it first needs the connection; prepared
                # statements go straight to the connection, so the savepoint must be there.
                await self.session.connection()
        else:
            if self._db.write_lock is not None:
                await self._db.write_lock.acquire()
                self._holds_lock = True
                try:
                    self._connection, self._sqlite = await self._db.writer()
                    self._changes_at_start = self._sqlite.total_changes
                except BaseException:
                    self._holds_lock = False
                    self._db.write_lock.release()
                    raise
            elif self._db.connection_gate is not None:
                await self._db.connection_gate.acquire()
                self._holds_gate = True
            self._root = self
        self._token = _open_unit.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and not self.nested and is_database_unavailable(exc):
            self._db.storage.failed(exc)
        try:
            if self.nested:
                await self._undo_savepoint()
            else:
                try:
                    await self._end(commit=False)
                except BaseException:
                    # Whatever state the failed rollback left the shared connection in, the
                    # next unit of work must not inherit it: it opens a fresh one.
                    await self._db.discard_writer()
                    raise
        finally:
            if self._token is not None:
                _open_unit.reset(self._token)  # type: ignore[arg-type]
                self._token = None
            self._root = None
            self._after_commit = []
            self._savepoint = None
            self._session = None
            self._connection = self._sqlite = None
            if self._holds_lock and self._db.write_lock is not None:
                self._holds_lock = False
                self._db.write_lock.release()
            if self._holds_gate and self._db.connection_gate is not None:
                self._db.connection_gate.release()
                self._holds_gate = False

    async def commit(self) -> None:
        """Commit (or, nested, release the savepoint into the outer unit of work)."""
        if self.nested:
            if self._savepoint is not None and not self._released:
                await self._savepoint.commit()
                self._released = True
            return
        try:
            await self._end(commit=True)
        except Exception as error:
            if is_database_unavailable(error):
                self._db.storage.failed(error)
            raise
        # A commit that wrote proves the database takes writes again; on SQLite one that wrote
        # nothing proves nothing (it touches no file), hence the count of changed rows.
        raw = self._sqlite
        if raw is None or raw.total_changes != self._changes_at_start:
            self._db.storage.succeeded()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def rollback(self) -> None:
        if self.nested:
            await self._undo_savepoint()
        else:
            await self._end(commit=False, close=False)

    async def flush(self) -> None:
        """Send the session's pending changes to the database (nothing when no session)."""
        root = self._require_root()
        if root._session is not None:
            await root._session.flush()

    # --- prepared statements ----------------------------------------------------------------

    async def fetch_all(
        self, statement: Prepared, params: Mapping[str, Any] = _NO_PARAMS
    ) -> list[tuple[Any, ...]]:
        """Run a prepared statement in this transaction; its rows as tuples.

        Raises:
            sqlalchemy.exc.DBAPIError: the database refused it (``IntegrityError``...).
        """
        root = self._root
        if root is None:
            raise RuntimeError("the unit of work is not open: use 'async with'")
        session = root._session
        if session is not None:
            if not session.is_active:
                # A flush refused earlier undid the transaction: nothing may run in a new one
                # as if it were the same (the session itself says so for its statements).
                raise PendingRollbackError("the unit of work's transaction was rolled back")
            if session.new or session.dirty or session.deleted:
                await session.flush()  # as autoflush would before a query: it must see them
        raw = root._sqlite
        if raw is not None:
            if not raw.in_transaction:
                await root._begin()
            return run_sqlite(raw, statement.compiled(self._db.sql_dialect), params)
        # Asked each time, not kept: the session emits a nested unit's SAVEPOINT only when its
        # connection is asked for.
        result = await (await self.session.connection()).execute(statement.statement, params)
        return [tuple(row) for row in result] if result.returns_rows else []

    async def fetch_one(
        self, statement: Prepared, params: Mapping[str, Any] = _NO_PARAMS
    ) -> tuple[Any, ...] | None:
        """The first row of a prepared statement, or None."""
        rows = await self.fetch_all(statement, params)
        return rows[0] if rows else None

    async def execute(self, statement: Prepared, params: Mapping[str, Any] = _NO_PARAMS) -> None:
        """Run a prepared statement that returns nothing (or whose rows do not matter)."""
        await self.fetch_all(statement, params)

    # --- the transaction --------------------------------------------------------------------

    def _require_root(self) -> UnitOfWork:
        if self._root is None:
            raise RuntimeError("the unit of work is not open: use 'async with'")
        return self._root

    async def _begin(self) -> None:
        """SQLite, outermost unit: begin the transaction if it is not (write lock first)."""
        raw = self._sqlite
        if raw is not None and not raw.in_transaction:
            await call_when_not_busy(raw.execute, "BEGIN IMMEDIATE")

    async def _undo_savepoint(self) -> None:
        # Also when the session deactivated it (a flush refused inside): the rollback is what
        # gives the outer unit its transaction back.
        if self._savepoint is not None and not self._released:
            self._released = True
            await self._savepoint.rollback()

    async def _end(self, *, commit: bool, close: bool = True) -> None:
        """Outermost unit: commit or roll back, the session and then the connection. A failed
        commit leaves the transaction to the rollback of ``__aexit__``."""
        session, raw = self._session, self._sqlite
        if commit:
            if session is not None:
                await session.commit()  # flushes; commits the connection if it began on it
            if raw is not None and raw.in_transaction:
                raw.commit()
            return
        try:
            if session is not None:
                if close:
                    # close() rolls back whatever was not committed, like rollback(), but
                    # leaves the objects read in this unit of work usable (detached).
                    self._session = None
                    await session.close()
                else:
                    await session.rollback()
        finally:
            if raw is not None and raw.in_transaction:
                raw.rollback()
            # A COMMIT the database refused (a full disk) leaves SQLAlchemy's transaction
            # object on the shared connection, inactive but still there: every later unit of
            # work would fail to begin ("already initialized a Transaction").
            connection = self._connection
            sync = None if connection is None else connection.sync_connection
            if connection is not None and sync is not None and sync.get_transaction() is not None:
                await connection.rollback()


class UnitOfWorkFactory:
    """Makes units of work on one database with one clock and one secret box (the services'
    entry point); without a box, secrets are sealed under the development key."""

    def __init__(
        self, db: Database, clock: Clock | None = None, secret_box: SecretBox | None = None
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.secret_box = secret_box or _development_box()

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self.db, self.clock, self.secret_box)


_DEVELOPMENT_BOX: list[SecretBox] = []


def _development_box() -> SecretBox:
    """One shared box under the development key (made on first use: no work at import)."""
    if not _DEVELOPMENT_BOX:
        _DEVELOPMENT_BOX.append(SecretBox(None))
    return _DEVELOPMENT_BOX[0]


async def notify_listeners(uow: UnitOfWork, channel: str, payload: str) -> None:
    """PostgreSQL's ``pg_notify(channel, payload)`` in ``uow``: every connection listening on
    ``channel`` hears ``payload`` when, and only when, ``uow`` commits."""
    await uow.session.execute(
        text("SELECT pg_notify(:channel, :payload)"), {"channel": channel, "payload": payload}
    )
