"""The database: engine, the declarative base, and the SQLite settings that make it safe.

SQLite is the embedded default. Every transaction on it starts with ``BEGIN IMMEDIATE``, so a
transaction takes the write lock when it starts, not half-way through when it first writes; two
transactions can then never deadlock on a lock upgrade, which is what makes "database is locked"
escape under concurrent turns. Inside one process the transactions also queue on an asyncio lock,
so they wait in order instead of spinning on SQLite's busy handler; the busy timeout remains for
other processes on the same file.

SQLite runs in the event loop's own thread (:class:`_InlineSQLiteConnection`): a statement on a
local file takes microseconds, far less than handing it to aiosqlite's worker thread and back
(measured: a turn took twice as long that way). The one thing that could block the loop, waiting
for another process's write lock, is not left to SQLite's busy handler: the connection's busy
timeout is zero and a "database is locked" answer is retried here with ``asyncio.sleep`` (the
statement did not run), for up to the same 10 seconds.

Units of work on SQLite take turns on :attr:`Database.write_lock`, so they share one connection
(:meth:`Database.writer`) instead of taking one from the pool each time: a unit of work then
costs a ``BEGIN IMMEDIATE`` and a ``COMMIT`` on it, not a pool checkout, a reset and an
SQLAlchemy transaction (see ``core.uow``).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Final

import aiosqlite
from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from core.outage import WriteHealth

__all__ = ["DEFAULT_DATABASE_URL", "Base", "Database", "UTCDateTime", "str_enum"]

logger = logging.getLogger(__name__)

DEFAULT_DATABASE_URL: Final = "sqlite+aiosqlite:///var/casebot.sqlite3"
SQLITE_BUSY_TIMEOUT_MS: Final = 10_000
# A network that drops packets without a word would otherwise hold a PostgreSQL statement (and
# its chat's turn) until TCP gives up, hours later: past these, the turn is an outage
# (core/outage.py) and the person is told to try again. No statement of casebot takes seconds.
PG_CONNECT_TIMEOUT_SECONDS: Final = 10
PG_COMMAND_TIMEOUT_SECONDS: Final = 30

# Stable constraint names, so Alembic migrations can name what they alter on every backend.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    SQLite keeps no time zone, so values are stored as naive UTC and handed back aware; a naive
    value given to it is a bug and is refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # On SQLite the whole conversion in one step, to and from the text SQLAlchemy's SQLite
    # DATETIME stores ("2026-03-02 15:00:00.000000"): every turn converts a dozen of them, and
    # the two-stage conversion (this type's, then the dialect's) was a tenth of a statement.

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            # In UTC its text ends with "+00:00": cut, not ``replace(tzinfo=None)`` first,
            # which parses eight keywords and cost a third of the conversion.
            return value.astimezone(UTC).isoformat(" ", "microseconds")[:-6]

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                # The stored text is naive UTC: read with its zone, in one step (five times
                # quicker than reading it naive, then ``replace(tzinfo=UTC)``).
                moment = datetime.fromisoformat(value + "+00:00")
            except ValueError:  # a text with its own offset
                moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:  # a bare day: the zone was not read
                return moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)  # itself, when in UTC already

        return process


def str_enum(enum_class: type[enum.StrEnum]) -> Enum:
    """A column type that stores a StrEnum by its value, as a plain string with no DB enum type."""
    return Enum(
        enum_class,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class Database:
    """One engine, its session factory, and what a backend needs to be used safely.

    Args:
        url: a SQLAlchemy URL; ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://...``.
            A plain ``postgresql://`` or ``sqlite://`` is given its async driver.
        echo: log every SQL statement (never in production: parameters may be personal data).
        pool_size: PostgreSQL connections kept open (``CASEBOT_DB_POOL_SIZE``).
        max_overflow: PostgreSQL connections opened beyond them at busy times
            (``CASEBOT_DB_MAX_OVERFLOW``).

    Raises:
        ValueError: the URL names a backend other than SQLite or PostgreSQL.
    """

    def __init__(
        self,
        url: str = DEFAULT_DATABASE_URL,
        *,
        echo: bool = False,
        pool_size: int = 10,
        max_overflow: int = 10,
    ) -> None:
        self.url = normalize_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        engine_args: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            _ensure_sqlite_folder(self.url)
            engine_args["async_creator"] = partial(_connect_inline, self.url)
        else:
            engine_args.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
                connect_args={
                    "timeout": PG_CONNECT_TIMEOUT_SECONDS,
                    "command_timeout": PG_COMMAND_TIMEOUT_SECONDS,
                },
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **engine_args)
        self.sql_dialect: Dialect = self.engine.dialect
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self.sessionmaker: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=True
        )
        # In-process queue for SQLite's single writer (see the module docstring).
        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        self._writer: AsyncConnection | None = None
        self._writer_sqlite: sqlite3.Connection | None = None
        self._listeners: list[Callable[[str], None]] = []
        # Whether writes fail for an outage now (set and cleared by the units of work).
        self.storage = WriteHealth()
        # PostgreSQL: units of work wait for a connection in arrival order. The pool's own
        # queue is not fair (a connection coming back goes to whoever asks first, not to the
        # longest waiter), which left some turns waiting seconds under load.
        self.connection_gate: asyncio.Semaphore | None = (
            None if self.is_sqlite else asyncio.Semaphore(pool_size + max_overflow)
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def writer(self) -> tuple[AsyncConnection, sqlite3.Connection]:
        """SQLite: the connection every unit of work of this process runs on, and its
        ``sqlite3`` connection. Call it only while holding :attr:`write_lock`.

        Opened on first use, and again when SQLAlchemy found it broken (invalidated).

        Raises:
            RuntimeError: the database is not SQLite.
        """
        connection, raw = self._writer, self._writer_sqlite
        if (
            connection is not None
            and raw is not None
            and not connection.invalidated
            and not connection.closed
        ):
            return connection, raw
        if not self.is_sqlite:
            raise RuntimeError("only SQLite units of work share one connection")
        if connection is not None:
            self._writer = self._writer_sqlite = None
            if not connection.closed:
                await connection.close()
        connection = await self.engine.connect()
        driver = (await connection.get_raw_connection()).driver_connection
        assert isinstance(driver, _InlineSQLiteConnection)
        raw = driver.sqlite
        for listener in self._listeners:
            raw.set_trace_callback(listener)
        self._writer, self._writer_sqlite = connection, raw
        return connection, raw

    async def discard_writer(self) -> None:
        """SQLite: drop the units of work's shared connection, whatever state an error left it
        in; the next unit of work opens a fresh one (:meth:`writer`)."""
        connection, self._writer, self._writer_sqlite = self._writer, None, None
        if connection is not None:
            try:
                await connection.invalidate()
            except Exception:  # already unusable: it is dropped all the same
                logger.debug("closing a broken SQLite connection failed", exc_info=True)

    def on_statement(self, listener: Callable[[str], None]) -> None:
        """Call ``listener`` with the SQL of every statement the units of work run from now on
        (BEGIN and COMMIT included on SQLite; SQLAlchemy's statements only on PostgreSQL), for
        benchmarks and tests that count them. One listener at a time on SQLite."""
        self._listeners = [listener]
        if self._writer_sqlite is not None:
            self._writer_sqlite.set_trace_callback(listener)
        if not self.is_sqlite:

            @event.listens_for(self.engine.sync_engine, "before_cursor_execute")
            def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
                listener(statement)

    async def dispose(self) -> None:
        """Close every connection, the units of work's one included."""
        connection, self._writer, self._writer_sqlite = self._writer, None, None
        if connection is not None:
            await connection.close()
        await self.engine.dispose()

    def driver_dsn(self) -> str:
        """The URL as the plain driver reads it (``postgresql://...``, password included), for
        a connection of its own outside the pool (a LISTEN connection)."""
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)


