"""``casebot admin`` as an operator runs it, in this process, on a real SQLite file: offices,
hours, capacity, closures, appointments lists and exports, the audit log, and the refusals."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from core.accounts.models import Account
from core.appointments import book_appointment, list_slots
from core.appointments.models import Appointment, AppointmentStatus
from core.appointments.slots import federal_holidays
from core.cases.models import Case
from core.db import Database
from core.demo import DEMO_EMAIL
from core.uow import UnitOfWorkFactory


def business_day(after: int) -> date:
    """A weekday at least ``after`` days from today that is no federal holiday."""
    day = datetime.now(UTC).date() + timedelta(days=after)
    while day.weekday() >= 5 or day in federal_holidays([day.year]):
        day += timedelta(days=1)
    return day


@pytest.fixture
def casebot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, object]:
    """A working folder with the demo data, the operator "olga", and a runner."""
    monkeypatch.chdir(tmp_path)
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        monkeypatch.setenv(name, "olga")
    database = tmp_path / "admin.sqlite3"
    monkeypatch.setenv("CASEBOT_DATABASE_URL", f"sqlite:///{database}")
    assert main(["demo"]) == 0
    capsys.readouterr()
    return database, capsys


def run(casebot: tuple[Path, object], *argv: str) -> tuple[int, str, str]:
    _database, capsys = casebot
    code = main(["admin", *argv])
    out, err = capsys.readouterr()  # type: ignore[attr-defined]
    return code, out, err


def book_ana_at_phoenix(database: Path, day: date) -> str:
    async def _book() -> str:
        db = Database(f"sqlite+aiosqlite:///{database}")
        factory = UnitOfWorkFactory(db)
        try:
            async with factory() as uow:
                ana = await uow.session.scalar(
                    select(Account.id).where(Account.email == DEMO_EMAIL)
                )
                case = await uow.session.scalar(
                    select(Case.id).where(Case.receipt_number == "IOE0912345679")
                )
                slot = (await list_slots(uow, "PHX", day, "biometrics"))[0]
                assert ana is not None
                appointment = await book_appointment(
                    uow, account_id=ana, office_id="PHX", starts_at=slot.starts_at,
                    kind="biometrics", case_id=case,
                )  # fmt: skip
                await uow.commit()
                return appointment.confirmation_code
        finally:
            await db.dispose()

    return asyncio.run(_book())


def appointment_status(database: Path, code: str) -> AppointmentStatus:
    async def _read() -> AppointmentStatus:
        db = Database(f"sqlite+aiosqlite:///{database}")
        try:
            async with UnitOfWorkFactory(db)() as uow:
                found = await uow.session.scalar(
                    select(Appointment.status).where(Appointment.confirmation_code == code)
                )
        finally:
            await db.dispose()
        assert found is not None
        return found

    return asyncio.run(_read())


def test_an_operator_manages_an_office_and_every_change_is_in_the_audit_log(
    casebot: tuple[Path, object],
) -> None:
    code, out, err = run(
        casebot, "office", "add", "bos", "--name", "Boston Field Office",
        "--address", "170 Portland St", "--city", "Boston", "--state", "MA", "--zip", "02114",
        "--timezone", "America/New_York", "--hours", "mon=08:00-12:00", "tue=09:00-15:30",
    )  # fmt: skip
    assert (code, out.strip()) == (0, "office BOS added"), err
    assert run(casebot, "office", "update", "BOS", "--name", "Boston ASC")[1].strip() == (
        "changed: name"
    )
    assert run(casebot, "office", "update", "BOS", "--name", "Boston ASC")[1].strip() == (
        "nothing to change"
    )
    code, out, _ = run(casebot, "office", "hours", "BOS", "wed=07:30-11:00")
    assert code == 0
    assert "hours: wed 07:30-11:00" in out
    code, out, _ = run(casebot, "office", "capacity", "BOS", "4")
    assert (code, out.strip()) == (0, "office BOS: 4 per slot")
    day = business_day(10)
    code, out, _ = run(casebot, "office", "close", "BOS", day.isoformat(), "--reason", "training")
    assert code == 0
    assert f"office BOS closed on {day.isoformat()}: 0 appointment(s) cancelled" in out
    code, out, _ = run(casebot, "office", "list")
    assert "BOS\tBoston ASC, 170 Portland St, Boston, MA 02114 (America/New_York)" in out
    assert "4 per slot" in out
    assert f"closed: {day.isoformat()} (training)" in out
    assert run(casebot, "office", "reopen", "BOS", day.isoformat())[1].strip() == (
        "the day is open again"
    )
    assert run(casebot, "office", "reopen", "BOS", day.isoformat())[1].strip() == (
        "the day was not closed"
    )
    code, out, _ = run(casebot, "audit", "list")
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert [(f[2], f[3], f[4], f[5]) for f in lines] == [
        ("cli:olga", "office.add", "office:BOS", "changed"),
        ("cli:olga", "office.update", "office:BOS", "changed"),
        ("cli:olga", "office.update", "office:BOS", "unchanged"),
        ("cli:olga", "office.set_hours", "office:BOS", "changed"),
        ("cli:olga", "office.set_capacity", "office:BOS", "changed"),
        ("cli:olga", "office.close_day", "office:BOS", "changed"),
        ("cli:olga", "office.reopen_day", "office:BOS", "changed"),
        ("cli:olga", "office.reopen_day", "office:BOS", "unchanged"),
    ]
    code, out, _ = run(casebot, "audit", "list", "--action", "office.reopen_day", "--limit", "1")
    assert len(out.strip().splitlines()) == 1


def test_closing_a_day_cancels_its_appointments_which_the_export_shows(
    casebot: tuple[Path, object], tmp_path: Path
) -> None:
    database, _ = casebot
    day = business_day(3)
    booked = book_ana_at_phoenix(database, day)
    code, out, _ = run(casebot, "appointments", "list", "--office", "phx")
    assert code == 0
    assert booked in out
    assert "IOE0912345679" in out
    code, out, _ = run(casebot, "office", "close", "PHX", day.isoformat())
    assert code == 0
    assert f"1 appointment(s) cancelled ({booked})" in out
    assert appointment_status(database, booked) is AppointmentStatus.CANCELLED
    target = tmp_path / "export.csv"
    code, _out, err = run(
        casebot, "appointments", "export", "--from", day.isoformat(), "--to", day.isoformat(),
        "--status", "cancelled", "--output", str(target),
    )  # fmt: skip
    assert code == 0
    assert "1 appointment(s) written" in err
    [row] = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert (row["confirmation_code"], row["office"], row["status"]) == (booked, "PHX", "cancelled")
    assert (row["cancel_reason"], row["account_email"]) == ("office_closed", DEMO_EMAIL)
    code, out, _ = run(casebot, "appointments", "export", "--status", "booked")
    assert out.splitlines()[0].startswith("confirmation_code,office,kind,status")
    assert booked not in out
    _code, audit, _ = run(casebot, "audit", "list")
    actions = [line.split("\t")[3] for line in audit.strip().splitlines()]
    assert actions == [
        "appointments.list",
        "office.close_day",
        "appointments.export",
        "appointments.export",
    ]


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (("office", "capacity", "ZZZ", "3"), 1, "There is no office 'ZZZ'."),
        (("office", "capacity", "NYC", "0"), 1, "Capacity must be a whole number from 1 to 500."),
        (("office", "update", "NYC", "--timezone", "Mars/Base"), 1, "IANA zone"),
        (("office", "update", "NYC", "--zip", "1"), 1, "is no US ZIP code"),
        (("office", "hours", "NYC", "mon=16:00-08:00"), 2, "must close after it opens"),
        (("office", "hours", "NYC", "funday=08:00-16:00"), 2, "is not a weekday"),
        (("office", "close", "NYC", "2020-01-06"), 1, "must be today or later"),
        (("set-status", "IOE0912345678", "Case Was Eaten"), 1, "Case Was Eaten"),
        (("set-status", "IOE09", "approved"), 1, "Not a receipt number"),
        (("import-cases", "no-such-file.csv"), 1, "cannot read no-such-file.csv"),
    ],
)
def test_a_refusal_says_why_and_leaves_no_audit_entry(
    casebot: tuple[Path, object], argv: tuple[str, ...], status: int, message: str
) -> None:
    code, _out, err = run(casebot, *argv)
    assert code == status
    assert message in err
    assert run(casebot, "audit", "list")[1] == ""


def test_an_operator_unlocks_a_paper_case_s_access_code_tries(
    casebot: tuple[Path, object],
) -> None:
    code, out, err = run(casebot, "case", "unlock-access", "EAC2190012345")
    assert (code, err) == (0, "")
    assert "EAC2190012345" not in out  # receipts are not printed whole
    assert "no account had wrong access codes for this case" in out
    _code, entries, _err = run(casebot, "audit", "list", "--action", "case.unlock_access")
    assert "cli:olga\tcase.unlock_access\tcase:EAC2190012345\tunchanged" in entries
    code, _out, err = run(casebot, "case", "unlock-access", "EAC0000000001")
    assert code == 1
    assert "EAC0000000001" in err or "case" in err.lower()


@pytest.mark.parametrize(
    "argv",
    [
        ("office", "close", "NYC", "10/03/2026"),
        ("office", "capacity", "NYC", "many"),
        ("appointments", "list", "--status", "lost"),
        ("appointments", "list", "--from", "2026-02-30"),
    ],
)
def test_malformed_words_are_usage_errors(
    casebot: tuple[Path, object], argv: tuple[str, ...]
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(casebot, *argv)
    assert exited.value.code == 2
