"""``casebot admin backup`` while ``casebot serve`` answers people, then ``admin restore``.

Web chat clients keep a real server (SQLite) busy; in the middle, the backup command runs as
an operator would run it. Every turn answered before the backup started must be in the
restored database: the person's message and the assistant's answer, once each.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Final

import aiohttp

from tests.e2e.workers import ROOT, Worker

CLIENTS: Final = 4
TURNS: Final = 12  # each client's messages; the backup runs after the first few


def _casebot(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
    env.update(CASEBOT_DATABASE_URL=database_url, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


async def test_a_backup_taken_under_traffic_restores_every_turn_answered_before_it(
    tmp_path: Path,
) -> None:
    database_url = f"sqlite:///{tmp_path / 'casebot.sqlite3'}"
    server = Worker("serve", tmp_path, database_url)
    answered_before_backup: set[str] = set()
    backup_started = asyncio.Event()
    backup_done = asyncio.Event()
    backup_file = tmp_path / "backups" / "casebot.backup.sqlite3"

    async def person(http: aiohttp.ClientSession, n: int) -> None:
        async with http.post(f"{server.url}/api/chat/sessions", json={}) as response:
            assert response.status == 201
            session = await response.json()
        headers = {"Authorization": f"Bearer {session['token']}"}
        url = f"{server.url}/api/chat/sessions/{session['session_id']}/messages"
        for turn in range(TURNS):
            said = f"help {n}-{turn}"
            async with http.post(url, json={"text": said}, headers=headers) as response:
                assert response.status == 200, await response.text()
            if not backup_started.is_set():
                answered_before_backup.add(said)
            if turn == 5 and n == 0:
                backup_started.set()
            await asyncio.sleep(0)

    async def operator() -> None:
        await backup_started.wait()
        done = await asyncio.to_thread(_casebot, database_url, "admin", "backup", str(backup_file))
        assert done.returncode == 0, done.stderr
        backup_done.set()

    try:
        async with aiohttp.ClientSession() as http:
            await server.ready(http)
            await asyncio.gather(operator(), *(person(http, n) for n in range(CLIENTS)))
    finally:
        server.stop()
    assert backup_done.is_set()
    assert len(answered_before_backup) >= 6

    restored_url = f"sqlite:///{tmp_path / 'restored' / 'casebot.sqlite3'}"
    done = _casebot(restored_url, "admin", "restore", str(backup_file))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "restored" / "casebot.sqlite3") as restored:
        rows = restored.execute("SELECT id, session_id, sender, text FROM web_messages").fetchall()
    said_in_backup = [text for _id, _s, sender, text in rows if sender == "user"]
    for said in answered_before_backup:
        assert said_in_backup.count(said) == 1, said
        # ...with its answer: the next message of that session is the assistant's.
        at = next(i for i, row in enumerate(rows) if row[3] == said)
        after = [row for row in rows[at + 1 :] if row[1] == rows[at][1]]
        assert after, said
        assert after[0][2] == "bot", said

    # The restored database serves: the schema is read, nothing needs repair.
    again = _casebot(restored_url, "admin", "migrate")
    assert again.returncode == 0, again.stderr


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-backup"
    bogus.write_text("hello")
    done = _casebot(f"sqlite:///{tmp_path / 'x.sqlite3'}", "admin", "restore", str(bogus))
    assert done.returncode == 1
    assert "not a SQLite database" in done.stderr


def test_backup_refuses_to_overwrite_a_file(tmp_path: Path) -> None:
    existing = tmp_path / "exists"
    existing.write_text("keep me")
    done = _casebot(f"sqlite:///{tmp_path / 'x.sqlite3'}", "admin", "backup", str(existing))
    assert done.returncode == 1
    assert existing.read_text() == "keep me"
