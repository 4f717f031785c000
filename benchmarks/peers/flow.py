"""What both peers say and read: the case-status flow's texts and the case lookup.

Plain Python, no framework and nothing of casebot's: the peers import it as a sibling module.
The cases are read from casebot's own demo database (SQLite, the ``cases`` table), read-only.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import Final

HELLO: Final = (
    "Hello! I can help you with your immigration case: check its status. What would you like to do?"
)
CHECK: Final = "Check a case status"
ASK: Final = (
    "Please type your receipt number. It has 3 letters and 10 digits, like IOE0912345678, and "
    "is on the notice USCIS sent when it received your case."
)
NOT_FOUND: Final = (
    "I could not find a case with that receipt number. Please check it and type it again."
)
NOT_A_RECEIPT: Final = (
    "That does not look like a receipt number: 3 letters and 10 digits, like IOE0912345678."
)
SUBSCRIBED: Final = "I will tell you when the status changes."
RECEIPT: Final = re.compile(r"^[A-Z]{3}\d{10}$")


@dataclass(frozen=True)
class Case:
    receipt: str
    form: str
    status: str
    updated: str

    def text(self) -> str:
        return (
            f"Case {self.receipt} ({self.form})\nStatus: {self.status}\n"
            f"Last update: {self.updated}\n\nTo check another case, type its receipt number."
        )


class Cases:
    """The demo database's cases, read-only, one connection (a lookup is one indexed SELECT)."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def find(self, receipt: str) -> Case | None:
        row = self.db.execute(
            "SELECT receipt_number, form_type, status_code, status_updated_at FROM cases"
            " WHERE receipt_number = ?",
            (receipt,),
        ).fetchone()
        if row is None:
            return None
        status = str(row[2]).replace("_", " ").capitalize()
        return Case(row[0], row[1], status, str(row[3])[:10])


def normalized(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()
