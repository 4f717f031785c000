"""``casebot chat`` in a real process, typed into like a person would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_command_line import run_casebot


def chat(tmp_path: Path, *lines: str, lang: str | None = None, demo: bool = False) -> str:
    return chat_process(tmp_path, *lines, lang=lang, demo=demo).stdout


def chat_process(
    tmp_path: Path, *lines: str, lang: str | None = None, demo: bool = False
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_")}
    args = [sys.executable, "-m", "bot", "chat"] + (["--lang", lang] if lang else [])
    args += ["--demo"] if demo else []
    done = subprocess.run(
        args,
        cwd=tmp_path,
        env=environment,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_the_menu_shows_numbered_buttons_and_a_number_presses_one(tmp_path: Path) -> None:
    out = chat(tmp_path, "8")  # the 8th entry of the menu: Help (with no flow signed in)
    assert "What would you like to do?" in out
    assert "  1. " in out
    assert "I can check a case status" in out


def test_a_receipt_number_typed_at_the_menu_looks_the_case_up(tmp_path: Path) -> None:
    out = chat(tmp_path, "what about wac 2212345678?", demo=True)
    assert "Case Was Approved" in out


def test_chat_on_an_empty_database_says_how_to_load_the_demo(tmp_path: Path) -> None:
    done = chat_process(tmp_path, "what about wac 2212345678?")
    assert "Case Was Approved" not in done.stdout
    assert "casebot chat --demo" in done.stderr
    again = chat_process(tmp_path, "menu", demo=True)  # the schema is there, the data is not
    assert "casebot chat --demo" not in again.stderr
    assert "Case Was Approved" in chat(tmp_path, "what about wac 2212345678?")


def test_the_conversation_resumes_in_the_next_session(tmp_path: Path) -> None:
    assert run_casebot("demo", cwd=tmp_path).returncode == 0
    chat(tmp_path, "language")
    out = chat(tmp_path)  # a new process: the language picker is still open
    assert "Choose your language" in out
