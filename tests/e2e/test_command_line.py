"""The ``casebot`` command as an operator runs it: a real process on a real database file."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

TABLES_OF_DEMO = ("accounts", "cases", "case_events", "offices", "office_hours")


def run_casebot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES_OF_DEMO}


def test_demo_creates_the_schema_and_loads_the_data_once(tmp_path: Path) -> None:
    first = run_casebot("demo", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    database = tmp_path / "var" / "casebot.sqlite3"
    counts = row_counts(database)
    assert counts["accounts"] == 1
    assert counts["cases"] == 6
    assert counts["offices"] >= 4

    second = run_casebot("demo", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert row_counts(database) == counts


def test_set_status_takes_an_official_title_and_reports_a_bad_one(tmp_path: Path) -> None:
    assert run_casebot("demo", cwd=tmp_path).returncode == 0
    done = run_casebot("admin", "set-status", "ioe-0912345678", "Case Was Approved", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "var" / "casebot.sqlite3") as conn:
        status = conn.execute(
            "SELECT status_code FROM cases WHERE receipt_number = 'IOE0912345678'"
        ).fetchone()[0]
    assert status == "approved"

    bad = run_casebot("admin", "set-status", "IOE0912345678", "Case Was Eaten", cwd=tmp_path)
    assert bad.returncode == 1
    assert "Case Was Eaten" in bad.stderr


def test_import_reports_bad_rows_by_line_and_applies_nothing(tmp_path: Path) -> None:
    assert run_casebot("demo", cwd=tmp_path).returncode == 0
    before = row_counts(tmp_path / "var" / "casebot.sqlite3")
    csv_file = tmp_path / "cases.csv"
    csv_file.write_text(
        "receipt_number,form_type,status\n"
        "EAC2190099901,I-130,Case Was Received\n"
        "EAC21900999,I-130,Case Was Received\n"
        "EAC2190099903,I-130,Case Was Eaten\n"
    )
    result = run_casebot("admin", "import-cases", str(csv_file), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{csv_file}:3:" in result.stderr
    assert f"{csv_file}:4:" in result.stderr
    assert f"{csv_file}:2:" not in result.stderr
    assert row_counts(tmp_path / "var" / "casebot.sqlite3") == before


def test_import_is_idempotent(tmp_path: Path) -> None:
    assert run_casebot("demo", cwd=tmp_path).returncode == 0
    csv_file = tmp_path / "cases.csv"
    csv_file.write_text(
        "receipt_number,form_type,status,received_date,owner_email\n"
        "EAC2190099901,I-130,Case Was Received,2026-01-05,ana.demo@example.com\n"
        "LIN2390001234,I-485,approved,,\n"
    )
    first = run_casebot("admin", "import-cases", str(csv_file), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1 new, 1 updated" in first.stdout
    second = run_casebot("admin", "import-cases", str(csv_file), cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "0 new, 0 updated, 2 unchanged" in second.stdout


def test_a_bad_database_url_stops_with_a_message_naming_the_variable(tmp_path: Path) -> None:
    result = run_casebot(
        "demo", cwd=tmp_path, env={"CASEBOT_DATABASE_URL": "mysql://root@localhost/casebot"}
    )
    assert result.returncode == 2
    assert "CASEBOT_DATABASE_URL" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_brings_an_empty_database_up_with_the_demo_data(tmp_path: Path) -> None:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline and body is None:
            if server.poll() is not None:
                pytest.fail(f"serve exited early: {server.stdout.read() if server.stdout else ''}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = r.read().decode()
            except OSError:
                time.sleep(0.2)
        assert body is not None, "serve did not answer /healthz"
        assert '"status": "ok"' in body
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert row_counts(tmp_path / "var" / "casebot.sqlite3")["accounts"] == 1
