"""Backups of the database: ``casebot admin backup PATH`` and ``casebot admin restore PATH``.

SQLite: the backup is SQLite's online backup API (``sqlite3.Connection.backup``) in one step,
inside one read transaction: a consistent copy of every committed transaction at that moment,
taken while casebot serves (in WAL mode a reader does not stop the writer). The restore checks
the copy (``PRAGMA integrity_check``) and writes it over the database with the same API; stop
casebot first, and start it again afterwards: a backup of an older version is migrated then.

PostgreSQL: ``backup`` runs ``pg_dump --format=custom`` (the server's own consistent snapshot);
the restore is ``pg_restore`` by the operator (README: Deploying), since it replaces a shared
database that other hosts may be serving from.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

__all__ = ["BackupError", "backup", "restore", "sqlite_path"]


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite database URL, or None for another database."""
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite"):
        return None
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def backup(database_url: str, target: Path) -> str:
    """Write a consistent copy of the database to ``target``; returns what was done.

    Raises:
        BackupError: the target exists, the database file does not, or ``pg_dump`` failed.
    """
    if target.exists():
        raise BackupError(f"{target} exists already: name a new file")
    path = sqlite_path(database_url)
    if path is None:
        return _pg_dump(database_url, target)
    if not path.is_file():
        raise BackupError(f"there is no database at {path}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination)  # all pages in one step: one consistent snapshot
        finally:
            destination.close()
    finally:
        source.close()
    partial.rename(target)  # a backup file that exists is a whole one
    return f"backed up {path} to {target} ({target.stat().st_size} bytes)"


def restore(database_url: str, source: Path) -> str:
    """Replace the SQLite database with the backup at ``source``; returns what was done.

    Raises:
        BackupError: the database is PostgreSQL, or the backup is missing or damaged.
    """
    path = sqlite_path(database_url)
    if path is None:
        raise BackupError(
            "on PostgreSQL restore with pg_restore --clean --if-exists --dbname=URL FILE "
            "(README: Deploying, Backup and restore)"
        )
    if not source.is_file():
        raise BackupError(f"there is no backup at {source}")
    backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        try:
            checked = backup_db.execute("PRAGMA integrity_check").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite database: {exc}") from None
        if checked is None or checked[0] != "ok":
            raise BackupError(f"{source} is damaged: {checked and checked[0]}")
        path.parent.mkdir(parents=True, exist_ok=True)
        destination = sqlite3.connect(path)
        try:
            backup_db.backup(destination)
        finally:
            destination.close()
    finally:
        backup_db.close()
    return f"restored {path} from {source}; start casebot to bring it to the current schema"


def _pg_dump(database_url: str, target: Path) -> str:
    url = make_url(database_url)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump is not installed here: install PostgreSQL's client (Debian: "
            "postgresql-client) or run pg_dump --format=custom where it is"
        )
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)  # not on the command line, where ps shows it
    command = [pg_dump, "--format=custom", f"--file={target}", "--no-owner"]
    for option, value in (("--host", url.host), ("--port", url.port),
                          ("--username", url.username)):  # fmt: skip
        if value is not None:
            command.append(f"{option}={value}")
    command.append(f"--dbname={url.database}")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return f"backed up PostgreSQL database {url.database} to {target} (pg_dump, custom format)"
