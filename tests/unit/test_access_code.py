from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.cases.access_code import (
    CASE_LOCK_DURATION,
    MAX_CASE_FAILURES,
    ClaimState,
    check_claim,
    current_failures,
    hash_access_code,
    normalize_access_code,
    record_failure,
    verify_access_code,
)
from core.errors import AccessCodeAlreadyUsed, CaseAccessLocked, CaseAlreadyLinked

RECEIPT = "EAC2190012345"
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def state(
    *, owner_id: int | None = None, used: bool = False, locked_until: datetime | None = None
) -> ClaimState:
    return ClaimState(
        receipt_number=RECEIPT, owner_id=owner_id, code_used=used, locked_until=locked_until
    )


@pytest.mark.parametrize(
    "typed", ["AB12CD34EF56", "ab12cd34ef56", "AB12-CD34-EF56", " ab12 cd34 ef56 "]
)
def test_normalises_case_spaces_and_dashes(typed: str) -> None:
    assert normalize_access_code(typed) == "AB12CD34EF56"


def test_does_not_confuse_letter_o_with_zero_in_a_code() -> None:
    assert normalize_access_code("AB12CD34EF5O") != normalize_access_code("AB12CD34EF50")


def test_stores_the_code_hashed_and_salted() -> None:
    first, second = hash_access_code("AB12CD34EF56"), hash_access_code("AB12CD34EF56")
    assert "AB12CD34EF56" not in first
    assert first != second


def test_verifies_the_code_as_people_type_it() -> None:
    stored = hash_access_code("AB12CD34EF56")
    assert verify_access_code("ab12-cd34-ef56", stored)
    assert not verify_access_code("AB12CD34EF57", stored)


@pytest.mark.parametrize("stored", [None, "", "garbage", "md5$1$00$00", "pbkdf2_sha256$x$zz$zz"])
def test_a_missing_or_malformed_hash_matches_nothing(stored: str | None) -> None:
    assert not verify_access_code("AB12CD34EF56", stored)


def test_an_empty_code_cannot_be_stored() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_access_code(" - ")


def test_a_free_case_may_be_claimed() -> None:
    check_claim(state(), account_id=1, now=NOW)


def test_a_case_already_in_this_account_says_so() -> None:
    with pytest.raises(CaseAlreadyLinked) as caught:
        check_claim(state(owner_id=1), account_id=1, now=NOW)
    assert caught.value.to_this_account
    assert caught.value.receipt_number == RECEIPT


def test_a_case_in_another_account_says_only_that_the_code_was_used() -> None:
    with pytest.raises(AccessCodeAlreadyUsed) as caught:
        check_claim(state(owner_id=2), account_id=1, now=NOW)
    assert caught.value.receipt_number == RECEIPT


def test_a_used_code_cannot_be_used_again() -> None:
    with pytest.raises(AccessCodeAlreadyUsed):
        check_claim(state(used=True), account_id=1, now=NOW)


def test_the_fifth_wrong_code_locks_the_account_out_of_the_case_for_an_hour() -> None:
    failures, until = 0, None
    for _ in range(MAX_CASE_FAILURES - 1):
        failures, until = record_failure(failures, until, NOW)
        assert until is None
    failures, until = record_failure(failures, until, NOW)
    assert (failures, until) == (MAX_CASE_FAILURES, NOW + CASE_LOCK_DURATION)
    assert (5, timedelta(hours=1)) == (MAX_CASE_FAILURES, CASE_LOCK_DURATION)
    with pytest.raises(CaseAccessLocked) as caught:
        check_claim(state(locked_until=until), account_id=1, now=NOW)
    assert caught.value.until == until
    later = NOW + CASE_LOCK_DURATION
    check_claim(state(locked_until=until), account_id=1, now=later)
    assert current_failures(failures, until, later) == 0
    assert record_failure(failures, until, later) == (1, None)  # a lock that ran out starts over
