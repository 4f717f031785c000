from __future__ import annotations

import pytest

from core.cases.access_code import (
    MAX_CASE_FAILURES,
    ClaimState,
    check_claim,
    hash_access_code,
    normalize_access_code,
    verify_access_code,
)
from core.errors import AccessCodeAlreadyUsed, CaseAlreadyLinked, TooManyAttempts

RECEIPT = "EAC2190012345"


def state(*, owner_id: int | None = None, used: bool = False, failures: int = 0) -> ClaimState:
    return ClaimState(receipt_number=RECEIPT, owner_id=owner_id, code_used=used, failures=failures)


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
    check_claim(state(), account_id=1)


def test_a_case_already_in_this_account_says_so() -> None:
    with pytest.raises(CaseAlreadyLinked) as caught:
        check_claim(state(owner_id=1), account_id=1)
    assert caught.value.to_this_account
    assert caught.value.receipt_number == RECEIPT


def test_a_case_in_another_account_says_only_that_the_code_was_used() -> None:
    with pytest.raises(AccessCodeAlreadyUsed) as caught:
        check_claim(state(owner_id=2), account_id=1)
    assert caught.value.receipt_number == RECEIPT


def test_a_used_code_cannot_be_used_again() -> None:
    with pytest.raises(AccessCodeAlreadyUsed):
        check_claim(state(used=True), account_id=1)


def test_a_case_locks_after_five_wrong_codes() -> None:
    check_claim(state(failures=MAX_CASE_FAILURES - 1), account_id=1)
    with pytest.raises(TooManyAttempts) as caught:
        check_claim(state(failures=MAX_CASE_FAILURES), account_id=1)
    assert caught.value.until is None
    assert MAX_CASE_FAILURES == 5
