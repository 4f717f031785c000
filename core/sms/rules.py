"""When a text message may go: quiet hours and a daily cap, in the person's time zone.

No text but a one-time code (a ``kind`` that starts with ``code``) goes between 21:00 and 08:00
where the person lives: it waits until 08:00 there, it is not dropped. And a number gets at most
``DAILY_CAP`` texts that are not codes a (local) day: the next waits for 08:00 the next day.
Status changes are not urgent enough to wake anyone; a code is asked for by the person, now.

Pure rules: the caller tells the time and how many texts the number had today.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DAILY_CAP",
    "DEFAULT_TIME_ZONE",
    "QUIET_END",
    "QUIET_START",
    "Hold",
    "HoldReason",
    "day_start",
    "hold",
    "is_code",
    "zone_of",
]

QUIET_START: Final = time(21, 0)
QUIET_END: Final = time(8, 0)
DAILY_CAP: Final = 5
"""Texts that are not codes one number gets in one local day at most."""
DEFAULT_TIME_ZONE: Final = "America/New_York"
CODE_PREFIX: Final = "code"


class HoldReason(enum.StrEnum):
    QUIET_HOURS = "quiet hours"
    DAILY_CAP = "daily cap"


@dataclass(frozen=True, slots=True)
class Hold:
    """A text that must wait: until when (UTC), and why."""

    until: datetime
    reason: HoldReason


def is_code(kind: str) -> bool:
    """Whether an outbox kind is a one-time code (exempt from quiet hours and the cap)."""
    return kind.startswith(CODE_PREFIX)


def zone_of(name: object) -> ZoneInfo:
    """The IANA zone named in a payload; New York when it is missing or unknown."""
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(DEFAULT_TIME_ZONE)


def _at(day: datetime, moment: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day.date(), moment, tzinfo=zone).astimezone(UTC)


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    """Midnight of ``now``'s day in ``zone``, in UTC."""
    return _at(now.astimezone(zone), time(0, 0), zone)


def hold(
    kind: str, *, now: datetime, zone: ZoneInfo, sent_today: int, cap: int = DAILY_CAP
) -> Hold | None:
    """Whether a text of ``kind`` must wait, and until when; None: send it now.

    Args:
        kind: the outbox kind (codes never wait).
        now: the current time (aware).
        zone: the person's time zone.
        sent_today: texts that are not codes the number got since ``day_start``.
        cap: texts that are not codes a number may get a day.
    """
    if is_code(kind):
        return None
    local = now.astimezone(zone)
    if local.time() >= QUIET_START:
        return Hold(_at(local + timedelta(days=1), QUIET_END, zone), HoldReason.QUIET_HOURS)
    if local.time() < QUIET_END:
        return Hold(_at(local, QUIET_END, zone), HoldReason.QUIET_HOURS)
    if sent_today >= cap:
        return Hold(_at(local + timedelta(days=1), QUIET_END, zone), HoldReason.DAILY_CAP)
    return None
