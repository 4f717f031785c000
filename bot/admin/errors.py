"""The operator tools' words for the domain's refusals: an HTTP status, a stable code and an
English sentence (the admin command line and HTTP API are English only), shared by both."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from core import errors as e
from core.importer import ImportFailed

__all__ = ["AdminRefusal", "describe_refusal"]

_OFFICE_FIELDS: Final = {
    "code": "the office code must be 2 to 10 letters and digits, e.g. NYC",
    "name": "the name must be 1 to 120 characters on one line",
    "address": "the address must be 1 to 200 characters on one line",
    "city": "the city must be 1 to 80 characters on one line",
    "state": "the state must be a US state or territory, e.g. NY or New York",
    "zip_code": "the ZIP code must be 5 digits, e.g. 10278",
    "timezone": "the time zone must be an IANA zone, e.g. America/New_York",
    "services": "services must be one or both of biometrics and in_person",
    "hours": "each weekday's hours must close after they open",
    "slot_minutes": "slot_minutes must be a whole number from 5 to 480",
    "capacity": "capacity must be a whole number from 1 to 500",
    "day": "the day must be today or later (in the office's time zone), within two years",
    "reason": "the reason must be at most 200 characters on one line",
}


@dataclass(frozen=True, slots=True)
class AdminRefusal:
    """How to answer a refused operator action."""

    status: int
    code: str
    message: str
    details: list[dict[str, Any]] = field(default_factory=list)


def describe_refusal(error: Exception) -> AdminRefusal | None:
    """The answer to a refusal, or None when ``error`` is no refusal (a bug: let it raise)."""
    match error:
        case ImportFailed(problems=problems):
            return AdminRefusal(
                422,
                "import_failed",
                f"Nothing was imported: {len(problems)} problem(s) in the file.",
                [
                    {"line": p.line, "column": p.column, "reason": p.reason, "message": p.message}
                    for p in problems
                ],
            )
        case e.InvalidReceiptNumber():
            return AdminRefusal(
                400,
                "bad_receipt_number",
                "Not a receipt number: 3 letters and 10 digits, e.g. IOE0912345678.",
            )
        case e.UnknownStatus(status=status):
            return AdminRefusal(
                400, "unknown_status", f"No status has the title or code {status!r}."
            )
        case e.InvalidOfficeData(field=name):
            text = _OFFICE_FIELDS.get(name, f"{name} cannot be used")
            return AdminRefusal(
                400, "bad_office_data", text[0].upper() + text[1:] + ".", [{"field": name}]
            )
        case e.UnknownState(state=state):
            return AdminRefusal(
                400,
                "bad_office_data",
                f"{state!r} is no US state or territory.",
                [{"field": "state"}],
            )
        case e.InvalidZipCode(zip_code=zip_code):
            return AdminRefusal(
                400, "bad_office_data", f"{zip_code!r} is no US ZIP code.", [{"field": "zip_code"}]
            )
        case e.InvalidDateRange():
            return AdminRefusal(400, "bad_date_range", "The last day comes before the first.")
        case e.CaseNotFound():
            return AdminRefusal(404, "case_not_found", "There is no case with this receipt number.")
        case e.OfficeNotFound(office=office):
            return AdminRefusal(404, "office_not_found", f"There is no office {office!r}.")
        case e.OfficeCodeTaken(code=code):
            return AdminRefusal(409, "office_code_taken", f"Another office has the code {code}.")
        case e.DomainError():
            return AdminRefusal(409, "refused", f"Refused: {type(error).__name__}.")
    return None
