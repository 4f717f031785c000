"""``casebot chat`` in a real process, typed into like a person would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.channels.terminal_text import display_width
from bot.wording.i18n import translator
from tests.e2e.test_command_line import run_casebot


def chat(
    tmp_path: Path,
    *lines: str,
    lang: str | None = None,
    demo: bool = False,
    columns: int | None = None,
) -> str:
    return chat_process(tmp_path, *lines, lang=lang, demo=demo, columns=columns).stdout


def chat_process(
    tmp_path: Path,
    *lines: str,
    lang: str | None = None,
    demo: bool = False,
    columns: int | None = None,
) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("CASEBOT_") and k != "COLUMNS"
    }
    if columns is not None:  # the terminal's width (a pipe is not broken into lines otherwise)
        environment["COLUMNS"] = str(columns)
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
    out = chat(tmp_path, "7")  # the 7th entry of the menu: Help (signed in or not)
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


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_lines_break_between_words_to_fit_a_narrow_terminal(tmp_path: Path, lang: str) -> None:
    """At 32 columns no line is wider (a terminal would cut it mid-word: "the n / otice"), and
    the words are the same as unbroken: no word was cut. Chinese may break between characters."""
    typed = ("help",)
    # Each in its own folder, so both are a conversation's first turns (the greeting).
    (tmp_path / "wide").mkdir()
    (tmp_path / "narrow").mkdir()
    unbroken = chat(tmp_path / "wide", *typed, lang=lang)
    narrow = chat(tmp_path / "narrow", *typed, lang=lang, columns=32)
    # (A "> " prompt starts the next output line here: what is typed is not echoed to a pipe.)
    lines = [line.removeprefix("> ") for line in narrow.split("\n")]
    assert max(display_width(line) for line in unbroken.split("\n")) > 32  # it had to break
    # Only a single word longer than the line (a web address) may stay wider; CJK text breaks.
    breakable = [line for line in lines if len(line.split()) > 1 or display_width(line) > len(line)]
    too_wide = [line for line in breakable if display_width(line) > 32]
    assert too_wide == []
    if lang == "zh":
        assert "".join(narrow.split()) == "".join(unbroken.split())
    else:
        assert narrow.split() == unbroken.split()


def test_a_secret_step_says_in_words_that_the_typing_stays_hidden(tmp_path: Path) -> None:
    out = chat(tmp_path, "4", "demo@example.com", lang="es", demo=True)
    _ = translator("es")._
    hint = _(
        "Type your answer, then press Enter. It stays hidden: nothing shows on the screen as "
        "you type."
    )
    assert "nothing shows" not in hint  # translated
    assert hint in out
    assert out.rstrip().endswith("🔒")
