"""Checking a cases CSV file row by row, before anything touches the database.

The file has a header row with the columns ``receipt_number``, ``form_type`` and ``status``
(an official title or a code), and optionally ``received_date`` (YYYY-MM-DD), ``owner_email``
and ``access_code``. Problems carry data (line, column, a reason code); the operator tools word
them.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from typing import Final

from core.accounts.policy import validate_email
from core.cases.access_code import normalize_access_code
from core.cases.receipt import ReceiptNumber
from core.cases.service import normalize_form_type
from core.cases.statuses import Status, get_status
from core.errors import InvalidEmail, InvalidReceiptNumber, UnknownStatus
from core.importer.rows import CaseRow, RowProblem

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS", "parse_cases_csv"]

REQUIRED_COLUMNS: Final = ("receipt_number", "form_type", "status")
OPTIONAL_COLUMNS: Final = ("received_date", "owner_email", "access_code")
_ACCESS_CODE: Final = re.compile(r"^[A-Z0-9]{12}$")


def parse_cases_csv(text: str) -> tuple[list[CaseRow], list[RowProblem]]:
    """Check every row of a cases file without touching the database.

    Returns:
        The good rows and the problems, in file order.
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except csv.Error as exc:
        return [], [RowProblem(1, None, "bad_csv", str(exc))]
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
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a value longer than the csv module allows
            problems.append(RowProblem(end_of_previous + 1, None, "bad_csv", str(exc)))
            break
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
