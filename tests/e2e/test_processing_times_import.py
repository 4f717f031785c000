"""``casebot admin import-processing-times FILE.csv``: all rows or none, bad rows by line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from core.db import Database
from core.processing_times import processing_times_for
from core.uow import UnitOfWorkFactory

GOOD = (
    "form,office,range,date\n"
    "I-765,National Benefits Center,3 to 7 months,2026-11-20\n"
    "i765,Potomac Service Center,5 to 9 months,2026-11-20\n"
    "N-400,Chicago IL,6 to 10 months,2026-11-20\n"
)


@pytest.fixture
def casebot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, pytest.CaptureFixture[str]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USER", "olga")
    monkeypatch.setenv("LOGNAME", "olga")
    database = tmp_path / "times.sqlite3"
    monkeypatch.setenv("CASEBOT_DATABASE_URL", f"sqlite:///{database}")
    assert main(["admin", "migrate"]) == 0
    capsys.readouterr()
    return database, capsys


def run(
    casebot: tuple[Path, pytest.CaptureFixture[str]], path: Path, text: str
) -> tuple[int, str, str]:
    path.write_text(text, encoding="utf-8")
    code = main(["admin", "import-processing-times", str(path)])
    out, err = casebot[1].readouterr()
    return code, out, err


def loaded(database: Path, form: str) -> list[tuple[str, str, str]]:
    async def _read() -> list[tuple[str, str, str]]:
        db = Database(f"sqlite+aiosqlite:///{database}")
        try:
            async with UnitOfWorkFactory(db)() as uow:
                times = await processing_times_for(uow, form)
                return [(t.office, t.time_range, t.as_of.isoformat()) for t in times]
        finally:
            await db.dispose()

    return asyncio.run(_read())


def test_a_good_file_replaces_the_times_and_is_audited(
    casebot: tuple[Path, pytest.CaptureFixture[str]], tmp_path: Path
) -> None:
    code, out, err = run(casebot, tmp_path / "times.csv", GOOD)
    assert (code, err) == (0, "")
    assert "loaded 3 processing time(s)" in out
    assert loaded(casebot[0], "i-765") == [
        ("National Benefits Center", "3 to 7 months", "2026-11-20"),
        ("Potomac Service Center", "5 to 9 months", "2026-11-20"),
    ]
    newer = "form,office,range,date\nI-765,Texas Service Center,4 to 6 months,2026-12-01\n"
    assert run(casebot, tmp_path / "newer.csv", newer)[0] == 0
    assert loaded(casebot[0], "I-765") == [("Texas Service Center", "4 to 6 months", "2026-12-01")]
    assert loaded(casebot[0], "N-400") == []  # the file replaces the table whole
    main(["admin", "audit", "list", "--action", "processing_times.import"])
    assert "cli:olga\tprocessing_times.import" in casebot[1].readouterr().out


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(
    casebot: tuple[Path, pytest.CaptureFixture[str]], tmp_path: Path
) -> None:
    assert run(casebot, tmp_path / "times.csv", GOOD)[0] == 0
    bad = (
        "form,office,range,date\n"
        "I-485,Nebraska Service Center,8 to 12 months,2026-12-01\n"
        "banana,Texas,3 months,2026-12-01\n"
        "I-130,California,,2026-12-01\n"
        "I-90,Vermont,2 months,01/12/2026\n"
    )
    code, out, err = run(casebot, tmp_path / "bad.csv", bad)
    assert code == 1
    assert out == ""
    assert "bad.csv:3: form: not a form type" in err
    assert "bad.csv:4: range: a required value is empty" in err
    assert "bad.csv:5: date: not a date in the form YYYY-MM-DD" in err
    assert "nothing imported (3 bad row(s))" in err
    assert loaded(casebot[0], "I-485") == []  # not even the good row
    assert len(loaded(casebot[0], "I-765")) == 2  # the previous file stays


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("form,office,range\nI-765,X,3 months\n", "1: the header lacks required columns (date)"),
        ("form,office,range,date\n", "2: the file has no rows"),
        (
            "form,office,range,date\nI-765,X,3 months,2026-01-01\ni765,x,4 months,2026-01-01\n",
            "3: office: this form and office are in the file already (line 2)",
        ),
    ],
)
def test_a_malformed_file_is_refused(
    casebot: tuple[Path, pytest.CaptureFixture[str]], tmp_path: Path, text: str, message: str
) -> None:
    code, _out, err = run(casebot, tmp_path / "t.csv", text)
    assert code == 1
    assert message in err


def test_a_file_that_is_not_utf8_is_refused(
    casebot: tuple[Path, pytest.CaptureFixture[str]], tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("form,office,range,date\nI-765,Montréal,3 mois,2026-01-01\n".encode("latin-1"))
    assert main(["admin", "import-processing-times", str(path)]) == 1
    assert "not UTF-8" in casebot[1].readouterr().err