def normalize_url(url: str) -> str:
    """Give a plain database URL its async driver.

    Raises:
        ValueError: the backend is neither SQLite nor PostgreSQL.
    """
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ValueError(
        f"CASEBOT_DATABASE_URL must be a sqlite:// or postgresql:// URL, not {url.split(':')[0]!r}"
    )


def _ensure_sqlite_folder(url: str) -> None:
    path = url.split(":///", 1)[1] if ":///" in url else ""
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)


async def call_when_not_busy(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on a SQLite connection, tried again after a short asynchronous
    sleep while another process holds the write lock ("database is locked": nothing was done),
    for up to :data:`SQLITE_BUSY_TIMEOUT_MS`; waiting never blocks the event loop.

    Raises:
        sqlite3.OperationalError: still busy at the deadline, or any other error of ``fn``.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    pause = 0.001
    while True:
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as error:
            busy = getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.05)


class _InlineSQLiteConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run at once in the calling (event loop) thread.

    aiosqlite's worker thread still exists (it opens the connection, and SQLAlchemy's adapter
    sets ``isolation_level`` through its queue), but statements do not travel to it. A call that
    meets another process's write lock is retried (:func:`call_when_not_busy`).
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return await call_when_not_busy(fn, *args, **kwargs)

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The ``sqlite3`` connection itself (statements on it run in the calling thread)."""
        if self._connection is None:
            raise ValueError("Connection closed")
        return self._connection


async def _connect_inline(url: str) -> aiosqlite.Connection:
    database = make_url(url).database or ":memory:"
    uri = database.startswith("file:")
    connector = partial(
        sqlite3.connect, database, uri=uri, timeout=0, check_same_thread=False, isolation_level=None
    )
    return await _InlineSQLiteConnection(connector, iter_chunk_size=64)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and ``BEGIN IMMEDIATE`` for every transaction."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=0")  # waiting is _InlineSQLiteConnection's, async
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A unit of work may have begun the transaction on the connection itself (core.uow),
        # before its session first needed the connection.
        if not conn.connection.driver_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
