"""Agents' business hours: when people can be put through to a live agent.

The hours come from ``CASEBOT_AGENT_HOURS``, one line::

    America/New_York Mon-Fri 08:00-20:00, Sat 09:00-13:00; closed 2026-12-24,2026-12-31

a time zone (IANA name), then day groups (a day or a range of days, ``Mon`` .. ``Sun``, and a
local ``HH:MM-HH:MM``; several separated by commas), then optional clauses after semicolons:
``closed`` and ISO days (days off besides the US federal holidays), and ``holidays open`` to
keep the federal holidays as working days. The federal holidays (observed dates included)
are closed by default, as they are for the offices.

The rules are plain functions of the hours and a moment, so a fake clock tests them. The hours
are read on the local wall clock of the zone: across a daylight-saving change, 08:00 stays
08:00 locally and moves in UTC; an opening time that the change skips opens when the clock
jumps past it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.appointments.slots import federal_holidays

__all__ = ["DEFAULT_AGENT_HOURS", "AgentHours", "is_open", "next_opening", "parse_hours"]

# USCIS's live chat: weekdays 8 a.m. to 8 p.m. Eastern.
DEFAULT_AGENT_HOURS: Final = "America/New_York Mon-Fri 08:00-20:00"
DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A year and more: any hours with at least one window open somewhere in it.
_SEARCH_DAYS: Final = 400
_GROUP: Final = re.compile(
    r"(?P<first>[A-Za-z]{3})(?:\s*-\s*(?P<last>[A-Za-z]{3}))?\s+"
    r"(?P<opens>\d{2}:\d{2})\s*-\s*(?P<closes>\d{2}:\d{2})"
)


@dataclass(frozen=True, slots=True)
class AgentHours:
    """Weekly opening windows in a time zone, with days off.

    Attributes:
        zone: the IANA time zone the windows are read in.
        windows: ``(weekday, opens, closes)``, Monday 0, local times, ``opens < closes``.
        closed: local days with no agents besides the federal holidays.
        federal_holidays_closed: whether the US federal holidays are days off.
    """

    zone: str
    windows: tuple[tuple[int, time, time], ...]
    closed: frozenset[date] = frozenset()
    federal_holidays_closed: bool = True

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


def _clock_time(text: str) -> time:
    hours, minutes = int(text[:2]), int(text[3:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text} is not a time of day (use 00:00 to 23:59)")
    return time(hours, minutes)


def _day(name: str) -> int:
    try:
        return DAY_NAMES.index(name.lower())
    except ValueError:
        raise ValueError(f"{name!r} is not a day: use Mon, Tue, Wed, Thu, Fri, Sat, Sun") from None


def parse_hours(text: str) -> AgentHours:
    """Read the ``CASEBOT_AGENT_HOURS`` format (see the module docstring).

    Raises:
        ValueError: the text does not follow the format; the message says what is wrong.
    """
    main, *clauses = [part.strip() for part in text.split(";")]
    zone, _, groups = main.partition(" ")
    if not zone or ("/" not in zone and zone != "UTC"):
        raise ValueError(f"start with a time zone such as America/New_York, got {main!r}")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{zone!r} is not a known time zone") from None
    windows: list[tuple[int, time, time]] = []
    for group in (g.strip() for g in groups.split(",")):
        match = _GROUP.fullmatch(group)
        if match is None:
            raise ValueError(f"{group!r} is not like 'Mon-Fri 08:00-20:00'")
        first = _day(match["first"])
        last = _day(match["last"]) if match["last"] else first
        opens, closes = _clock_time(match["opens"]), _clock_time(match["closes"])
        if not opens < closes:
            raise ValueError(f"in {group!r} the closing time is not after the opening time")
        if last < first:
            raise ValueError(f"in {group!r} the days run backwards (write Mon-Fri, not Fri-Mon)")
        windows.extend((day, opens, closes) for day in range(first, last + 1))
    closed: set[date] = set()
    holidays_closed = True
    for clause in clauses:
        word, _, rest = clause.partition(" ")
        if word.lower() == "closed":
            for raw in (d.strip() for d in rest.split(",")):
                try:
                    closed.add(date.fromisoformat(raw))
                except ValueError:
                    raise ValueError(f"{raw!r} is not a day like 2026-12-24") from None
        elif clause.lower() in ("holidays open", "holidays closed"):
            holidays_closed = clause.lower() == "holidays closed"
        else:
            raise ValueError(
                f"{clause!r} is not 'closed YYYY-MM-DD,...' nor 'holidays open|closed'"
            )
    return AgentHours(zone, tuple(sorted(windows)), frozenset(closed), holidays_closed)


def _day_off(hours: AgentHours, day: date) -> bool:
    if day in hours.closed:
        return True
    return hours.federal_holidays_closed and day in federal_holidays([day.year])


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("the moment must be an aware datetime")
    return now


def is_open(hours: AgentHours, now: datetime) -> bool:
    """Whether ``now`` falls in an opening window (closing time excluded), on no day off.

    Raises:
        ValueError: ``now`` is naive.
    """
    local = _aware(now).astimezone(hours.tz)
    if _day_off(hours, local.date()):
        return False
    wall = local.time().replace(tzinfo=None)
    weekday = local.weekday()
    return any(day == weekday and opens <= wall < closes for day, opens, closes in hours.windows)


def _opening_of(hours: AgentHours, day: date, opens: time) -> datetime:
    """The moment the local clock of ``day`` first shows ``opens`` or later (in UTC)."""
    tz = hours.tz
    start = datetime.combine(day, opens, tzinfo=tz)
    moment = start.astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) == start.replace(tzinfo=None):
        return moment
    # The time does not exist that day (the clock jumps over it): opening is the jump. Step
    # back from a moment before the jump by minutes until the wall clock shows ``opens``.
    moment = start.replace(fold=1).astimezone(UTC)
    while True:
        local = moment.astimezone(tz)
        if local.date() > day or (local.date() == day and local.time() >= opens):
            return moment
        moment += timedelta(minutes=1)


def next_opening(hours: AgentHours, now: datetime) -> datetime:
    """When agents are next there: ``now`` itself while open, otherwise the start of the next
    window on a day that is not off (in UTC).

    Raises:
        ValueError: ``now`` is naive, or no window opens within the next 400 days.
    """
    if is_open(hours, now):
        return now
    today = now.astimezone(hours.tz).date()
    for offset in range(_SEARCH_DAYS):
        day = today + timedelta(days=offset)
        if _day_off(hours, day):
            continue
        for weekday, opens, _closes in hours.windows:
            if weekday != day.weekday():
                continue
            opening = _opening_of(hours, day, opens)
            if opening > now:
                return opening
    raise ValueError("no opening window in the next 400 days")
