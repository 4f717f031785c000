"""A real ``casebot serve`` on a free port, in a fresh folder, its log in a file: for the tests
that are about the server itself (the browser tests, the security replays)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Served:
    base: str
    host: str
    port: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(workdir: Path, env: dict[str, str] | None = None, *args: str) -> Iterator[Served]:
    """Run ``casebot serve ARGS`` (``--demo`` for the demo data) until the block ends."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
    environment["PYTHONPATH"] = str(REPO)
    environment.update(env or {})
    log_path = workdir / "serve.log"
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, *args],
            cwd=workdir,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        served = Served(f"http://127.0.0.1:{port}", "127.0.0.1", port, log_path)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise RuntimeError("casebot serve exited: " + served.log_text())
                try:
                    with urllib.request.urlopen(served.base + "/healthz", timeout=2) as answer:  # noqa: S310
                        if answer.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("casebot serve did not answer /healthz within 60 s")
                time.sleep(0.2)
            yield served
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
