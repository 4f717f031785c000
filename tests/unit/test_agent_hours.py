"""Agents' business hours (CASEBOT_AGENT_HOURS): the format, and when agents are there, read
with a fake clock across weekends, federal holidays, closed days and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.staff.hours import DEFAULT_AGENT_HOURS, AgentHours, is_open, next_opening, parse_hours

NEW_YORK = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NEW_YORK)  # type: ignore[misc]


@pytest.fixture
def hours() -> AgentHours:
    return parse_hours("America/New_York Mon-Fri 08:00-20:00; closed 2026-12-24,2026-12-31")


def test_the_format_reads_a_zone_days_times_and_closed_days(hours: AgentHours) -> None:
    assert hours.zone == "America/New_York"
    assert hours.windows == tuple((day, time(8), time(20)) for day in range(5))
    assert hours.closed == frozenset({date(2026, 12, 24), date(2026, 12, 31)})


def test_several_day_groups_are_separated_by_commas() -> None:
    hours = parse_hours("America/Phoenix Mon-Thu 09:00-17:00, Fri 09:00-12:30, Sun 10:00-14:00")
    assert (4, time(9), time(12, 30)) in hours.windows
    assert (6, time(10), time(14)) in hours.windows
    assert len(hours.windows) == 6


def test_the_default_is_emmas_hours() -> None:
    assert parse_hours(DEFAULT_AGENT_HOURS).windows[0] == (0, time(8), time(20))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Mon-Fri 08:00-20:00",  # no zone
        "Mars/Olympus Mon-Fri 08:00-20:00",
        "America/New_York",  # no days
        "America/New_York Mon-Fry 08:00-20:00",
        "America/New_York Mon-Fri 8-20",
        "America/New_York Mon-Fri 20:00-08:00",  # closes before it opens
        "America/New_York Mon-Fri 08:00-25:00",
        "America/New_York Mon-Fri 08:00-20:00; closed 2026-13-01",
        "America/New_York Mon-Fri 08:00-20:00; open 2026-12-24",
    ],
)
def test_a_bad_value_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ValueError, match=r".") as refused:
        parse_hours(text)
    assert str(refused.value)


def test_open_on_a_weekday_within_the_hours(hours: AgentHours) -> None:
    assert is_open(hours, ny(2026, 3, 2, 8, 0))  # Monday 08:00 sharp
    assert is_open(hours, ny(2026, 3, 2, 19, 59))
    assert not is_open(hours, ny(2026, 3, 2, 20, 0))  # closing time is closed
    assert not is_open(hours, ny(2026, 3, 2, 7, 59))


def test_the_hours_are_read_in_the_configured_zone_whatever_the_clock_says(
    hours: AgentHours,
) -> None:
    # 00:30 UTC on Tuesday is 19:30 on Monday in New York (EST, UTC-5).
    assert is_open(hours, datetime(2026, 3, 3, 0, 30, tzinfo=UTC))
    assert not is_open(hours, datetime(2026, 3, 3, 1, 30, tzinfo=UTC))


def test_closed_at_the_weekend_and_next_opening_is_monday_morning(hours: AgentHours) -> None:
    saturday = ny(2026, 3, 7, 12, 0)
    assert not is_open(hours, saturday)
    assert next_opening(hours, saturday) == ny(2026, 3, 9, 8, 0)
    friday_evening = ny(2026, 3, 6, 20, 30)
    assert next_opening(hours, friday_evening) == ny(2026, 3, 9, 8, 0)


def test_closed_on_federal_holidays(hours: AgentHours) -> None:
    # Monday 7 September 2026 is Labor Day.
    assert not is_open(hours, ny(2026, 9, 7, 10, 0))
    assert next_opening(hours, ny(2026, 9, 5, 10, 0)) == ny(2026, 9, 8, 8, 0)
    # 4 July 2026 is a Saturday: Friday 3 July is the observed holiday.
    assert not is_open(hours, ny(2026, 7, 3, 10, 0))


def test_federal_holidays_may_be_kept_open() -> None:
    hours = parse_hours("America/New_York Mon-Fri 08:00-20:00; holidays open")
    assert is_open(hours, ny(2026, 9, 7, 10, 0))


def test_closed_on_the_configured_days(hours: AgentHours) -> None:
    assert not is_open(hours, ny(2026, 12, 24, 10, 0))
    # 24 December closed, 25 Christmas, 26-27 the weekend: Monday 28.
    assert next_opening(hours, ny(2026, 12, 23, 21, 0)) == ny(2026, 12, 28, 8, 0)


def test_next_opening_while_open_is_now(hours: AgentHours) -> None:
    now = ny(2026, 3, 2, 10, 0)
    assert next_opening(hours, now) == now


def test_next_opening_before_hours_is_the_same_morning(hours: AgentHours) -> None:
    assert next_opening(hours, ny(2026, 3, 3, 6, 0)) == ny(2026, 3, 3, 8, 0)


def test_daylight_saving_time_moves_the_hours_with_the_local_clock(hours: AgentHours) -> None:
    # Clocks go forward on Sunday 8 March 2026: 08:00 is 13:00 UTC on Friday, 12:00 UTC after.
    assert next_opening(hours, ny(2026, 3, 6, 21, 0)) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    assert is_open(hours, datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    assert not is_open(hours, datetime(2026, 3, 6, 12, 30, tzinfo=UTC))
    # And back on Sunday 1 November 2026.
    assert next_opening(hours, ny(2026, 10, 30, 21, 0)) == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)


def test_an_opening_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    hours = parse_hours("America/New_York Sun 02:30-05:00; holidays open")
    # 02:30 does not exist on 8 March 2026: the local clock jumps from 02:00 to 03:00 EDT.
    opening = next_opening(hours, ny(2026, 3, 7, 12, 0))
    assert opening.astimezone(UTC) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert is_open(hours, opening)


def test_a_naive_time_is_refused(hours: AgentHours) -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open(hours, datetime(2026, 3, 2, 10, 0))
