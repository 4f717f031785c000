"""``casebot understand [--lang L] TEXT``: the installed console script, in a real process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASEBOT = shutil.which("casebot", path=str(Path(sys.executable).parent))


def run_understand(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assert CASEBOT is not None, "the casebot console script is not installed in this venv"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
    environment.update(env or {})
    return subprocess.run(
        [CASEBOT, "understand", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def only_json_object(output: str) -> dict[str, object]:
    lines = output.splitlines()
    assert len(lines) == 1, output
    found = json.loads(lines[0])
    assert isinstance(found, dict)
    assert set(found) == {"intent", "receipt_number", "language", "topic"}
    return found


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["check", "my", "case"],
            {"intent": "case_status", "receipt_number": None, "language": "en", "topic": None},
        ),
        (
            ["--lang", "es", "quiero ver mi caso wac-2212345678"],
            {
                "intent": "case_status",
                "receipt_number": "WAC2212345678",
                "language": "es",
                "topic": None,
            },
        ),
        (
            ["예약 취소해 주세요"],
            {"intent": "appointment", "receipt_number": None, "language": "ko", "topic": None},
        ),
        (
            ["WAC2212345678"],
            {
                "intent": "case_status",
                "receipt_number": "WAC2212345678",
                "language": None,
                "topic": None,
            },
        ),
        (["ok"], {"intent": "unknown", "receipt_number": None, "language": None, "topic": None}),
        ([""], {"intent": "unknown", "receipt_number": None, "language": None, "topic": None}),
        (
            ["where do i find my receipt number"],
            {
                "intent": "case_status",
                "receipt_number": None,
                "language": "en",
                "topic": "receipt_number",
            },
        ),
        (
            ["someone called asking for my password, is that USCIS?"],
            {
                "intent": "password_reset",
                "receipt_number": None,
                "language": "en",
                "topic": "scam_call",
            },
        ),
    ],
)
def test_prints_one_json_object_with_the_contract_keys(
    tmp_path: Path, args: list[str], expected: dict[str, object]
) -> None:
    result = run_understand(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert only_json_object(result.stdout) == expected
    assert result.stderr == ""


def test_the_language_option_is_a_hint_for_an_ambiguous_text(tmp_path: Path) -> None:
    alone = only_json_object(run_understand("ajuda ai", cwd=tmp_path).stdout)
    hinted = only_json_object(run_understand("--lang", "pt-BR", "ajuda ai", cwd=tmp_path).stdout)
    assert (alone["intent"], alone["language"]) == ("help", None)
    assert (hinted["intent"], hinted["language"]) == ("help", "pt")
    clear = only_json_object(
        run_understand("--lang", "es", "where is my case", cwd=tmp_path).stdout
    )
    assert clear["language"] == "en"  # a hint, not an override


def test_an_unsupported_language_is_refused_with_the_choices(tmp_path: Path) -> None:
    result = run_understand("--lang", "klingon", "hello", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "klingon" in result.stderr
    assert "en, es, zh" in result.stderr


def test_a_missing_text_is_a_usage_error(tmp_path: Path) -> None:
    result = run_understand(cwd=tmp_path)
    assert result.returncode == 2
    assert "text" in result.stderr


def test_needs_no_database_nor_configuration(tmp_path: Path) -> None:
    result = run_understand(
        "forgot my password",
        cwd=tmp_path,
        env={"CASEBOT_DATABASE_URL": "not-a-url", "CASEBOT_SECRET_KEY": "short"},
    )
    assert result.returncode == 0, result.stderr
    assert only_json_object(result.stdout)["intent"] == "password_reset"
    assert list(tmp_path.iterdir()) == []  # no ./var, no database file
