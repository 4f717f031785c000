"""The container image: starts as a user without privileges, answers ``/readyz``, looks up a
case in Spanish through the web chat API, and ends on SIGTERM with status 0 within 10 s."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from tests.deploy.conftest import podman
from tests.e2e.workers import free_port


def _request(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, json.loads(response.read())


def test_the_image_serves_a_spanish_case_lookup_and_stops_cleanly_on_sigterm(image: str) -> None:
    port = free_port()
    name = f"casebot-test-{uuid.uuid4().hex[:8]}"
    # The demo case comes from ``casebot demo`` (a real deployment loads no demo data).
    started = podman(
        "run", "-d", "--name", name, "--network", "host", "--entrypoint", "sh", image, "-c",
        f"casebot demo && exec casebot serve --host 127.0.0.1 --port {port}",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, ready = _request(f"{base}/readyz")
                break
            except (urllib.error.URLError, ConnectionError):
                running = podman("inspect", "-f", "{{.State.Running}}", name).stdout.strip()
                assert running == "true", podman("logs", name).stderr
                assert time.monotonic() < deadline, podman("logs", name).stderr
                time.sleep(0.5)
        assert status == 200
        assert ready["checks"] == {"database": "ok", "schema": "ok", "catalogs": "ok"}
        assert podman("exec", name, "id", "-u").stdout.strip() != "0"

        status, session = _request(f"{base}/api/chat/sessions", {"locale": "es"})
        assert status == 201
        url = f"{base}/api/chat/sessions/{session['session_id']}/messages"
        said = {"text": "Quiero saber el estado de mi caso WAC2212345678"}
        status, answer = _request(url, said, session["token"])
        text = "\n".join(reply["text"] for reply in answer["replies"])
        assert "Caso Fue Aprobado" in text

        assert podman("kill", "--signal", "TERM", name).returncode == 0
        waited = podman("wait", name, timeout=10)  # more than 10 s fails the test here
        assert waited.stdout.strip() == "0", podman("logs", name).stderr
    finally:
        podman("rm", "-f", name)
