"""Prepared statements: the few statements every turn runs, built once and compiled once.

SQLAlchemy's ORM costs about a tenth of a millisecond per statement in Python (building and
compiling, cache keys, the identity map, result objects, greenlet switches), twenty times what
SQLite takes to run one. A chat turn runs half a dozen statements, so on SQLite the hot ones
skip that layer: a :class:`Prepared` statement is written as an ordinary SQLAlchemy construct,
compiled once per dialect by SQLAlchemy itself (same SQL, same bind and result types), and run
by the unit of work on its own connection (:meth:`core.uow.UnitOfWork.fetch_all` and friends):

- SQLite: straight on the ``sqlite3`` connection of the unit of work's transaction, in the event
  loop's thread, each value converted by the column type's own bind and result processors;
- PostgreSQL: through SQLAlchemy Core on the session's connection (the asyncpg driver prepares
  and caches statements itself; what the Core adds there matters less than a network round trip).

Either way the statement runs in the unit of work's transaction, after its pending ORM changes
are flushed, exactly as ``uow.session.execute`` would have run it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

__all__ = ["Compiled", "Prepared", "Statement", "run_sqlite"]

Processor = Callable[[Any], Any]
Statement = Select[*tuple[Any, ...]] | UpdateBase


@dataclass(frozen=True, slots=True)
class Compiled:
    """One statement as one dialect runs it.

    Attributes:
        sql: the SQL text, with the dialect's positional parameters.
        names: the name of each positional parameter, in order.
        defaults: values of the parameters the construct fixes itself (literals in it).
        binds: (position, processor) of each parameter whose type converts its value.
        results: (position, processor) of each result column whose type converts its value.
    """

    sql: str
    names: tuple[str, ...]
    defaults: Mapping[str, Any]
    binds: tuple[tuple[int, Processor], ...]
    results: tuple[tuple[int, Processor], ...]

    def parameters(self, given: Mapping[str, Any]) -> list[Any]:
        """The positional parameters for ``given`` named values, converted.

        Raises:
            KeyError: a parameter is neither given nor fixed by the statement.
        """
        if self.defaults:
            values = [given[n] if n in given else self.defaults[n] for n in self.names]
        else:
            values = [given[name] for name in self.names]
        for position, process in self.binds:  # None too: a JSON column stores it as 'null'
            values[position] = process(values[position])
        return values

    def rows(self, raw: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Result rows as the column types hand them out (aware datetimes, decoded JSON)."""
        if not self.results or not raw:
            return raw
        converted = []
        for row in raw:
            values = list(row)
            for position, process in self.results:
                value = values[position]
                if value is not None:
                    values[position] = process(value)
            converted.append(tuple(values))
        return converted


class Prepared:
    """A statement built once, with named bound parameters, compiled once per dialect.

    Args:
        statement: a Core or ORM-enabled ``select``, ``insert``, ``update`` or ``delete`` with
            ``bindparam`` placeholders (no expanding ``IN`` parameters).

    Example::

        _FIND = Prepared(select(Case.form_type).where(Case.receipt_number == bindparam("r")))
        row = await uow.fetch_one(_FIND, {"r": "IOE0912345678"})
    """

    __slots__ = ("_compiled", "statement")

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}

    def __repr__(self) -> str:
        return f"Prepared({self.statement})"

    def compiled(self, dialect: Dialect) -> Compiled:
        """The statement compiled for ``dialect`` (once; later calls reuse it).

        Raises:
            ValueError: the statement has a parameter this layer cannot pass positionally.
        """
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.statement, dialect)
        return found


def _compile(statement: Statement, dialect: Dialect) -> Compiled:
    compiled = statement.compile(dialect=dialect)
    names = tuple(compiled.positiontup or ())
    binds = compiled.binds
    if any(binds[name].expanding for name in names):
        raise ValueError("a prepared statement takes no expanding (IN) parameter")
    # A parameter the construct fixes itself (a literal such as ``count=1``) has its value.
    defaults = {name: binds[name].effective_value for name in names if not binds[name].required}
    bind_processors = []
    for position, name in enumerate(names):
        process = binds[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            bind_processors.append((position, process))
    if isinstance(statement, Select):
        columns = list(statement.selected_columns)
    else:
        columns = list(statement.exported_columns)  # RETURNING, if any
    result_processors = []
    for position, column in enumerate(columns):
        process = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if process is not None:
            result_processors.append((position, process))
    return Compiled(
        sql=compiled.string,
        names=names,
        defaults=defaults,
        binds=tuple(bind_processors),
        results=tuple(result_processors),
    )


def run_sqlite(
    connection: sqlite3.Connection, compiled: Compiled, params: Mapping[str, Any]
) -> list[tuple[Any, ...]]:
    """Run a compiled statement on a ``sqlite3`` connection; its rows (none for a DML statement
    without RETURNING).

    Raises:
        sqlalchemy.exc.DBAPIError: the driver's error, wrapped as SQLAlchemy wraps it (an
            ``IntegrityError`` for a broken constraint, an ``OperationalError`` for a busy or
            missing database...), the original as ``orig`` and ``__cause__``.
    """
    values = compiled.parameters(params)
    try:
        cursor = connection.execute(compiled.sql, values)
        raw = cursor.fetchall()
    except sqlite3.Error as error:
        raise sa_exc.DBAPIError.instance(
            compiled.sql, values, error, sqlite3.Error, ismulti=False
        ) from error
    return compiled.rows(raw)
