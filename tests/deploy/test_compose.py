"""The compose stack (``compose.yaml`` with ``.ci/compose.ci.yaml``): PostgreSQL, casebot with two
workers and Caddy in front, started with podman-compose. Through the proxy: ``/readyz``, a case
lookup over HTTP, the case's change pushed on the session's WebSocket by whichever worker holds
it, and casebot counting new sessions under the client's address from ``X-Forwarded-For`` (not
the proxy's, nor one the client wrote itself). The stack is removed (``down -v``) whatever
happens.

On CI (``CI=true``) a missing podman-compose fails the test (``.ci/run`` installs it); elsewhere
it is skipped with a message.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import ON_CI
from tests.deploy.conftest import BASE_IMAGE, podman
from tests.e2e.workers import ROOT, free_port

RECEIPT = "IOE0912345678"  # a demo case (core/demo.py), received: set to approved below
SPOOFED = "203.0.113.9"  # an address the client claims for itself (TEST-NET-3)


@dataclass(frozen=True)
class Stack:
    project: str
    base: str  # the proxy, as clients reach it
    env: dict[str, str]

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command = ["podman-compose", "-p", self.project, "-f", "compose.yaml",
                   "-f", ".ci/compose.ci.yaml", *args]  # fmt: skip
        return subprocess.run(
            command, cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip

    def shown(self, result: subprocess.CompletedProcess[str]) -> str:
        """What a compose command printed, for a failure's message: podman-compose 1.0.3 echoes
        the podman commands it runs, environment values included, so the secrets are masked."""
        text = result.stdout[-3000:] + result.stderr[-3000:]
        for name in ("POSTGRES_PASSWORD", "CASEBOT_SECRET_KEY"):
            text = text.replace(self.env[name], "***")
        return text

    def container(self, service: str) -> str:
        found = podman(
            "ps", "-a", "--format", "{{.Names}}",
            "--filter", f"label=com.docker.compose.project={self.project}",
            "--filter", f"label=com.docker.compose.service={service}",
        ).stdout.split()  # fmt: skip
        assert len(found) == 1, (service, found)
        return found[0]

    def logs(self) -> str:
        return "\n".join(
            f"--- {service}\n" + podman("logs", self.container(service)).stderr[-3000:]
            for service in ("postgres", "casebot", "proxy")
        )


def _request(
    url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, headers=sent)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, json.loads(response.read())


@pytest.fixture
def stack(image: str, tmp_path: Path) -> Iterator[Stack]:
    if shutil.which("podman-compose") is None:
        message = "podman-compose is missing: apt-get install podman-compose (.ci/run does)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    # The secrets, in an env file of the test's own (compose.yaml's CASEBOT_ENV_FILE); podman-
    # compose 1.0.3 does not expand ${VAR:-}, so the optional settings are given empty here.
    password, key = secrets.token_hex(16), secrets.token_hex(32)
    env_file = tmp_path / "casebot.env"
    env_file.write_text(
        f"POSTGRES_PASSWORD={password}\nCASEBOT_SECRET_KEY={key}\nTELEGRAM_BOT_TOKEN=\n"
        "CASEBOT_WEBHOOK_URL=\n",
        encoding="utf-8",
    )
    env_file.chmod(0o600)
    port = free_port()
    env = {
        **os.environ,
        "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(ROOT / ".ci/containers.conf")),
        "CASEBOT_TEST_BASE_IMAGE": BASE_IMAGE,
        "CASEBOT_IMAGE": image,  # built by the image fixture, with the CA bundle as a secret
        "CASEBOT_ENV_FILE": str(env_file),
        "POSTGRES_PASSWORD": password,
        "CASEBOT_SECRET_KEY": key,
        "CASEBOT_WORKERS": "2",
        "CASEBOT_HTTP_PORT": str(port),
        "CASEBOT_HTTPS_PORT": str(free_port()),
    }
    stack = Stack(f"casebot-test-{uuid.uuid4().hex[:8]}", f"http://127.0.0.1:{port}", env)
    try:
        # PostgreSQL and Caddy images from Debian's packages (cached: podman build reuses
        # layers), then the stack.
        built = stack.compose("build", "postgres", "proxy", timeout=900)
        assert built.returncode == 0, stack.shown(built)
        started = stack.compose("up", "-d")
        assert started.returncode == 0, stack.shown(started)
        yield stack
    finally:
        stack.compose("down", "-v")
        podman("network", "rm", "-f", f"{stack.project}_default")  # 1.0.3's down leaves it


def _wait_ready(stack: Stack) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        try:
            status, ready = _request(f"{stack.base}/readyz")
            if status == 200:
                return dict(ready)
        except (OSError, ValueError):
            pass
        assert time.monotonic() < deadline, stack.logs()
        time.sleep(1)


async def _conversation(stack: Stack) -> tuple[str, dict[str, Any]]:
    """A case lookup over HTTP, following the case, and its change arriving on the WebSocket;
    returns the case's answer and the message the socket received."""
    base = stack.base
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.post(f"{base}/api/chat/sessions", json={"locale": "es"}) as response:
            assert response.status == 201, await response.text()
            session = await response.json()
        url = f"{base}/api/chat/sessions/{session['session_id']}"
        auth = {"Authorization": f"Bearer {session['token']}"}
        async with http.ws_connect(f"{url}/ws?token={session['token']}", origin=base) as ws:
            said = {"text": f"Quiero saber el estado de mi caso {RECEIPT}"}
            async with http.post(f"{url}/messages", json=said, headers=auth) as response:
                assert response.status == 200, await response.text()
                replies = (await response.json())["replies"]
            answer = "\n".join(reply["text"] for reply in replies)
            buttons = [button["payload"] for reply in replies for button in reply["buttons"]]
            follow = [payload for payload in buttons if payload.endswith(":sub")]
            assert len(follow) == 1, replies
            pressed = {"payload": follow[0]}
            async with http.post(f"{url}/messages", json=pressed, headers=auth) as response:
                assert response.status == 200, await response.text()
                offered = (await response.json())["replies"]
            # Not signed in: updates by email, by text, or in this chat while it stays open.
            here = [
                b["payload"]
                for r in offered
                for b in r["buttons"]
                if b["payload"].endswith(":here")
            ]
            assert len(here) == 1, offered
            async with http.post(
                f"{url}/messages", json={"payload": here[0]}, headers=auth
            ) as response:
                assert response.status == 200, await response.text()
            # The change goes through the outbox: whichever worker sends it stores it in the
            # transcript and tells the others (PostgreSQL NOTIFY); the one holding this socket
            # sends it on. The turn's own messages may come here too (when the same worker
            # answered the POST): skip them.
            changed = podman(
                "exec", stack.container("casebot"), "casebot", "admin", "set-status", RECEIPT,
                "Case Was Approved",
            )  # fmt: skip
            assert changed.returncode == 0, changed.stdout + changed.stderr
            while True:
                message = await ws.receive(timeout=30)
                assert message.type == aiohttp.WSMsgType.TEXT, (message, stack.logs())
                pushed: dict[str, Any] = json.loads(message.data)
                if "Caso Fue Aprobado" in pushed["text"]:
                    return answer, pushed


