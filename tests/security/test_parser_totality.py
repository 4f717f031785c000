"""The parsers of what clients send back are total (issue 21, finding 9): on any string or bytes
each returns a value or raises ``ValueError``, which its caller answers with a 400 or a
re-prompt; no other exception escapes. The replays of the red team's inputs through the server
are in ``test_hostile_input.py`` and ``test_hostile_webhook.py``."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, date, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.admin.input import (
    parse_day,
    parse_hours,
    parse_hours_args,
    parse_kind,
    parse_status,
    parse_time,
)
from bot.channels.telegram.webhook import MAX_UPDATE_ID, parse_update
from bot.channels.web.json_budget import MAX_JSON_DEPTH, JsonRefused, json_depth, parse_json
from bot.dialogs.appointments.inputs import from_minutes, to_minutes
from bot.dialogs.base import Button
from bot.dialogs.numbers import MAX_DIGITS, whole_number
from bot.engine.matching import match_choice
from core.appointments.listing import _within_calendar
from core.appointments.time import local_day_bounds
from tests.fuzzing import json_values

anything = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.text(alphabet="0123456789²³¹٠١٢٣٤٥٦٧٨٩０１２३-+ oO", max_size=30),
)
# JSON-ish bytes: brackets, quotes and escapes in any order, and arbitrary bytes.
jsonish = st.one_of(
    st.binary(max_size=300),
    st.text(alphabet='[]{}"\\:,0123456789 abe-', max_size=300).map(str.encode),
)


@given(jsonish)
@example(b"[" * 3000 + b"]" * 3000)
@example(b'{"a": "' + b"[" * 3000 + b'"}')  # brackets inside a string are no nesting
@example(b"1" * 5000)  # more digits than int() reads
@example(b"\xef\xbb\xbf{}")  # a byte order mark
@example(b"\xff")
def test_a_json_body_is_a_value_or_a_refusal(raw: bytes) -> None:
    try:
        value = parse_json(raw, max_bytes=16 * 1024)
    except JsonRefused as refused:
        reason = refused.reason
        assert reason in {"too_large", "too_deep", "malformed"}
        return
    assert json_depth(json.dumps(value)) <= MAX_JSON_DEPTH


@given(st.integers(1, 200))
def test_nesting_up_to_the_budget_is_read_and_beyond_it_refused(depth: int) -> None:
    raw = ("[" * depth + "]" * depth).encode()
    if depth <= MAX_JSON_DEPTH:
        assert json_depth(json.dumps(parse_json(raw, max_bytes=16 * 1024))) == depth
    else:
        with pytest.raises(JsonRefused, match="too_deep"):
            parse_json(raw, max_bytes=16 * 1024)


@given(st.one_of(jsonish, st.integers().map(lambda n: json.dumps({"update_id": n}).encode())))
@example(b'{"update_id": 100000000000000000000000}')
@example(b'{"update_id": true}')
@example(b'{"update_id": -1}')
def test_a_webhook_body_is_an_update_or_a_value_error(raw: bytes) -> None:
    try:
        update = parse_update(raw)
    except ValueError:
        return
    assert 0 <= update["update_id"] <= MAX_UPDATE_ID


@given(anything)
@example("9" * 5000)
@example("²")
@example("٣")
@example("-1")
def test_a_payload_number_is_a_small_whole_number_or_a_value_error(text: str) -> None:
    try:
        number = whole_number(text)
    except ValueError:
        return
    assert 0 <= number < 10**MAX_DIGITS
    assert str(number) == text.lstrip("0") or number == 0


@given(st.integers())
@example(10**30)
@example(-(10**30))
def test_epoch_minutes_are_a_moment_or_a_value_error(minutes: int) -> None:
    try:
        moment = from_minutes(minutes)
    except ValueError:
        return
    assert to_minutes(moment) == minutes


@given(anything)
@example("²")
@example("٣")
@example("9" * 5000)
def test_a_typed_option_number_is_an_option_or_nothing(text: str) -> None:
    choices = [Button(f"Label {i}", f"v{i}") for i in range(1, 6)]
    found = match_choice(text, choices)
    assert found is None or found in {c.payload for c in choices}


def test_option_numbers_may_be_typed_in_any_script() -> None:
    choices = [Button(f"Label {i}", f"v{i}") for i in range(1, 6)]
    assert match_choice("٣", choices) == "v3"
    assert match_choice("３", choices) == "v3"


@given(anything)
def test_an_operators_day_is_a_date_or_a_value_error(text: str) -> None:
    try:
        parse_day(text)
    except ValueError:
        return


weekdays = st.sampled_from(["mon", "tue", "Wednesday", "SUN", " fri ", "xyz", ""])
ranges = st.one_of(
    st.sampled_from(["08:00-16:00", "16:00-08:00", "24:00-25:00", "٠٨:٠٠-١٦:٠٠", "8:00 - 9:00"]),
    st.text(alphabet="0123456789:- ٠١٢٣", max_size=14),
)


@given(
    st.dictionaries(weekdays | st.text(max_size=8), ranges | json_values, max_size=8),
    st.lists(st.one_of(st.builds("{}={}".format, weekdays, ranges), st.text()), max_size=5),
)
@example({"mon": "08:00-16:00", "monday": "08:00-16:00"}, ["mon=08:00-16:00", "MON=9:00-10:00"])
@example({"mon": ["08:00-16:00"]}, ["mon"])
def test_an_operators_hours_are_hours_or_a_value_error(
    spec: dict[str, object], words: list[str]
) -> None:
    for parse in (lambda: parse_hours(spec), lambda: parse_hours_args(words)):
        try:
            hours = parse()
        except ValueError:
            continue
        assert all(0 <= day <= 6 and opens < closes for day, (opens, closes) in hours.items())


@given(anything)
@example("٠٨:٣٠")
@example("99:99")
def test_an_operators_time_status_and_kind_are_values_or_value_errors(text: str) -> None:
    for parse in (parse_time, parse_status, parse_kind):
        with contextlib.suppress(ValueError):
            parse(text)


@given(
    st.dates(),
    st.sampled_from(["America/Phoenix", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]),
)
@example(date.min, "Pacific/Pago_Pago")
@example(date.max, "Pacific/Kiritimati")
def test_any_filter_day_has_bounds_in_any_time_zone(day: date, zone: str) -> None:
    start, end = local_day_bounds(_within_calendar(day), zone)
    assert start < end
    assert start > datetime(1800, 1, 1, tzinfo=UTC)
