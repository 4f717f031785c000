"""What USCIS's Case Status API answers, read into plain values, and its titles matched to the
catalog.

The body of ``GET /case-status/{receiptNumber}`` (developer.uscis.gov, the Torch program)::

    {"case_status": {"receiptNumber": "EAC9999103402", "formType": "I-130",
                     "submittedDate": "09-05-2023 14:10:53", "modifiedDate": "09-05-2023 14:10:53",
                     "current_case_status_text_en": "Case Was Approved",
                     "current_case_status_desc_en": "...",
                     "current_case_status_text_es": "Caso Fue Aprobado",
                     "current_case_status_desc_es": "...",
                     "hist_case_status": [{"date": "...", "completed_text_en": "...",
                                           "completed_text_es": "..."}] | null},
     "message": "..."}

Anything else is a :class:`MalformedAnswer` naming what was wrong: the caller treats it as an
outage (the person is told USCIS is not answering), never as a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from core.cases.receipt import ReceiptNumber
from core.cases.statuses import UNLISTED, Status, get_status
from core.errors import DomainError, InvalidReceiptNumber

__all__ = [
    "MalformedAnswer",
    "UscisCase",
    "UscisEvent",
    "catalog_status",
    "parse_answer",
]

logger = logging.getLogger(__name__)

# USCIS writes its times without a zone; they are its own (Eastern) clock.
USCIS_ZONE: Final = ZoneInfo("America/New_York")
_TIME_FORMATS: Final = ("%m-%d-%Y %H:%M:%S", "%m-%d-%Y", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")
_MAX_TEXT: Final = 2000  # a title or description longer than this is not one
_unknown_titles: set[str] = set()


class MalformedAnswer(ValueError):
    """The API answered something that is not a case status; ``reason`` says what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class UscisEvent:
    """One entry of ``hist_case_status``."""

    at: datetime
    title_en: str
    title_es: str


@dataclass(frozen=True, slots=True)
class UscisCase:
    """A case as USCIS reports it, in English and Spanish."""

    receipt: ReceiptNumber
    form_type: str
    submitted_at: datetime | None
    modified_at: datetime | None
    title_en: str
    desc_en: str
    title_es: str
    desc_es: str
    history: tuple[UscisEvent, ...]

    @property
    def status(self) -> Status:
        """The catalog's status for the current title (:data:`UNLISTED` when it has none)."""
        return catalog_status(self.title_en)

    def dump(self) -> dict[str, Any]:
        """The case as the cache stores it (the API's own field names, so it reads back)."""
        return {
            "receiptNumber": str(self.receipt),
            "formType": self.form_type,
            "submittedDate": _dump_time(self.submitted_at),
            "modifiedDate": _dump_time(self.modified_at),
            "current_case_status_text_en": self.title_en,
            "current_case_status_desc_en": self.desc_en,
            "current_case_status_text_es": self.title_es,
            "current_case_status_desc_es": self.desc_es,
            "hist_case_status": [
                {
                    "date": _dump_time(event.at),
                    "completed_text_en": event.title_en,
                    "completed_text_es": event.title_es,
                }
                for event in self.history
            ],
        }


def catalog_status(title_en: str) -> Status:
    """The catalog's status with this official English title, else :data:`UNLISTED`.

    A title the catalog does not know is logged once per process, for operators to add it.
    """
    try:
        return get_status(title_en) if title_en.strip() else UNLISTED
    except DomainError:
        if title_en not in _unknown_titles:
            _unknown_titles.add(title_en)
            logger.warning("USCIS status title not in the catalog: %r", title_en[:200])
        return UNLISTED


def parse_answer(body: object, receipt: ReceiptNumber) -> UscisCase:
    """Read a decoded JSON body of the case-status endpoint.

    Raises:
        MalformedAnswer: not an object with a ``case_status`` of the published shape, a field
            of the wrong type, an unreadable date, or the answer is about another receipt.
    """
    if not isinstance(body, Mapping):
        raise MalformedAnswer(f"the body is a {type(body).__name__}, not an object")
    case = body.get("case_status")
    if not isinstance(case, Mapping):
        raise MalformedAnswer("no case_status object")
    try:
        answered = ReceiptNumber.parse(_text(case, "receiptNumber"))
    except InvalidReceiptNumber:
        raise MalformedAnswer("receiptNumber is not a receipt number") from None
    if answered != receipt:
        raise MalformedAnswer("the answer is about another receipt number")
    title_en = _text(case, "current_case_status_text_en")
    if not title_en.strip():
        raise MalformedAnswer("current_case_status_text_en is empty")
    raw_history = case.get("hist_case_status")
    if raw_history is None:
        raw_history = []
    if not isinstance(raw_history, list):
        raise MalformedAnswer("hist_case_status is neither a list nor null")
    history = []
    for entry in raw_history:
        if not isinstance(entry, Mapping):
            raise MalformedAnswer("a hist_case_status entry is not an object")
        at = _time(entry, "date")
        if at is None:
            raise MalformedAnswer("a hist_case_status entry has no date")
        history.append(
            UscisEvent(
                at=at,
                title_en=_text(entry, "completed_text_en"),
                title_es=_text(entry, "completed_text_es", required=False),
            )
        )
    return UscisCase(
        receipt=answered,
        form_type=_text(case, "formType", required=False).strip()[:20],
        submitted_at=_time(case, "submittedDate"),
        modified_at=_time(case, "modifiedDate"),
        title_en=title_en.strip(),
        desc_en=_text(case, "current_case_status_desc_en", required=False).strip(),
        title_es=_text(case, "current_case_status_text_es", required=False).strip(),
        desc_es=_text(case, "current_case_status_desc_es", required=False).strip(),
        history=tuple(sorted(history, key=lambda event: event.at)),
    )


def _text(data: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = data.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise MalformedAnswer(f"{name} is {'missing' if value is None else 'not text'}")
    if len(value) > _MAX_TEXT:
        raise MalformedAnswer(f"{name} is {len(value)} characters long")
    return value


def _time(data: Mapping[str, Any], name: str) -> datetime | None:
    """A time of the API, read on USCIS's (Eastern) clock and turned to UTC; None if absent."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedAnswer(f"{name} is not text")
    for layout in _TIME_FORMATS:
        try:
            moment = datetime.strptime(value.strip(), layout)
        except ValueError:
            continue
        try:
            return moment.replace(tzinfo=USCIS_ZONE).astimezone(UTC)
        except OverflowError:  # the last hours of year 9999 in Eastern are past it in UTC
            raise MalformedAnswer(f"{name} is out of range ({value[:40]!r})") from None
    raise MalformedAnswer(f"{name} is not a date USCIS writes ({value[:40]!r})")


def _dump_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(USCIS_ZONE).strftime(_TIME_FORMATS[0])
