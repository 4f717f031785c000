"""Quiet hours and the daily cap of text messages (core.sms.rules), on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.sms.rules import (
    DAILY_CAP,
    DEFAULT_TIME_ZONE,
    HoldReason,
    day_start,
    hold,
    is_code,
    zone_of,
)
from tests.fakes import FakeClock

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def test_a_code_is_any_kind_that_starts_with_code() -> None:
    assert is_code("code_sms")
    assert is_code("code")
    assert not is_code("case_status_changed")
    assert not is_code("reminder")


def test_an_unknown_or_missing_zone_is_new_york() -> None:
    assert zone_of(None) == ZoneInfo(DEFAULT_TIME_ZONE)
    assert zone_of("Mars/Olympus") == ZoneInfo(DEFAULT_TIME_ZONE)
    assert zone_of(7) == ZoneInfo(DEFAULT_TIME_ZONE)
    assert zone_of("America/Phoenix") == ZoneInfo("America/Phoenix")


@pytest.mark.parametrize(
    ("local", "until"),
    [
        ((2026, 3, 2, 21, 0), (2026, 3, 3, 8, 0)),  # quiet from 21:00 sharp
        ((2026, 3, 2, 23, 59), (2026, 3, 3, 8, 0)),
        ((2026, 3, 3, 0, 30), (2026, 3, 3, 8, 0)),  # after midnight: the same morning
        ((2026, 3, 3, 7, 59), (2026, 3, 3, 8, 0)),
    ],
)
def test_a_text_in_quiet_hours_waits_for_eight_local(
    local: tuple[int, ...], until: tuple[int, ...]
) -> None:
    clock = FakeClock(at(LOS_ANGELES, *local))
    held = hold("case_status_changed", now=clock.now(), zone=LOS_ANGELES, sent_today=0)
    assert held is not None
    assert held.reason is HoldReason.QUIET_HOURS
    assert held.until == at(LOS_ANGELES, *until)


def test_between_eight_and_nine_pm_it_goes_and_a_code_goes_at_any_hour() -> None:
    clock = FakeClock(at(NEW_YORK, 2026, 3, 2, 8, 0))
    assert hold("case_status_changed", now=clock.now(), zone=NEW_YORK, sent_today=0) is None
    clock.advance(hours=12, minutes=59)  # 20:59
    assert hold("reminder", now=clock.now(), zone=NEW_YORK, sent_today=0) is None
    clock.advance(hours=5)  # 01:59
    assert hold("code_sms", now=clock.now(), zone=NEW_YORK, sent_today=DAILY_CAP + 5) is None


def test_quiet_hours_follow_the_persons_zone_not_the_servers() -> None:
    now = at(NEW_YORK, 2026, 3, 2, 22, 0)  # 19:00 in Los Angeles
    assert hold("reminder", now=now, zone=LOS_ANGELES, sent_today=0) is None
    assert hold("reminder", now=now, zone=NEW_YORK, sent_today=0) is not None


def test_the_night_the_clocks_go_forward_still_ends_at_eight() -> None:
    now = at(NEW_YORK, 2026, 3, 7, 23, 0)  # the next morning is daylight time
    held = hold("reminder", now=now, zone=NEW_YORK, sent_today=0)
    assert held is not None
    assert held.until == at(NEW_YORK, 2026, 3, 8, 8, 0)
    assert held.until - now == timedelta(hours=8)


def test_over_the_daily_cap_a_text_waits_for_the_next_morning() -> None:
    now = at(NEW_YORK, 2026, 3, 2, 15, 0)
    assert hold("reminder", now=now, zone=NEW_YORK, sent_today=DAILY_CAP - 1) is None
    held = hold("reminder", now=now, zone=NEW_YORK, sent_today=DAILY_CAP)
    assert held is not None
    assert held.reason is HoldReason.DAILY_CAP
    assert held.until == at(NEW_YORK, 2026, 3, 3, 8, 0)
    assert hold("reminder", now=now, zone=NEW_YORK, sent_today=1, cap=1) is not None


def test_the_day_of_the_cap_is_the_persons_day() -> None:
    now = at(LOS_ANGELES, 2026, 3, 2, 0, 30)
    assert day_start(now, LOS_ANGELES) == at(LOS_ANGELES, 2026, 3, 2, 0, 0)
