"""What an import is made of: checked rows, problems by line, and the outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final

from core.cases.receipt import ReceiptNumber
from core.cases.statuses import Status
from core.errors import DomainError

__all__ = ["REASONS", "CaseRow", "ImportFailed", "ImportResult", "RowProblem"]


@dataclass(frozen=True, slots=True)
class RowProblem:
    """What is wrong with one line of the file.

    Attributes:
        line: the line number in the file (the header is line 1).
        column: the column at fault, or None for the row or the file as a whole.
        reason: a code: ``missing_columns``, ``unknown_columns``, ``empty``, ``receipt_number``,
            ``form_type``, ``status``, ``received_date``, ``owner_email``, ``unknown_owner``,
            ``access_code``, ``duplicate``, ``too_many_values``, ``not_utf8``, ``no_rows``,
            ``conflict``, ``bad_csv`` (and, for processing times, ``duplicate_time`` and
            ``too_long``).
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
        text = REASONS.get(self.reason, self.reason)
        return f"{where}{text}" + (f" ({self.detail})" if self.detail else "")


REASONS: Final = {
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
    "bad_csv": "the file cannot be read as CSV from here on",
    "duplicate_time": "this form and office are in the file already",
    "too_long": "the value is longer than allowed",
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
    """How many rows created a case, changed one, or found it as the file says already;
    ``notified`` counts the status-change notifications queued."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notified: int = 0


@dataclass(eq=False)
class ImportFailed(DomainError):
    """The file has bad rows; nothing of it was applied."""

    problems: list[RowProblem] = field(default_factory=list)
