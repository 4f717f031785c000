"""What people type while booking an appointment: days, times, and compact button values.

Plain functions with no session and no translation, so each is tested on its own; they raise
``ValueError`` and the appointments dialog words the reason in the person's language.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

__all__ = [
    "MAX_DAYS_AHEAD",
    "from_minutes",
    "parse_day",
    "parse_time",
    "to_minutes",
    "word_table",
]

# The booking horizon of the core (60 days) and a little: a date past it is refused by the
# core with a precise reason, rather than misread as next year's date.
MAX_DAYS_AHEAD: Final = 90

_ISO: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_US: Final = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?")
_TIME: Final = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(a|p)?\.?\s*(?:m\.?)?")


def to_minutes(moment: datetime) -> int:
    """A UTC moment as whole minutes since the epoch: a short, stable button value."""
    return int(moment.astimezone(UTC).timestamp()) // 60


def from_minutes(minutes: int) -> datetime:
    """The aware UTC moment of :func:`to_minutes`.

    Raises:
        ValueError: no moment of the calendar lies that many minutes from the epoch.
    """
    try:
        return datetime.fromtimestamp(minutes * 60, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("no such moment") from None


def word_table(*names: Iterable[str] | Mapping[int, str], start: int = 0) -> dict[str, int]:
    """A lookup from lower-case words to their index (weekday 0-6, month 1-12).

    Each argument lists the names in order (``["Monday", ...]``) or maps index to name (as
    Babel's locale data does); several languages may be merged.
    """
    table: dict[str, int] = {}
    for group in names:
        items = group.items() if isinstance(group, Mapping) else enumerate(group, start)
        for index, name in items:
            if name:
                table[str(name).casefold().strip(".")] = int(index)
    return table


ENGLISH_WEEKDAYS: Final = word_table(calendar.day_name, calendar.day_abbr)
ENGLISH_MONTHS: Final = word_table(
    list(calendar.month_name)[1:], list(calendar.month_abbr)[1:], start=1
)


def _next_date(today: date, month: int, day: int) -> date:
    """The date without a year: this year's, unless that lies months back (in December,
    "1/5" is next January); a date just passed stays in the past, to be refused as such."""
    found = date(today.year, month, day)
    return found if found >= today - timedelta(days=183) else date(today.year + 1, month, day)


def parse_day(
    text: str,
    today: date,
    *,
    weekdays: Mapping[str, int] = ENGLISH_WEEKDAYS,
    months: Mapping[str, int] = ENGLISH_MONTHS,
    relative: Mapping[str, int] | None = None,
) -> date:
    """A typed day: ``2026-03-04``, ``3/4/2026``, ``3/4/26``, ``3/4`` (US order; this year's
    unless that lies months back), ``March 4`` / ``4 March``, a weekday name (``Wednesday``:
    today or the next one), or a word of ``relative`` (``{"today": 0, "tomorrow": 1}``).

    Raises:
        ValueError: not a date, a date that does not exist, one that has passed, or one more
            than :data:`MAX_DAYS_AHEAD` days ahead.
    """
    words = text.casefold().strip(" .,!?")
    found: date | None = None
    try:
        if (match := _ISO.fullmatch(words)) is not None:
            found = date(int(match[1]), int(match[2]), int(match[3]))
        elif (match := _US.fullmatch(words)) is not None:
            month, day = int(match[1]), int(match[2])
            if match[3] is None:
                found = _next_date(today, month, day)
            else:
                year = int(match[3])
                found = date(year + 2000 if year < 100 else year, month, day)
        elif relative is not None and words in relative:
            found = today + timedelta(days=relative[words])
        elif words in weekdays:
            found = today + timedelta(days=(weekdays[words] - today.weekday()) % 7)
        else:
            found = _month_and_day(words, today, months)
    except ValueError:
        raise ValueError("no such date") from None
    if found is None:
        raise ValueError("not a date")
    if found < today:
        raise ValueError("past")
    if found > today + timedelta(days=MAX_DAYS_AHEAD):
        raise ValueError("too far")
    return found


def _month_and_day(words: str, today: date, months: Mapping[str, int]) -> date | None:
    parts = [p for p in re.split(r"[\s,]+", words.replace(" de ", " ")) if p]
    if len(parts) != 2:
        return None
    first, second = parts
    if first in months and second.isdigit():
        return _next_date(today, months[first], int(second))
    if second in months and first.isdigit():
        return _next_date(today, months[second], int(first))
    return None


def parse_time(text: str) -> time:
    """A typed time of day: ``9``, ``9:30``, ``9.30``, ``9:30 am``, ``2 pm``, ``14:30``.

    Without "am"/"pm", 1 to 6 o'clock is read as the afternoon: offices are open by day.

    Raises:
        ValueError: not a time of day.
    """
    match = _TIME.fullmatch(text.casefold().strip())
    if match is None:
        raise ValueError("not a time")
    hour, minute = int(match[1]), int(match[2] or 0)
    if match[3] is not None:
        if not 1 <= hour <= 12:
            raise ValueError("not a time")
        hour = hour % 12 + (12 if match[3] == "p" else 0)
    elif 1 <= hour <= 6:
        hour += 12
    if hour > 23 or minute > 59:
        raise ValueError("not a time")
    return time(hour, minute)
