"""``casebot serve --workers N``: N server processes on one port, under one supervisor.

Each worker is a ``casebot serve`` of its own (the same command line, ``--workers 1``) that
binds the port with ``SO_REUSEPORT``: the kernel spreads new connections over the workers, and
a worker that dies takes only its own connections with it. The supervisor serves nothing
itself; it:

- starts the workers, each told its number (``CASEBOT_WORKER``, shown in every log line);
- restarts a worker that exits while it is serving, after a pause that doubles with each quick
  death in a row (0.5 s up to 30 s), so a worker that cannot start does not spin a core; a
  worker that exits with status 2 (bad configuration, missing catalogs) within its first
  seconds stops them all: a restart would fail the same way;
- on SIGTERM or SIGINT, sends each worker one SIGTERM and waits: each worker stops accepting,
  tells its WebSockets to reconnect (close code 1012), finishes the requests and turns in
  flight, stops what runs beside them and closes its database (``bot.serve``); a worker still
  running after ``stop_timeout`` is killed.
  The supervisor then exits 0.

The workers run in their own process group, so a Ctrl-C in a terminal reaches the supervisor
alone (and each worker gets exactly one SIGTERM), and on Linux each is asked to get SIGTERM
should the supervisor itself die (``PR_SET_PDEATHSIG``), so no worker outlives it.

What several workers share is the database: on PostgreSQL row locks, ``SKIP LOCKED`` claims,
advisory locks and LISTEN/NOTIFY make them one service. SQLite has one writer for the whole
file: workers take turns on it (``casebot serve`` refuses Telegram there, whose per-chat order
and bot-wide send rate are PostgreSQL locks, see :func:`check_workers`).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Final

from bot.ops.logs import WORKER_ENV
from bot.settings import ConfigError, Settings

__all__ = ["Supervisor", "check_workers", "worker_number"]

logger = logging.getLogger(__name__)

MAX_WORKERS: Final = 64
FIRST_PAUSE: Final = 0.5  # seconds before restarting a worker that died
LONGEST_PAUSE: Final = 30.0
SETTLED_AFTER: Final = 30.0  # a worker that served this long died by accident, not at start
CONFIG_EXIT: Final = 2  # what ``casebot`` returns for a configuration it cannot use
_PR_SET_PDEATHSIG: Final = 1


def worker_number() -> int | None:
    """This process's worker number when a supervisor started it, else None."""
    value = os.environ.get(WORKER_ENV, "")
    return int(value) if value.isdigit() else None


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse a number of workers these settings cannot run.

    Raises:
        ConfigError: fewer than 1 or more than :data:`MAX_WORKERS`; several workers with
            Telegram polling (one bot polls from one process) or with Telegram on SQLite
            (each chat's order and the bot's send rate are held by PostgreSQL locks).
    """
    if not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(f"--workers must be from 1 to {MAX_WORKERS}, got {workers}")
    if workers == 1 or settings.telegram_token is None:
        return
    if settings.webhook_url is None:
        raise ConfigError(
            "--workers above 1 needs Telegram in webhook mode: set CASEBOT_WEBHOOK_URL "
            "(a bot polls for updates from one process only), or run one worker"
        )
    if settings.database_url.startswith("sqlite"):
        raise ConfigError(
            "--workers above 1 with Telegram needs PostgreSQL: set CASEBOT_DATABASE_URL to a "
            "postgresql:// URL (each chat's order and the bot's send rate are PostgreSQL "
            "locks), or run one worker"
        )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class _Worker:
    number: int
    process: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Runs ``workers`` copies of ``command`` until told to stop (see the module docstring).

    Attributes:
        command: the worker's command line (``python -m bot serve ... --workers 1``).
        workers: how many.
        env: the workers' environment (default: this process's); each also gets its number.
        stop_timeout: seconds a worker may take to drain after SIGTERM before it is killed.
    """

    command: Sequence[str]
    workers: int
    env: Mapping[str, str] | None = None
    stop_timeout: float = 30.0
    _pool: list[_Worker] = field(default_factory=list)
    _stopping: bool = False

    def run(self) -> int:
        """Start the workers and keep them running until SIGTERM or SIGINT.

        Returns:
            0 after a clean stop; 2 when a worker refused its configuration at start.
        """
        previous = {
            signum: signal.signal(signum, self._on_signal)
            for signum in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self._pool = [_Worker(n) for n in range(1, self.workers + 1)]
            for worker in self._pool:
                self._start(worker)
            status = self._watch()
            self._stop_all()
            return status
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def pids(self) -> list[int]:
        """The process ids of the workers running now."""
        return [w.process.pid for w in self._pool if w.process and w.process.poll() is None]

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if not self._stopping:
            logger.info("%s: stopping the workers", signal.Signals(signum).name)
        self._stopping = True

    def _start(self, worker: _Worker) -> None:
        env = dict(self.env if self.env is not None else os.environ)
        env[WORKER_ENV] = str(worker.number)
        worker.process = subprocess.Popen(  # noqa: S603 (our own command line)
            list(self.command),
            env=env,
            process_group=0,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        worker.started = time.monotonic()
        worker.restart_at = None
        logger.info(
            "worker %d started (pid %d)",
            worker.number,
            worker.process.pid,
            extra={"worker": worker.number, "pid": worker.process.pid},
        )

    def _watch(self) -> int:
        while not self._stopping:
            now = time.monotonic()
            for worker in self._pool:
                if worker.restart_at is not None:
                    if now >= worker.restart_at:
                        self._start(worker)
                    continue
                assert worker.process is not None
                code = worker.process.poll()
                if code is None:
                    continue
                lived = now - worker.started
                if code == CONFIG_EXIT and lived < SETTLED_AFTER:
                    logger.error(
                        "worker %d exited with status 2 (its configuration): stopping",
                        worker.number,
                        extra={"worker": worker.number, "exit": code},
                    )
                    return CONFIG_EXIT
                worker.quick_deaths = 0 if lived >= SETTLED_AFTER else worker.quick_deaths + 1
                pause = min(LONGEST_PAUSE, FIRST_PAUSE * 2 ** max(0, worker.quick_deaths - 1))
                worker.restart_at = now + pause
                logger.warning(
                    "worker %d (pid %d) exited with status %d after %.1f s; restarting in %.1f s",
                    worker.number,
                    worker.process.pid,
                    code,
                    lived,
                    pause,
                    extra={"worker": worker.number, "pid": worker.process.pid, "exit": code},
                )
            time.sleep(0.1)
        return 0

    def _stop_all(self) -> None:
        running = [w.process for w in self._pool if w.process and w.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("worker pid %d did not stop in time: killed", process.pid)
                process.kill()
                process.wait()
        logger.info("all workers stopped")