def test_the_stack_serves_a_conversation_through_the_proxy_over_http_and_websocket(
    stack: Stack,
) -> None:
    ready = _wait_ready(stack)
    assert ready["checks"] == {"database": "ok", "schema": "ok", "catalogs": "ok"}
    casebot, postgres = stack.container("casebot"), stack.container("postgres")
    demo = podman("exec", casebot, "casebot", "demo")
    assert demo.returncode == 0, demo.stdout + demo.stderr

    answer, pushed = asyncio.run(_conversation(stack))
    assert RECEIPT in answer, answer
    assert "Caso Fue Recibido" in answer, answer
    assert pushed["from"] == "bot", pushed
    assert RECEIPT in pushed["text"], pushed

    # Two workers serve behind the proxy (their log lines name them).
    log = podman("logs", casebot).stderr
    for worker in (1, 2):
        assert f'"message": "worker {worker} started' in log, log[-3000:]

    # One more session, from a client that writes its own X-Forwarded-For: Caddy replaces it
    # with the address the client connected from, which casebot counts the session under. That
    # address is this machine's on the stack's network (podman's gateway); without the header
    # casebot would count the proxy's address, and with a header it should not trust, the one
    # the client wrote.
    status, _ = _request(f"{stack.base}/api/chat/sessions", {}, {"X-Forwarded-For": SPOOFED})
    assert status == 201
    network = json.loads(podman("network", "inspect", f"{stack.project}_default").stdout)
    gateway = network[0]["subnets"][0]["gateway"]
    proxy = podman(
        "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        stack.container("proxy"),
    ).stdout.strip()  # fmt: skip
    counted = podman(
        "exec", postgres, "psql", "--username=casebot", "--dbname=casebot", "-Atc",
        "SELECT key, count FROM rate_limits WHERE key LIKE 'webchat_open:%'",
    )  # fmt: skip
    assert counted.returncode == 0, counted.stderr
    assert proxy, stack.logs()
    assert proxy != gateway
    # One row per key; its count is 2, or 1 when a minute's window began between the two
    # sessions (windows are fixed and aligned on the clock, and the conversation takes seconds).
    rows = [line.rsplit("|", 1) for line in counted.stdout.split()]
    assert [key for key, _ in rows] == [f"webchat_open:{gateway}"], (counted.stdout, proxy)
    assert rows[0][1] in {"1", "2"}, counted.stdout
