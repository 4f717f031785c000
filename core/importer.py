"""Importing cases from a CSV file: every row checked first, then all applied or nothing.

The file has a header row with the columns ``receipt_number``, ``form_type`` and ``status``
(an official title or a code), and optionally ``received_date`` (YYYY-MM-DD), ``owner_email``
and ``access_code``. Problems carry data (line, column, the domain error or a reason code); the
command line words them.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.accounts.models import Account
from core.accounts.policy import validate_email
from core.cases.access_code import normalize_access_code
from core.cases.receipt import ReceiptNumber
from core.cases.service import normalize_form_type, upsert_case
from core.cases.statuses import Status, get_status
from core.errors import DomainError, InvalidEmail, InvalidReceiptNumber, UnknownStatus
from core.uow import UnitOfWorkFactory

__all__ = [
    "CaseRow",
    "ImportFailed",
    "ImportResult",
    "RowProblem",
    "import_cases",
    "import_cases_file",
    "parse_cases_csv",
]

REQUIRED_COLUMNS: Final = ("receipt_number", "form_type", "status")
OPTIONAL_COLUMNS: Final = ("received_date", "owner_email", "access_code")
_ACCESS_CODE: Final = re.compile(r"^[A-Z0-9]{12}$")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """What is wrong with one line of the file.

    Attributes:
        line: the line number in the file (the header is line 1).
        column: the column at fault, or None for the row or the file as a whole.
        reason: a code: ``missing_columns``, ``unknown_columns``, ``empty``, ``receipt_number``,
            ``form_type``, ``status``, ``received_date``, ``owner_email``, ``unknown_owner``,
            ``access_code``, ``duplicate``, ``too_many_values``, ``not_utf8``, ``no_rows``,
            ``conflict``.
        detail: data for the message (the bad value, the other line, ...).
    """

    line: int
    column: str | None
    reason: str
    detail: str = ""

    @property
    def message(self) -> str:
        """An operator-facing English sentence (the admin tools are English only)."""
        where = f"{self.column}: " if self.column else ""
        text = _REASONS.get(self.reason, self.reason)
        return f"{where}{text}" + (f" ({self.detail})" if self.detail else "")


_REASONS: Final = {
    "missing_columns": "the header lacks required columns",
    "unknown_columns": "the header has columns casebot does not know",
    "empty": "a required value is empty",
    "receipt_number": "not a receipt number (3 letters and 10 digits, e.g. IOE0912345678)",
    "form_type": "not a form type (e.g. I-485)",
    "status": "no status has this title or code",
    "received_date": "not a date in the form YYYY-MM-DD",
    "owner_email": "not an email address",
    "unknown_owner": "no account has this email",
    "access_code": "an Online Access Code is 12 letters and digits",
    "duplicate": "this receipt number is in the file already",
    "not_utf8": "the file is not UTF-8 text",
    "no_rows": "the file has no rows",
    "conflict": "the row clashes with the database",
    "too_many_values": "the row has more values than the header has columns",
}


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One checked row."""

    line: int
    receipt_number: ReceiptNumber
    form_type: str
    status: Status
    received_date: date | None = None
    owner_email: str | None = None
    access_code: str | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(eq=False)
class ImportFailed(DomainError):
    """The file has bad rows; nothing of it was applied."""

    problems: list[RowProblem] = field(default_factory=list)


