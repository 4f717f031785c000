"""JSON log lines for a collector, and the numbers of workers ``casebot serve`` refuses."""

from __future__ import annotations

import json
import logging

import pytest

from bot.ops.logs import JsonFormatter
from bot.ops.supervisor import check_workers
from bot.settings import ConfigError, Settings

PG_URL = "postgresql://u@h:5432/d"
WEBHOOK = "https://bot.example.org/telegram/webhook"


def test_a_json_log_line_is_one_object_with_the_turns_channel_step_and_latency() -> None:
    record = logging.LogRecord("bot.ops.metrics", logging.INFO, __file__, 1, "turn", None, None)
    record.__dict__.update(channel="webchat", step="cases.receipt", latency_ms=12.5, noise="x")
    line = JsonFormatter(worker=2).format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "turn"
    assert (data["level"], data["logger"], data["worker"]) == ("INFO", "bot.ops.metrics", 2)
    assert (data["channel"], data["step"], data["latency_ms"]) == ("webchat", "cases.receipt", 12.5)
    assert "noise" not in data  # only the known fields leave the record
    assert data["time"].endswith("Z")


def test_several_workers_run_the_web_chat_on_sqlite_and_everything_on_postgresql() -> None:
    check_workers(Settings.from_env({}), 4)
    check_workers(
        Settings.from_env(
            {"CASEBOT_DATABASE_URL": PG_URL, "TELEGRAM_BOT_TOKEN": "1:t",
             "CASEBOT_WEBHOOK_URL": WEBHOOK, "CASEBOT_SECRET_KEY": "k" * 40}
        ),
        4,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("environ", "workers", "names"),
    [
        ({}, 0, "--workers"),
        ({}, 65, "--workers"),
        ({"CASEBOT_DATABASE_URL": PG_URL, "TELEGRAM_BOT_TOKEN": "1:t"}, 2, "CASEBOT_WEBHOOK_URL"),
        (
            {
                "TELEGRAM_BOT_TOKEN": "1:t",
                "CASEBOT_WEBHOOK_URL": WEBHOOK,
                "CASEBOT_SECRET_KEY": "k" * 40,
            },
            2,
            "CASEBOT_DATABASE_URL",
        ),
    ],
)
def test_workers_that_cannot_work_are_refused_at_start_naming_the_fix(
    environ: dict[str, str], workers: int, names: str
) -> None:
    with pytest.raises(ConfigError, match=names):
        check_workers(Settings.from_env(environ), workers)
