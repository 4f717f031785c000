"""Processing times an operator loads from a CSV file, shown when someone asks how long a form
takes (with the date they are from).

The file has a header row with the columns ``form`` (a form type such as ``I-765``),
``office`` (the office or service center, as USCIS names it), ``range`` (the time, as USCIS
shows it: ``"8 to 11 months"``) and ``date`` (YYYY-MM-DD, when USCIS published it). Every row
is checked first (problems by line, as ``core.importer``); a good file replaces the table
whole, in one transaction, so people never see half of an old file and half of a new one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import Date, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from core.cases.service import normalize_form_type
from core.db import Base
from core.importer.rows import ImportFailed, RowProblem
from core.uow import UnitOfWork

__all__ = [
    "COLUMNS",
    "ProcessingTime",
    "ProcessingTimeRow",
    "parse_processing_times",
    "processing_times_for",
    "replace_processing_times",
]

COLUMNS: Final = ("form", "office", "range", "date")
MAX_OFFICE: Final = 120
MAX_RANGE: Final = 60


class ProcessingTime(Base):
    """One form at one office: how long it takes, as of a date."""

    __tablename__ = "processing_times"

    id: Mapped[int] = mapped_column(primary_key=True)
    form_type: Mapped[str] = mapped_column(String(20), index=True)
    office: Mapped[str] = mapped_column(String(MAX_OFFICE))
    time_range: Mapped[str] = mapped_column(String(MAX_RANGE))
    as_of: Mapped[date] = mapped_column(Date)


@dataclass(frozen=True, slots=True)
class ProcessingTimeRow:
    """One checked row of the file."""

    line: int
    form_type: str
    office: str
    time_range: str
    as_of: date


def parse_processing_times(data: bytes) -> list[ProcessingTimeRow]:
    """Check every row of a processing-times file, without the database.

    Raises:
        ImportFailed: the file has bad rows (each with its line), or none at all.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFailed([RowProblem(1, None, "not_utf8")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except csv.Error as exc:
        raise ImportFailed([RowProblem(1, None, "bad_csv", str(exc))]) from None
    missing = [c for c in COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(RowProblem(1, None, "missing_columns", ", ".join(missing)))
        if unknown:
            problems.append(RowProblem(1, None, "unknown_columns", ", ".join(unknown)))
        raise ImportFailed(problems)
    rows: list[ProcessingTimeRow] = []
    problems = []
    seen: dict[tuple[str, str], int] = {}
    end_of_previous = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(end_of_previous + 1, None, "bad_csv", str(exc)))
            break
        line, end_of_previous = end_of_previous + 1, reader.line_num
        if not any(value.strip() for value in record):
            continue
        if len(record) > len(header):
            problems.append(RowProblem(line, None, "too_many_values", str(len(record))))
            continue
        values = {c: v.strip() for c, v in zip(header, record, strict=False)}
        row = _check(line, values, problems)
        if row is None:
            continue
        key = (row.form_type, row.office.casefold())
        if key in seen:
            problems.append(RowProblem(line, "office", "duplicate_time", f"line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    if not rows and not problems:
        problems.append(RowProblem(2, None, "no_rows"))
    if problems:
        raise ImportFailed(problems)
    return rows


def _check(
    line: int, values: dict[str, str], problems: list[RowProblem]
) -> ProcessingTimeRow | None:
    before = len(problems)
    for column in COLUMNS:
        if not values.get(column):
            problems.append(RowProblem(line, column, "empty"))
    if len(problems) > before:
        return None
    try:
        form_type = normalize_form_type(values["form"])
    except ValueError:
        problems.append(RowProblem(line, "form", "form_type", values["form"]))
        form_type = ""
    if len(values["office"]) > MAX_OFFICE:
        problems.append(RowProblem(line, "office", "too_long", str(MAX_OFFICE)))
    if len(values["range"]) > MAX_RANGE:
        problems.append(RowProblem(line, "range", "too_long", str(MAX_RANGE)))
    try:
        as_of = date.fromisoformat(values["date"])
    except ValueError:
        problems.append(RowProblem(line, "date", "received_date", values["date"]))
        as_of = date.min
    if len(problems) > before:
        return None
    return ProcessingTimeRow(line, form_type, values["office"], values["range"], as_of)


async def replace_processing_times(uow: UnitOfWork, rows: list[ProcessingTimeRow]) -> int:
    """Replace every processing time with these rows (in the caller's unit of work).

    Returns:
        How many rows are now loaded.
    """
    await uow.session.execute(delete(ProcessingTime))
    uow.session.add_all(
        ProcessingTime(
            form_type=r.form_type, office=r.office, time_range=r.time_range, as_of=r.as_of
        )
        for r in rows
    )
    await uow.session.flush()
    return len(rows)


async def processing_times_for(uow: UnitOfWork, form_type: str) -> list[ProcessingTime]:
    """The loaded times of one form (any spelling: ``i765``, ``I-765``), by office; none when
    the form is unknown or nothing is loaded for it."""
    try:
        form_type = normalize_form_type(form_type)
    except ValueError:
        return []
    found = await uow.session.scalars(
        select(ProcessingTime)
        .where(ProcessingTime.form_type == form_type)
        .order_by(ProcessingTime.office)
    )
    return list(found)
