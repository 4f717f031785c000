"""Logging for an operator: plain text for a terminal, or one JSON object a line for a collector.

``CASEBOT_LOG_FORMAT=json`` makes every record one line such as::

    {"time": "2026-11-01T12:00:00.123Z", "level": "INFO", "logger": "bot.ops.metrics",
     "message": "turn", "worker": 2, "channel": "webchat", "step": "cases.receipt",
     "latency_ms": 12.5}

A record's ``extra`` fields named in :data:`EXTRA_FIELDS` become keys of the object; nothing
else of the record does, so an argument that a call site formats into its message is the only
way text reaches the log, and the call sites already keep secrets out of messages (the access
log drops query strings, the SQL and Telegram loggers are held at INFO or above: ``bot.cli``).
``CASEBOT_LOG_LEVEL`` sets the root level; ``--verbose`` still means DEBUG.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import Final

__all__ = ["EXTRA_FIELDS", "JsonFormatter", "configure_logging"]

TEXT_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The ``extra`` keys a record may carry into the JSON object (bounded, never personal data).
EXTRA_FIELDS: Final = ("channel", "step", "latency_ms", "status", "worker", "pid", "exit")
# Set by the supervisor (``bot.ops.supervisor``) in each worker it starts: every line says which.
WORKER_ENV: Final = "CASEBOT_WORKER"
_OURS: Final = "_casebot_handler"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ms), level, logger, message, the known extras, and
    the exception's traceback as ``exc_info`` when there is one."""

    def __init__(self, worker: int | None = None) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, object] = {
            "time": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.worker is not None:
            line["worker"] = self.worker
        for name in EXTRA_FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(*, log_format: str, level: int) -> None:
    """Install one handler on the root logger (stderr), in ``log_format`` (``text``/``json``).

    Like ``logging.basicConfig``, it leaves a root logger that already has handlers it did not
    install (a test runner's) alone; a second call replaces its own handler.
    """
    root = logging.getLogger()
    if any(not getattr(h, _OURS, False) for h in root.handlers):
        return
    worker_env = os.environ.get(WORKER_ENV, "")
    worker = int(worker_env) if worker_env.isdigit() else None
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(worker))
    else:
        prefix = f"[worker {worker}] " if worker is not None else ""
        handler.setFormatter(logging.Formatter(prefix + TEXT_FORMAT))
    setattr(handler, _OURS, True)
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
