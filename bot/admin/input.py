"""Reading what operators type or send: days, weekly hours, filters.

Shared by ``casebot admin`` and the admin HTTP API, so both accept the same forms. Each parser
returns a value or raises ``ValueError`` with an English sentence (the operator tools are
English only) that says what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Final

from core.admin.actions import WEEKDAYS
from core.appointments.models import AppointmentKind, AppointmentStatus

__all__ = [
    "WEEKDAYS",
    "parse_day",
    "parse_hours",
    "parse_hours_args",
    "parse_kind",
    "parse_status",
    "parse_time",
]

_FULL_NAMES: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME: Final = re.compile(r"(\d{1,2}):(\d{2})")
_RANGE: Final = re.compile(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*")


def parse_day(text: str, name: str = "day") -> date:
    """A calendar day written YYYY-MM-DD.

    Raises:
        ValueError: anything else, or a day that does not exist (2026-02-30).
    """
    value = text.strip()
    if _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{name} must be a date in the form YYYY-MM-DD, e.g. 2026-03-10")


def parse_time(text: str) -> time:
    """A local time of day, 24-hour HH:MM.

    Raises:
        ValueError: anything else.
    """
    found = _TIME.fullmatch(text.strip())
    if found is not None:
        hours, minutes = int(found[1]), int(found[2])
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    raise ValueError(f"{text.strip()!r} is not a time in the form HH:MM (24-hour), e.g. 08:30")


def _weekday(name: str) -> int:
    key = name.strip().lower()
    if key in WEEKDAYS:
        return WEEKDAYS.index(key)
    if key in _FULL_NAMES:
        return _FULL_NAMES.index(key)
    raise ValueError(f"{name.strip()!r} is not a weekday: use mon, tue, wed, thu, fri, sat or sun")


def parse_hours(spec: Mapping[str, str]) -> dict[int, tuple[time, time]]:
    """Weekly hours from ``{"mon": "08:00-16:00", ...}``; a weekday left out is closed.

    Raises:
        ValueError: an unknown weekday, a range not written HH:MM-HH:MM, a weekday given twice
            (``mon`` and ``monday``), or closing not after opening.
    """
    hours: dict[int, tuple[time, time]] = {}
    for name, value in spec.items():
        day = _weekday(name)
        if day in hours:
            raise ValueError(f"{WEEKDAYS[day]} is given twice")
        if not isinstance(value, str) or (found := _RANGE.fullmatch(value)) is None:
            raise ValueError(
                f"the hours of {WEEKDAYS[day]} must read HH:MM-HH:MM, e.g. 08:00-16:00"
            )
        opens, closes = parse_time(found[1]), parse_time(found[2])
        if not opens < closes:
            raise ValueError(f"on {WEEKDAYS[day]} the office must close after it opens")
        hours[day] = (opens, closes)
    return hours


def parse_hours_args(items: Iterable[str]) -> dict[int, tuple[time, time]]:
    """Weekly hours from command-line words ``mon=08:00-16:00 tue=09:00-12:00``.

    Raises:
        ValueError: a word without ``=``, or see :func:`parse_hours`.
    """
    spec: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{item!r} must read DAY=HH:MM-HH:MM, e.g. mon=08:00-16:00")
        if name.strip().lower() in spec:
            raise ValueError(f"{name.strip()} is given twice")
        spec[name.strip().lower()] = value
    return parse_hours(spec)


def parse_status(text: str) -> AppointmentStatus:
    """An appointment status: ``booked`` or ``cancelled``.

    Raises:
        ValueError: anything else.
    """
    try:
        return AppointmentStatus(text.strip().lower())
    except ValueError:
        raise ValueError("status must be booked or cancelled") from None


def parse_kind(text: str) -> AppointmentKind:
    """An appointment type: ``biometrics`` or ``in_person``.

    Raises:
        ValueError: anything else.
    """
    try:
        return AppointmentKind(text.strip().lower())
    except ValueError:
        raise ValueError("kind must be biometrics or in_person") from None
