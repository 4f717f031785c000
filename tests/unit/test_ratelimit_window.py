from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.ratelimit import retry_after_seconds, window_start
from tests.fakes import FakeClock


def test_windows_are_aligned_so_every_process_agrees(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 15, 7, 42, 500, tzinfo=UTC))
    assert window_start(clock.now(), timedelta(minutes=1)) == datetime(
        2026, 3, 2, 15, 7, tzinfo=UTC
    )
    assert window_start(clock.now(), timedelta(hours=1)) == datetime(2026, 3, 2, 15, tzinfo=UTC)
    assert window_start(clock.now(), timedelta(days=1)) == datetime(2026, 3, 2, tzinfo=UTC)


def test_a_window_holds_its_start_but_not_its_end(clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 2, 15, 7, tzinfo=UTC))
    minute = timedelta(minutes=1)
    first = window_start(clock.now(), minute)
    assert window_start(clock.advance(seconds=59.999), minute) == first
    assert window_start(clock.advance(seconds=0.001), minute) == first + minute


def test_the_window_start_is_the_same_instant_in_any_time_zone(clock: FakeClock) -> None:
    from zoneinfo import ZoneInfo

    here = clock.now().astimezone(ZoneInfo("America/Phoenix"))
    assert window_start(here, timedelta(hours=1)) == window_start(clock.now(), timedelta(hours=1))


def test_retry_after_is_whole_seconds_until_the_window_ends(clock: FakeClock) -> None:
    resets_at = clock.now() + timedelta(seconds=30)
    assert retry_after_seconds(clock.now(), resets_at) == 30
    assert retry_after_seconds(clock.advance(seconds=29.2), resets_at) == 1
    assert retry_after_seconds(clock.advance(seconds=5), resets_at) == 1


@pytest.mark.parametrize("window", [timedelta(0), timedelta(seconds=-1)])
def test_a_window_must_be_positive(clock: FakeClock, window: timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        window_start(clock.now(), window)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        window_start(datetime(2026, 3, 2, 15, 0), timedelta(minutes=1))
