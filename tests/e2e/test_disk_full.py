"""A full disk is an outage, not a breakdown: a real ``casebot serve`` whose SQLite file lies on
a filesystem that fills up answers 503 (never 500) while it is full, says so on ``/readyz`` and
``/healthz``, and works again within seconds of space being freed, with no restart and nothing
it had committed lost. Its outbox dispatcher, which tries every second to deliver a
notification that fell due while the disk was full, logs the outage once, and delivers the
notification once it can.

The filesystem is a real one of a few megabytes (tmpfs), so every write SQLite makes meets the
kernel's ENOSPC exactly as on a full disk. Mounting it needs root (CAP_SYS_ADMIN); elsewhere the
test is skipped with the reason.
"""

from __future__ import annotations

import errno
import json
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest

from bot.wording.i18n import translator
from tests.serve_support import Served, serving

FILESYSTEM_SIZE: Final = "4m"
RECOVERY_SECONDS: Final = 10
# What the person reads when the chat answers 503: the widget's label, in their language.
UNAVAILABLE: Final = (
    "Sorry, we cannot reach our records right now. Please try again in a few minutes."
)


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={FILESYSTEM_SIZE}", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def call(
    served: Served, method: str, path: str, body: object = None, token: str | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(served.base + path, data, headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read()), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


NOTICE: Final = "A notification that fell due while the disk was full."


def queue_notification(database: Path, session_id: str, due: datetime) -> None:
    """An outbox row for the web chat session, due at ``due`` (as a case update would be)."""
    stamp = due.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    payload = {"text": NOTICE, "buttons": [], "attachments": [], "secret_input": False}
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO outbox (kind, channel, address, payload, dedupe_key, status, attempts,"
            " next_attempt_at, created_at) VALUES ('reply', 'webchat', ?, ?, 'disk-full',"
            " 'pending', 0, ?, ?)",
            (session_id, json.dumps(payload), stamp, stamp),
        )
    connection.close()


def fill(folder: Path) -> Path:
    """Write a file until the filesystem refuses (ENOSPC); the file, to delete later."""
    filler = folder / "filler"
    refused: OSError | None = None
    with filler.open("wb", buffering=0) as out:
        while refused is None:
            try:
                out.write(b"\0" * 65536)
            except OSError as error:
                refused = error
    assert refused.errno == errno.ENOSPC  # the disk is full, as in production
    return filler


def test_a_full_disk_answers_503_then_recovers_without_a_restart(
    tmp_path: Path, small_filesystem: Path
) -> None:
    database = small_filesystem / "casebot.sqlite3"
    env = {"CASEBOT_DATABASE_URL": f"sqlite:///{database}"}
    with serving(tmp_path, env) as served:
        status, opened, _ = call(served, "POST", "/api/chat/sessions", {"locale": "es"})
        assert status == 201
        session, token = opened["session_id"], opened["token"]
        messages = f"/api/chat/sessions/{session}/messages"
        assert call(served, "POST", messages, {"text": "hola"}, token)[0] == 200
        _, before, _ = call(served, "GET", messages, None, token)
        committed = [m["text"] for m in before["messages"]]
        assert len(committed) >= 2  # what was said, and the answer

        due = datetime.now(UTC) + timedelta(seconds=2)
        queue_notification(database, session, due)
        filler = fill(small_filesystem)
        for _ in range(3):
            status, body, headers = call(served, "POST", "/api/chat/sessions", {"locale": "es"})
            assert (status, body["error"]["code"]) == (503, "unavailable"), body
            assert headers["Retry-After"] == "5"
            status, body, _ = call(served, "POST", messages, {"text": "hola"}, token)
            assert (status, body["error"]["code"]) == (503, "unavailable"), body
        with urllib.request.urlopen(served.base + "/widget.js", timeout=30) as answer:  # noqa: S310
            widget = answer.read().decode()
        spanish = translator("es")._(UNAVAILABLE)
        assert spanish != UNAVAILABLE
        assert json.dumps(spanish, ensure_ascii=False) in widget  # shown for the 503, in Spanish
        status, ready, _ = call(served, "GET", "/readyz")
        assert (status, ready["checks"]["database"]) == (503, "down"), ready
        assert call(served, "GET", "/healthz")[0] == 503
        assert call(served, "GET", "/livez")[0] == 200  # alive: a restart is not the cure
        # The notification falls due: the dispatcher meets the outage on each of its passes.
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 3)

        filler.unlink()
        deadline = time.monotonic() + RECOVERY_SECONDS
        while call(served, "GET", "/readyz")[0] != 200:
            assert time.monotonic() < deadline, "not ready again 10 s after space was freed"
            time.sleep(0.2)
        assert call(served, "GET", "/healthz")[0] == 200
        assert call(served, "POST", "/api/chat/sessions", {"locale": "es"})[0] == 201
        assert call(served, "POST", messages, {"text": "hola"}, token)[0] == 200
        status, after, _ = call(served, "GET", messages, None, token)
        assert status == 200
        texts = [m["text"] for m in after["messages"]]
        assert texts[: len(committed)] == committed  # nothing committed was lost
        assert len(texts) > len(committed)
        deadline = time.monotonic() + RECOVERY_SECONDS
        while NOTICE not in texts:  # delivered by the dispatcher's next pass, exactly once
            assert time.monotonic() < deadline, "the notification was not delivered"
            time.sleep(0.2)
            texts = [m["text"] for m in call(served, "GET", messages, None, token)[1]["messages"]]
        assert texts.count(NOTICE) == 1
    log = served.log_text()
    assert "Traceback" not in log, log
    assert " 500 " not in log, log
    outage_lines = [line for line in log.splitlines() if "outbox webchat" in line]
    assert len([line for line in outage_lines if "unavailable" in line]) == 1, outage_lines
    assert any("available again" in line for line in outage_lines), outage_lines
