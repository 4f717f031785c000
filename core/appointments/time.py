"""Local days of an office: where they start and end in UTC, and which day it is there now."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from core.appointments.slots import load_zone

__all__ = ["local_day_bounds", "local_today"]


def local_day_bounds(day: date, zone_name: str) -> tuple[datetime, datetime]:
    """The UTC instants at which a local day starts and the next one starts (a day of 23 or
    25 hours when daylight saving time begins or ends).

    Raises:
        InvalidOfficeData: (field ``timezone``) no such zone.
    """
    zone = load_zone(zone_name)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def local_today(now: datetime, zone_name: str) -> date:
    """The local date in a zone at the aware instant ``now``.

    Raises:
        InvalidOfficeData: (field ``timezone``) no such zone.
    """
    return now.astimezone(load_zone(zone_name)).date()
