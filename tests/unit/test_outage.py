"""Telling "the database cannot be reached" from a bug (core/outage.py), on the exceptions the
drivers really raise (built here as SQLAlchemy wraps them)."""

from __future__ import annotations

import logging
import socket
import sqlite3

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import exc as sa_exc

from core.outage import (
    DatabaseUnavailable,
    OutageWatch,
    WriteHealth,
    is_database_unavailable,
    unusable_at_start,
)


def sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # what the sqlite3 module sets on errors it raises
    return error


def wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    """The error as SQLAlchemy raises it: its own class around the driver's, chained."""
    try:
        try:
            raise orig
        except BaseException as cause:
            raise sa_exc.OperationalError(
                "SELECT 1", {}, cause, connection_invalidated=invalidated
            ) from cause
    except sa_exc.DBAPIError as error:
        return error


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        ConnectionResetError(104, "Connection reset by peer"),
        socket.gaierror(-2, "Name or service not known"),
        TimeoutError(),
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        wrapped(sqlite_error("database is locked", sqlite3.SQLITE_BUSY)),
        wrapped(sqlite_error("unable to open database file", sqlite3.SQLITE_CANTOPEN)),
        wrapped(sqlite_error("disk I/O error", sqlite3.SQLITE_IOERR_SHORT_READ)),
        wrapped(sqlite_error("database or disk is full", sqlite3.SQLITE_FULL)),
        wrapped(asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed")),
        wrapped(asyncpg.exceptions.CannotConnectNowError("the database system is starting up")),
        wrapped(asyncpg.exceptions.AdminShutdownError("terminating connection")),
        wrapped(asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")),
        wrapped(asyncpg.exceptions.InterfaceError("connection is closed")),
        wrapped(ValueError("whatever the driver said"), invalidated=True),
        DatabaseUnavailable("update 12 left pending"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_outage_is_recognised_through_its_wrappers(error: BaseException) -> None:
    assert is_database_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        wrapped(sqlite_error("no such table: cases", sqlite3.SQLITE_ERROR)),
        wrapped(sqlite_error('near "SELEC": syntax error', sqlite3.SQLITE_ERROR)),
        wrapped(asyncpg.exceptions.UndefinedTableError('relation "cases" does not exist')),
        wrapped(asyncpg.exceptions.UniqueViolationError("duplicate key value")),
        wrapped(asyncpg.exceptions.InterfaceError("another operation is in progress")),
        sa_exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
        KeyError("stack"),
        ValueError("naive datetime given to a UTC column"),
        RuntimeError("the unit of work is not open"),
    ],
    ids=lambda error: f"{type(error).__name__}:{str(error)[:20]}",
)
def test_a_bug_is_not_taken_for_an_outage(error: BaseException) -> None:
    assert not is_database_unavailable(error)


def test_an_outage_met_while_handling_another_error_counts() -> None:
    # A rollback that meets the dead connection while an error is handled: the implicit
    # context says the database is gone.
    def roll_back_on_a_dead_connection() -> None:
        try:
            raise ConnectionResetError(104, "reset")
        except ConnectionResetError:
            raise RuntimeError("rollback failed")  # noqa: B904 (the implicit context is the point)

    with pytest.raises(RuntimeError) as raised:
        roll_back_on_a_dead_connection()
    assert is_database_unavailable(raised.value)


def test_a_cycle_of_causes_ends() -> None:
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first
    assert not is_database_unavailable(first)


def test_writes_failing_is_logged_once_and_so_is_the_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    health = WriteHealth()
    full = wrapped(sqlite_error("database or disk is full", sqlite3.SQLITE_FULL))
    for _ in range(5):
        health.failed(full)
    assert health.failing
    health.succeeded()
    health.succeeded()
    assert not health.failing
    assert len(caplog.records) == 2  # not one a failed statement
    assert "OperationalError" in caplog.records[0].getMessage()


def test_a_loop_logs_an_outage_when_it_begins_and_ends_and_leaves_bugs_to_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("tests.loop")
    watch = OutageWatch(log, "outbox web")
    full = wrapped(sqlite_error("database or disk is full", sqlite3.SQLITE_FULL))
    with caplog.at_level(logging.WARNING, logger="tests.loop"):
        watch.passed()  # no outage yet: nothing to say
        assert all(watch.failed(full) for _ in range(5))
        assert not watch.failed(ZeroDivisionError())  # a bug: the loop logs it itself
        watch.passed()
        watch.passed()
    said = [(record.name, record.getMessage()) for record in caplog.records]
    assert said == [
        ("tests.loop", "outbox web: the database is unavailable; retrying"),
        ("tests.loop", "outbox web: the database is available again"),
    ]


def test_a_damaged_sqlite_file_says_to_restore_a_backup() -> None:
    damaged = wrapped(sqlite3.DatabaseError("file is not a database"))
    assert isinstance(damaged.orig, sqlite3.DatabaseError)
    damaged.orig.sqlite_errorcode = sqlite3.SQLITE_NOTADB  # type: ignore[attr-defined]
    unusable = unusable_at_start(damaged, "sqlite+aiosqlite:///var/casebot.sqlite3")
    assert unusable is not None
    assert "var/casebot.sqlite3" in str(unusable)
    assert "casebot admin restore" in str(unusable)


def test_a_server_out_of_reach_is_named_without_its_password() -> None:
    refused = wrapped(ConnectionRefusedError(111, "Connect call failed"))
    url = "postgresql+asyncpg://casebot:s3cret@db.internal:6543/casebot"
    unusable = unusable_at_start(refused, url)
    assert unusable is not None
    assert "db.internal:6543/casebot" in str(unusable)
    assert "s3cret" not in str(unusable)


def test_a_bug_at_start_is_not_dressed_up_as_an_unusable_database() -> None:
    bug = wrapped(sqlite_error("no such table: accounts", sqlite3.SQLITE_ERROR))
    assert unusable_at_start(bug, "sqlite+aiosqlite:///var/casebot.sqlite3") is None
