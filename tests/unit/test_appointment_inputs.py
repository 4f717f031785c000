from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from bot.dialogs.appointments.inputs import (
    from_minutes,
    parse_day,
    parse_time,
    to_minutes,
    word_table,
)

MONDAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04", date(2026, 3, 4)),
        ("3/4/2026", date(2026, 3, 4)),
        ("3/4/26", date(2026, 3, 4)),
        ("3/4", date(2026, 3, 4)),
        ("Wednesday", date(2026, 3, 4)),
        ("wed.", date(2026, 3, 4)),
        ("monday", MONDAY),
        ("Sunday", date(2026, 3, 8)),
        ("March 5", date(2026, 3, 5)),
        ("5 march", date(2026, 3, 5)),
    ],
)
def test_reads_the_ways_people_type_a_day(text: str, expected: date) -> None:
    assert parse_day(text, MONDAY) == expected


def test_a_month_and_day_without_a_year_is_this_years_or_after_new_year_next_years() -> None:
    with pytest.raises(ValueError, match="past"):
        parse_day("3/1", MONDAY)
    assert parse_day("1/5", date(2026, 12, 20)) == date(2027, 1, 5)


def test_reads_weekdays_and_relative_words_of_another_language() -> None:
    weekdays = word_table(["lunes", "martes", "miércoles", "jueves", "viernes", "sábado"])
    assert parse_day("Miércoles", MONDAY, weekdays=weekdays) == date(2026, 3, 4)
    assert parse_day("mañana", MONDAY, relative={"mañana": 1}) == date(2026, 3, 3)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("someday", "not a date"), ("2/30/2026", "no such date"), ("3/1/2026", "past")],
)
def test_refuses_what_is_no_day_to_book(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_day(text, MONDAY)


def test_refuses_a_day_months_ahead() -> None:
    with pytest.raises(ValueError, match="too far"):
        parse_day("2026-12-01", MONDAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9", time(9, 0)),
        ("9:30", time(9, 30)),
        ("9.30", time(9, 30)),
        ("9:30 am", time(9, 30)),
        ("9:30 A.M.", time(9, 30)),
        ("2 pm", time(14, 0)),
        ("12:30 pm", time(12, 30)),
        ("12 am", time(0, 0)),
        ("14:30", time(14, 30)),
        ("3", time(15, 0)),  # offices are open by day
    ],
)
def test_reads_the_ways_people_type_a_time(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["noon", "25:00", "9:75", "13 pm", ""])
def test_refuses_what_is_no_time(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        parse_time(text)


def test_slot_starts_travel_as_epoch_minutes() -> None:
    moment = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
    assert from_minutes(to_minutes(moment)) == moment
    assert len(f"999999:{to_minutes(moment)}".encode()) <= 64
