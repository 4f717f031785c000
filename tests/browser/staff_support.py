"""Staff for the browser tests: added as an operator does (``casebot admin staff add``), set up
and signed in through the console API, and an agent who works through that API."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from core.accounts.otp import totp
from tests.serve_support import REPO

PASSWORD = "console-lantern-harbor-7"
# Agents' hours around the clock: a test does not depend on when it runs.
ALWAYS_OPEN = "UTC Mon-Sun 00:00-23:59; holidays open"


def add_staff(folder: Path, email: str, name: str, languages: str, role: str = "agent") -> str:
    """``casebot admin staff add`` as an operator runs it; returns the set-up code."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
    environment["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "admin", "staff", "add", email, "--name", name,
         "--languages", languages, "--role", role],
        cwd=folder, env=environment, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"set-up code: (\S+)", done.stdout)
    assert found is not None, done.stdout
    return found[1]


def set_up(base: str, code: str) -> tuple[str, datetime]:
    """Choose the password and enrol the authenticator; returns its secret and the moment
    whose code was used (the next sign-in takes a later one)."""
    started = requests.post(
        f"{base}/api/console/setup", json={"code": code, "password": PASSWORD}, timeout=10
    ).json()
    now = datetime.now(UTC)
    confirmed = requests.post(
        f"{base}/api/console/setup/confirm",
        json={"code": code, "totp": totp(started["secret"], now)},
        timeout=10,
    )
    assert confirmed.status_code == 200, confirmed.text
    return str(started["secret"]), now


class ApiAgent:
    """An agent at work through the console API (as the console page does)."""

    def __init__(self, base: str, folder: Path, email: str, name: str) -> None:
        self.base = base
        secret, used = set_up(base, add_staff(folder, email, name, "en,es"))
        signed_in = requests.post(
            f"{base}/api/console/sessions",
            json={
                "email": email,
                "password": PASSWORD,
                "code": totp(secret, used + timedelta(seconds=30)),
            },
            timeout=10,
        )
        assert signed_in.status_code == 201, signed_in.text
        self.auth = {"Authorization": f"Bearer {signed_in.json()['token']}"}

    def get(self, path: str) -> Any:
        response = requests.get(self.base + path, headers=self.auth, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
        response = requests.post(self.base + path, json=body, headers=self.auth, timeout=10)
        assert response.status_code == status, response.text
        return response.json()

    def newest_waiting(self) -> int:
        """The id of the conversation that joined the line last."""
        waiting = self.get("/api/console/queue")["waiting"]
        assert waiting, "no one is waiting"
        return int(waiting[-1]["conversation_id"])

    def receives(self, conversation: int, text: str) -> bool:
        """Whether the person's ``text`` reached the conversation (waiting for it up to a
        generous bound: it is written as the person's turn commits)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = self.get(f"/api/console/conversations/{conversation}")
            if ("person", text) in [(m["sender"], m["text"]) for m in found["messages"]]:
                return True
            time.sleep(0.2)
        return False