def parse_cases_csv(text: str) -> tuple[list[CaseRow], list[RowProblem]]:
    """Check every row of a cases file without touching the database.

    Returns:
        The good rows and the problems, in file order.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    problems: list[RowProblem] = []
    if missing:
        problems.append(RowProblem(1, None, "missing_columns", ", ".join(missing)))
    if unknown:
        problems.append(RowProblem(1, None, "unknown_columns", ", ".join(unknown)))
    if problems:
        return [], problems
    rows: list[CaseRow] = []
    seen: dict[str, int] = {}
    end_of_previous = reader.line_num
    for record in reader:
        # The line the row starts on, even when a quoted value spans several lines.
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not any(value.strip() for value in record):
            continue  # a blank line
        if len(record) > len(header):
            problems.append(RowProblem(line, None, "too_many_values", str(len(record))))
            continue
        values = {column: value.strip() for column, value in zip(header, record, strict=False)}
        row, row_problems = _check_row(line, values)
        problems += row_problems
        if row is None:
            continue
        key = str(row.receipt_number)
        if key in seen:
            problems.append(RowProblem(line, "receipt_number", "duplicate", f"line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    if not rows and not problems:
        problems.append(RowProblem(1, None, "no_rows"))
    return rows, problems


def _check_row(line: int, values: dict[str, str]) -> tuple[CaseRow | None, list[RowProblem]]:
    problems: list[RowProblem] = []
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            problems.append(RowProblem(line, column, "empty"))
    if problems:
        return None, problems
    receipt: ReceiptNumber | None = None
    status: Status | None = None
    try:
        receipt = ReceiptNumber.parse(values["receipt_number"])
    except InvalidReceiptNumber:
        problems.append(RowProblem(line, "receipt_number", "receipt_number"))
    form_type = values["form_type"]
    try:
        form_type = normalize_form_type(form_type)
    except ValueError:
        problems.append(RowProblem(line, "form_type", "form_type", values["form_type"]))
    try:
        status = get_status(values["status"])
    except UnknownStatus:
        problems.append(RowProblem(line, "status", "status", values["status"]))
    received: date | None = None
    if values.get("received_date"):
        try:
            received = date.fromisoformat(values["received_date"])
        except ValueError:
            problems.append(
                RowProblem(line, "received_date", "received_date", values["received_date"])
            )
    email = values.get("owner_email") or None
    if email is not None:
        try:
            email = validate_email(email)
        except InvalidEmail:
            problems.append(RowProblem(line, "owner_email", "owner_email"))
    access_code = normalize_access_code(values.get("access_code", "")) or None
    if access_code is not None and not _ACCESS_CODE.match(access_code):
        problems.append(RowProblem(line, "access_code", "access_code"))
    if problems or receipt is None or status is None:
        return None, problems
    return CaseRow(line, receipt, form_type, status, received, email, access_code), []


async def import_cases(uow_factory: UnitOfWorkFactory, rows: Sequence[CaseRow]) -> ImportResult:
    """Apply checked rows in one transaction: all of them, or none when one clashes.

    Raises:
        ImportFailed: an owner email names no account, or a row clashes with the database.
    """
    created = updated = unchanged = 0
    async with uow_factory() as uow:
        owners = await _owner_ids(uow.session, {r.owner_email for r in rows if r.owner_email})
        problems = [
            RowProblem(r.line, "owner_email", "unknown_owner", r.owner_email)
            for r in rows
            if r.owner_email and r.owner_email not in owners
        ]
        if problems:
            raise ImportFailed(problems)
        for row in rows:
            try:
                _case, was_created, changed = await upsert_case(
                    uow,
                    receipt_number=row.receipt_number,
                    form_type=row.form_type,
                    status=row.status.code,
                    received_date=row.received_date,
                    owner_id=owners.get(row.owner_email) if row.owner_email else None,
                    access_code=row.access_code,
                )
            except DomainError as exc:
                problems.append(RowProblem(row.line, None, "conflict", type(exc).__name__))
                continue
            if was_created:
                created += 1
            elif changed:
                updated += 1
            else:
                unchanged += 1
        if problems:
            raise ImportFailed(problems)
        await uow.commit()
    return ImportResult(created, updated, unchanged)


async def _owner_ids(session: AsyncSession, emails: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(emails))
    if not wanted:
        return {}
    rows = await session.execute(select(Account.email, Account.id).where(Account.email.in_(wanted)))
    return {email: account_id for email, account_id in rows}


async def import_cases_file(uow_factory: UnitOfWorkFactory, path: Path) -> ImportResult:
    """Check and import a CSV file.

    Raises:
        ImportFailed: with every problem found, by line; nothing was applied.
        OSError: the file cannot be read.
    """
    try:
        text = (await asyncio.to_thread(path.read_bytes)).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([RowProblem(1, None, "not_utf8")]) from None
    rows, problems = parse_cases_csv(text)
    if problems:
        raise ImportFailed(problems)
    return await import_cases(uow_factory, rows)
