"""``casebot admin staff`` as an operator runs it, on a real SQLite file: adding an agent
prints a one-time set-up link, listing, disabling, a new link; bad input is a sentence and
exit status 2, never a traceback; every change is in the audit log."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main

Run = tuple[int, str, str]
Runner = Callable[..., Run]


@pytest.fixture
def run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Runner:
    monkeypatch.chdir(tmp_path)
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "olga")
    monkeypatch.setenv("CASEBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'staff.sqlite3'}")
    monkeypatch.setenv("CASEBOT_PUBLIC_URL", "https://help.example.org")
    assert main(["admin", "migrate"]) == 0
    capsys.readouterr()

    def runner(*argv: str) -> Run:
        code = main(["admin", *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return runner


def test_adding_an_agent_prints_a_one_time_set_up_link(run: Runner) -> None:
    code, out, err = run(
        "staff", "add", "Maria@Agency.example", "--name", "Maria", "--languages", "en,ES"
    )
    assert code == 0, err
    assert "staff maria@agency.example added: Maria, agent, en, es" in out
    link = re.search(r"https://help\.example\.org/console#setup=([A-Za-z0-9_-]{32})", out)
    assert link is not None, out
    assert f"set-up code: {link[1]}" in out

    code, out, _ = run("staff", "list")
    assert code == 0
    assert out.split("\t")[:5] == [
        "maria@agency.example",
        "Maria",
        "agent",
        "en,es",
        "set-up pending",
    ]
    assert link[1] not in out

    code, out, _ = run("audit", "list", "--action", "staff.add")
    assert "cli:olga\tstaff.add\tstaff:maria@agency.example\tchanged" in out
    assert link[1] not in out  # the code is never in the audit log


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x@agency.example", "--name", "X", "--languages", "en,de"], "unknown language 'de'"),
        (["x@agency.example", "--name", "X", "--languages", ","], "at least one language"),
        (["not-an-email", "--name", "X", "--languages", "en"], "not an email address"),
        (["x@agency.example", "--name", "  ", "--languages", "en"], "1 to 100 characters"),
        (["maria@agency.example", "--name", "M", "--languages", "en"], "exists already"),
    ],
)
def test_bad_input_is_a_sentence_and_status_2(run: Runner, argv: list[str], message: str) -> None:
    assert (
        run("staff", "add", "maria@agency.example", "--name", "Maria", "--languages", "en")[0] == 0
    )
    code, out, err = run("staff", "add", *argv)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out


def test_a_bad_role_is_refused_by_the_command_line(run: Runner) -> None:
    with pytest.raises(SystemExit) as exited:
        run(
            "staff", "add", "x@agency.example", "--name", "X", "--languages", "en", "--role", "boss"
        )
    assert exited.value.code == 2


def test_disabling_and_a_new_link(run: Runner) -> None:
    run(
        "staff",
        "add",
        "li@agency.example",
        "--name",
        "Li",
        "--languages",
        "zh",
        "--role",
        "supervisor",
    )
    code, out, _ = run("staff", "disable", "li@agency.example")
    assert (code, out.strip()) == (0, "disabled; their console sessions are ended")
    assert "\tsupervisor\tzh\tdisabled\t" in run("staff", "list")[1]
    code, _, err = run("staff", "disable", "nobody@agency.example")
    assert code == 2
    assert "no staff member has the email nobody@agency.example" in err
    code, out, _ = run("staff", "reset", "li@agency.example")
    assert code == 0
    assert "/console#setup=" in out
    assert "set-up pending" in run("staff", "list")[1]
    actions = run("audit", "list")[1]
    assert "staff.disable" in actions
    assert "staff.reset" in actions
