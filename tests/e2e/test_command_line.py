"""The ``casebot`` command as an operator runs it: a real process on a real database file."""

from __future__ import annotations

import importlib.metadata
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

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


class Serving:
    """``casebot serve ARGS`` in ``folder`` on a free port, its output in ``serve.log``."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "serve.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--port", str(self.port), *args],
                cwd=folder,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def __enter__(self) -> Serving:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited early:\n{self.log()}")
            try:
                self.get("/healthz")
                return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"serve did not answer /healthz:\n{self.log()}")

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def log(self) -> str:
        return self.log_path.read_text()

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=2) as response:  # noqa: S310
            return str(response.read().decode())

    def post(self, path: str, body: dict[str, str], token: str | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(  # noqa: S310  (http://127.0.0.1 only)
            self.url + path, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def chat(self, text: str) -> str:
        """The replies' text to ``text``, typed into a new web chat session."""
        session = self.post("/api/chat/sessions", {"locale": "en"})
        path = f"/api/chat/sessions/{session['session_id']}/messages"
        replies = self.post(path, {"text": text}, token=session["token"])["replies"]
        return "\n".join(reply["text"] for reply in replies)


def test_serve_with_demo_brings_an_empty_database_up_with_the_demo_data(tmp_path: Path) -> None:
    with Serving(tmp_path, "--demo") as server:
        assert '"status": "ok"' in server.get("/healthz")
        assert "Case Was Approved" in server.chat("WAC2212345678")
    assert row_counts(tmp_path / "var" / "casebot.sqlite3")["accounts"] == 1


def test_serve_without_demo_holds_no_account_and_says_how_to_load_the_demo(
    tmp_path: Path,
) -> None:
    with Serving(tmp_path) as server:
        assert '"status": "ok"' in server.get("/healthz")
        assert "Case Was Approved" not in server.chat("WAC2212345678")
    counts = row_counts(tmp_path / "var" / "casebot.sqlite3")
    assert counts["accounts"] == 0
    assert counts["cases"] == 0
    hints = [line for line in server.log().splitlines() if "--demo" in line]
    assert len(hints) == 1, server.log()
    assert "casebot demo" in hints[0]
    assert "casebot admin office add" in hints[0]


def test_serve_on_a_database_that_holds_data_gives_no_hint_and_loads_nothing(
    tmp_path: Path,
) -> None:
    assert run_casebot("demo", cwd=tmp_path).returncode == 0
    database = tmp_path / "var" / "casebot.sqlite3"
    before = row_counts(database)
    with Serving(tmp_path, "--demo") as server:
        server.get("/healthz")
    assert row_counts(database) == before
    assert "--demo" not in server.log()


def test_healthz_polled_five_times_adds_no_alembic_line_to_the_log(tmp_path: Path) -> None:
    with Serving(tmp_path) as server:
        for _ in range(5):
            body = json.loads(server.get("/healthz"))
            assert body["status"] == "ok"
            assert body["schema"]
    assert "alembic" not in server.log().lower(), server.log()
    assert "/healthz" not in server.log(), server.log()  # a passed check is no news


def test_an_admin_command_logs_no_alembic_line(tmp_path: Path) -> None:
    assert run_casebot("demo", cwd=tmp_path).returncode == 0
    for args in (("admin", "office", "list"), ("admin", "migrate")):
        done = run_casebot(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "alembic" not in done.stderr.lower(), done.stderr
    verbose = run_casebot("--verbose", "admin", "office", "list", cwd=tmp_path)
    assert "alembic" in verbose.stderr.lower()


def test_version_prints_the_installed_package_version(tmp_path: Path) -> None:
    expected = f"casebot {importlib.metadata.version('casebot')}"
    console_script = Path(sys.executable).with_name("casebot")
    done = subprocess.run(
        [str(console_script), "--version"], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == expected
    assert run_casebot("--version", cwd=tmp_path).stdout.strip() == expected


def test_serve_on_a_port_in_use_says_so_in_one_line_and_exits(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_casebot("serve", "--demo", "--port", str(port), cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"port {port}" in lines[0]
    assert "--port" in lines[0]
    # Nothing was started: the database was not even created.
    assert not (tmp_path / "var" / "casebot.sqlite3").exists()


def test_serve_on_an_address_of_no_interface_says_so_in_one_line_and_exits(
    tmp_path: Path,
) -> None:
    done = run_casebot("serve", "--host", "192.0.2.1", "--port", "8080", cwd=tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "192.0.2.1" in lines[0]
    assert "--host" in lines[0]
