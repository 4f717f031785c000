"""A database casebot cannot use at start (a damaged SQLite file, a PostgreSQL server that is
down) stops every command with one line on stderr that says what is wrong and what to do, and
a non-zero status: not a page of traceback for the operator to read through."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.e2e.test_command_line import run_casebot

COMMANDS = (
    ("serve", "--port", "0"),
    ("demo",),
    ("admin", "office", "list"),
)


def one_line(done: object) -> str:
    """The single line the command wrote to stderr (and it wrote no traceback)."""
    assert hasattr(done, "returncode")
    assert done.returncode not in (0, None)  # type: ignore[attr-defined]
    output = done.stdout + done.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in output, output
    lines = done.stderr.strip().splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1, done.stderr  # type: ignore[attr-defined]
    return str(lines[0])


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_a_damaged_sqlite_file_is_one_line_saying_to_restore_a_backup(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    damaged = tmp_path / "casebot.sqlite3"
    damaged.write_bytes(b"not a database, or no longer one" * 4096)
    env = {"CASEBOT_DATABASE_URL": f"sqlite:///{damaged}"}
    line = one_line(run_casebot(*command, cwd=tmp_path, env=env))
    assert str(damaged) in line
    assert "casebot admin restore" in line
    assert damaged.read_bytes().startswith(b"not a database")  # left as it was found


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_postgresql_out_of_reach_is_one_line_naming_the_server_not_the_password(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    with socket.socket() as probe:  # a port nobody listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql://casebot:hunter2-secret@127.0.0.1:{port}/casebot"
    line = one_line(run_casebot(*command, cwd=tmp_path, env={"CASEBOT_DATABASE_URL": url}))
    assert f"127.0.0.1:{port}" in line
    assert "CASEBOT_DATABASE_URL" in line
    assert "hunter2" not in line
