"""The rules of one appointment, its confirmation code, and where offices are (no database)."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from core.appointments.codes import (
    CODE_ALPHABET,
    CODE_LENGTH,
    new_confirmation_code,
    normalize_code,
)
from core.appointments.geography import (
    NEIGHBORS,
    STATE_NAMES,
    ZIP3_RANGES,
    normalize_state,
    normalize_zip,
    state_for_zip,
)
from core.appointments.models import Appointment, AppointmentKind, AppointmentStatus, Office
from core.appointments.rules import (
    active_key,
    calendar_event,
    check_biometrics_ready,
    check_can_cancel,
    check_can_reschedule,
)
from core.errors import (
    CancelNotAllowed,
    InvalidZipCode,
    NotBookable,
    RescheduleNotAllowed,
    UnknownState,
)
from tests.fakes import FakeClock

NOW = FakeClock().now()


def appointment(
    *,
    starts_in: timedelta = timedelta(days=3),
    status: AppointmentStatus = AppointmentStatus.BOOKED,
    reschedule_count: int = 0,
) -> Appointment:
    starts_at = NOW + starts_in
    return Appointment(
        confirmation_code="ABCD2345",
        account_id=1,
        case_id=7,
        office_id=1,
        kind=AppointmentKind.BIOMETRICS,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=30),
        status=status,
        reschedule_count=reschedule_count,
    )


def reschedule(item: Appointment, *, office_id: int = 1, to: timedelta = timedelta(days=5)) -> None:
    check_can_reschedule(item, NOW, new_office_id=office_id, new_starts_at=NOW + to)


# --- one active appointment per case and type ------------------------------------------------


def test_the_active_key_is_per_case_and_type_or_per_account_without_a_case() -> None:
    bio = AppointmentKind.BIOMETRICS
    assert active_key(bio, case_id=7, account_id=1) == active_key(bio, case_id=7, account_id=2)
    assert active_key(bio, case_id=7, account_id=1) != active_key(
        AppointmentKind.IN_PERSON, case_id=7, account_id=1
    )
    assert active_key(bio, case_id=None, account_id=1) != active_key(bio, case_id=1, account_id=1)
    assert len(active_key(bio, case_id=10**12, account_id=1)) <= 60


# --- biometrics eligibility ------------------------------------------------------------------


def test_biometrics_can_be_booked_once_the_fingerprint_fee_was_received() -> None:
    check_biometrics_ready("fingerprint_fee_received")
    check_biometrics_ready("biometrics_scheduled")


@pytest.mark.parametrize("status", ["case_received", "approved", "no_such_status"])
def test_biometrics_cannot_be_booked_before_the_case_is_ready(status: str) -> None:
    with pytest.raises(NotBookable) as excinfo:
        check_biometrics_ready(status)
    assert excinfo.value.reason == "biometrics_not_ready"


# --- rescheduling ----------------------------------------------------------------------------


def test_an_appointment_can_be_rescheduled_twice_well_ahead() -> None:
    reschedule(appointment(reschedule_count=0))
    reschedule(appointment(reschedule_count=1))


def test_rescheduling_is_refused_after_two_reschedules() -> None:
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        reschedule(appointment(reschedule_count=2))
    assert excinfo.value.reason == "limit_reached"


def test_rescheduling_is_refused_within_12_hours_of_the_appointment() -> None:
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        reschedule(appointment(starts_in=timedelta(hours=11, minutes=59)))
    assert excinfo.value.reason == "within_12_hours"


def test_rescheduling_is_allowed_exactly_12_hours_before() -> None:
    reschedule(appointment(starts_in=timedelta(hours=12)))


@pytest.mark.parametrize("starts_in", [timedelta(0), timedelta(hours=-1), timedelta(days=-3)])
def test_rescheduling_is_refused_once_the_appointment_has_passed(starts_in: timedelta) -> None:
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        reschedule(appointment(starts_in=starts_in))
    assert excinfo.value.reason == "passed"


def test_a_cancelled_appointment_cannot_be_rescheduled() -> None:
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        reschedule(appointment(status=AppointmentStatus.CANCELLED))
    assert excinfo.value.reason == "cancelled"


def test_rescheduling_to_the_same_slot_is_refused() -> None:
    with pytest.raises(RescheduleNotAllowed) as excinfo:
        reschedule(appointment(starts_in=timedelta(days=3)), to=timedelta(days=3))
    assert excinfo.value.reason == "same_slot"


def test_the_same_time_at_another_office_is_another_slot() -> None:
    reschedule(appointment(starts_in=timedelta(days=3)), office_id=2, to=timedelta(days=3))


# --- cancelling ------------------------------------------------------------------------------


def test_an_appointment_can_be_cancelled_until_it_starts() -> None:
    check_can_cancel(appointment(starts_in=timedelta(minutes=5)), NOW)


def test_a_passed_appointment_cannot_be_cancelled() -> None:
    with pytest.raises(CancelNotAllowed) as excinfo:
        check_can_cancel(appointment(starts_in=timedelta(minutes=-5)), NOW)
    assert excinfo.value.reason == "passed"


def test_a_cancelled_appointment_cannot_be_cancelled_again() -> None:
    with pytest.raises(CancelNotAllowed) as excinfo:
        check_can_cancel(appointment(status=AppointmentStatus.CANCELLED), NOW)
    assert excinfo.value.reason == "cancelled"


# --- confirmation codes ----------------------------------------------------------------------


def test_confirmation_codes_are_short_and_use_no_ambiguous_characters() -> None:
    codes = {new_confirmation_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(CODE_ALPHABET)
    assert not set("01ILO") & set(CODE_ALPHABET)


def test_a_typed_code_is_normalised() -> None:
    assert normalize_code(" #abcd-2345 ") == "ABCD2345"
    assert normalize_code("abcd 2345") == "ABCD2345"


# --- calendar data ---------------------------------------------------------------------------


def test_calendar_data_carries_utc_times_the_office_zone_and_address() -> None:
    office = Office(
        name="Phoenix ASC", address="1 N Central Ave", city="Phoenix", state="AZ",
        zip_code="85004", timezone="America/Phoenix",
    )  # fmt: skip
    item = appointment(reschedule_count=1)
    event = calendar_event(item, office)
    assert event.uid == "appointment-ABCD2345@casebot"
    assert (event.starts_at, event.ends_at) == (item.starts_at, item.ends_at)
    assert event.starts_at.tzinfo is UTC
    assert event.timezone == "America/Phoenix"
    assert event.location == "1 N Central Ave, Phoenix, AZ 85004"
    assert event.sequence == 1
    assert not event.cancelled


# --- states and ZIP codes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [("NY", "NY"), ("ny", "NY"), ("New York", "NY"), (" new  york ", "NY"),
     ("district of columbia", "DC"), ("Puerto Rico", "PR")],
)  # fmt: skip
def test_a_state_is_found_by_code_or_name(text: str, code: str) -> None:
    assert normalize_state(text) == code


@pytest.mark.parametrize("text", ["", "XX", "Atlantis", "New"])
def test_an_unknown_state_is_refused(text: str) -> None:
    with pytest.raises(UnknownState):
        normalize_state(text)


@pytest.mark.parametrize(
    ("zip_code", "state"),
    [("10001", "NY"), ("85004", "AZ"), ("90012", "CA"), ("60601", "IL"), ("20500", "DC"),
     ("22201", "VA"), ("33101", "FL"), ("00901", "PR"), ("96910", "GU"), ("99501", "AK"),
     ("73301", "TX"), ("02108-1234", "MA"), ("055011234", "MA")],
)  # fmt: skip
def test_a_zip_code_belongs_to_its_state(zip_code: str, state: str) -> None:
    assert state_for_zip(zip_code) == state


@pytest.mark.parametrize("zip_code", ["1234", "ABCDE", "123456", "00001", "09001", "96201"])
def test_a_zip_code_of_no_state_is_refused(zip_code: str) -> None:
    with pytest.raises(InvalidZipCode):
        state_for_zip(zip_code)


def test_a_zip_plus_four_is_reduced_to_five_digits() -> None:
    assert normalize_zip("85004-2201") == "85004"


def test_zip3_ranges_do_not_overlap_and_name_known_states() -> None:
    prefixes = [p for low, high, _ in ZIP3_RANGES for p in range(low, high + 1)]
    assert len(prefixes) == len(set(prefixes))
    assert {state for _, _, state in ZIP3_RANGES} <= set(STATE_NAMES)


def test_neighbouring_states_are_neighbours_both_ways() -> None:
    for state, neighbours in NEIGHBORS.items():
        assert state not in neighbours
        for other in neighbours:
            assert state in NEIGHBORS[other], (state, other)
