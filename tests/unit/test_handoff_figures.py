"""The rules of the waiting-time figures that need no database: the nearest-rank percentile
and the start of the agents' day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.handoff.figures import percentile, start_of_day


def seconds(*values: int) -> list[timedelta]:
    return [timedelta(seconds=v) for v in values]


def test_the_percentile_is_the_nearest_rank_of_the_sorted_waits() -> None:
    waits = seconds(40, 10, 30, 20)
    assert percentile(waits, 0.5) == timedelta(seconds=20)
    assert percentile(waits, 0.95) == timedelta(seconds=40)
    assert percentile(seconds(7), 0.5) == timedelta(seconds=7)
    assert percentile(seconds(*range(1, 101)), 0.95) == timedelta(seconds=95)


def test_no_waits_have_no_percentile() -> None:
    assert percentile([], 0.5) is None


@pytest.mark.parametrize("share", [0.0, 1.5])
def test_a_share_outside_zero_to_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="share"):
        percentile(seconds(1), share)


def test_the_day_starts_at_local_midnight_of_the_agents_zone() -> None:
    # 03:00 UTC is still the day before in New York.
    assert start_of_day(datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "America/New_York") == datetime(
        2026, 3, 1, 5, 0, tzinfo=UTC
    )
    # The day daylight-saving time begins: midnight was still standard time (UTC-5).
    assert start_of_day(datetime(2026, 3, 8, 20, 0, tzinfo=UTC), "America/New_York") == datetime(
        2026, 3, 8, 5, 0, tzinfo=UTC
    )
    assert start_of_day(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "America/New_York") == datetime(
        2026, 7, 1, 4, 0, tzinfo=UTC
    )
