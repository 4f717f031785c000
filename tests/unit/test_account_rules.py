"""Account rules that need no database: lockout, email codes, backup codes, reset answers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

import core.accounts.email_codes as email_codes
from core.accounts.backup_codes import (
    BACKUP_CODE_ALPHABET,
    format_backup_code,
    generate_backup_code,
    looks_like_backup_code,
    normalize_backup_code,
)
from core.accounts.email_codes import (
    CODE_TTL,
    check_code,
    code_matches,
    generate_email_code,
    hash_email_code,
    is_pending,
    resend_wait_seconds,
)
from core.accounts.lockout import (
    attempts_left,
    ensure_not_locked,
    lockout_duration,
    record_failure,
    record_success,
    unlock,
)
from core.accounts.models import Account, CodePurpose, EmailCode
from core.accounts.questions import (
    RESET_QUESTION_IDS,
    check_question_id,
    normalize_answer,
    validate_answers,
)
from core.errors import (
    AccountLocked,
    CodeExpired,
    CodeReused,
    InvalidCode,
    InvalidResetAnswer,
    TooManyAttempts,
    UnknownResetQuestion,
)
from tests.fakes import FakeClock


def _account() -> Account:
    return Account(email="ana@example.com", password_hash="x", failed_logins=0, lockouts=0)


# --- lockout ---------------------------------------------------------------------------------


def test_locks_the_account_after_five_failures(clock: FakeClock) -> None:
    account = _account()
    for left in (4, 3, 2, 1):
        assert record_failure(account, clock.now()) is None
        assert attempts_left(account) == left
    until = record_failure(account, clock.now())
    assert until == clock.now() + timedelta(minutes=20)
    with pytest.raises(AccountLocked) as caught:
        ensure_not_locked(account, clock.now())
    assert caught.value.until == until


def test_the_lock_lifts_after_20_minutes(clock: FakeClock) -> None:
    account = _account()
    for _ in range(5):
        record_failure(account, clock.now())
    clock.advance(minutes=19, seconds=59)
    with pytest.raises(AccountLocked):
        ensure_not_locked(account, clock.now())
    clock.advance(seconds=1)
    ensure_not_locked(account, clock.now())
    assert attempts_left(account) == 5


def test_each_further_lockout_doubles_until_24_hours(clock: FakeClock) -> None:
    account = _account()
    durations = []
    for _ in range(8):
        for _ in range(5):
            until = record_failure(account, clock.now())
        assert until is not None
        durations.append(until - clock.now())
        clock.set(until)
    assert durations[:4] == [timedelta(minutes=m) for m in (20, 40, 80, 160)]
    assert durations[-1] == timedelta(hours=24)
    assert lockout_duration(1000) == timedelta(hours=24)


def test_a_success_resets_the_failure_counters(clock: FakeClock) -> None:
    account = _account()
    for _ in range(5):
        record_failure(account, clock.now())
    clock.advance(minutes=20)
    for _ in range(4):
        record_failure(account, clock.now())
    record_success(account)
    assert (account.failed_logins, account.lockouts, account.locked_until) == (0, 0, None)
    for _ in range(5):
        until = record_failure(account, clock.now())
    assert until == clock.now() + timedelta(minutes=20)  # a first lockout again


def test_unlock_lifts_a_current_lock(clock: FakeClock) -> None:
    account = _account()
    for _ in range(5):
        record_failure(account, clock.now())
    unlock(account)
    ensure_not_locked(account, clock.now())


# --- email codes -----------------------------------------------------------------------------


def _code_row(clock: FakeClock, code: str = "123456") -> EmailCode:
    return EmailCode(
        email="ana@example.com",
        purpose=CodePurpose.SIGN_IN,
        code_hash=hash_email_code(code),
        expires_at=clock.now() + CODE_TTL,
        attempts=0,
        created_at=clock.now(),
    )


def test_email_codes_are_six_digits_keeping_leading_zeros(monkeypatch: pytest.MonkeyPatch) -> None:
    assert re.fullmatch(r"\d{6}", generate_email_code())
    monkeypatch.setattr(email_codes.secrets, "randbelow", lambda _n: 42)
    assert generate_email_code() == "000042"


def test_email_codes_are_stored_hashed_with_a_salt_per_row() -> None:
    first, second = hash_email_code("123456"), hash_email_code("123456")
    assert "123456" not in first
    assert first != second
    assert code_matches(first, "123456")
    assert code_matches(first, "123 456")
    assert not code_matches(first, "123457")


def test_an_unusable_code_row_matches_nothing() -> None:
    assert not code_matches("!" + "0" * 80, "123456")
    assert not code_matches("", "")


def test_the_right_code_passes_within_10_minutes(clock: FakeClock) -> None:
    row = _code_row(clock)
    clock.advance(minutes=9, seconds=59)
    check_code(row, "123456", clock.now())
    assert row.attempts == 0


def test_a_code_expires_after_10_minutes(clock: FakeClock) -> None:
    row = _code_row(clock)
    clock.advance(minutes=10)
    with pytest.raises(CodeExpired):
        check_code(row, "123456", clock.now())


def test_a_code_allows_five_tries(clock: FakeClock) -> None:
    row = _code_row(clock)
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(InvalidCode) as caught:
            check_code(row, "000000", clock.now())
        assert caught.value.attempts_left == left
    with pytest.raises(TooManyAttempts):
        check_code(row, "123456", clock.now())
    assert not is_pending(row, clock.now())


def test_a_used_code_is_refused(clock: FakeClock) -> None:
    row = _code_row(clock)
    row.used_at = clock.now()
    with pytest.raises(CodeReused):
        check_code(row, "123456", clock.now())


def test_no_code_issued_is_an_invalid_code(clock: FakeClock) -> None:
    with pytest.raises(InvalidCode):
        check_code(None, "123456", clock.now())


def test_a_new_code_may_be_sent_60_seconds_after_the_last(clock: FakeClock) -> None:
    row = _code_row(clock)
    assert resend_wait_seconds(None, clock.now()) == 0
    assert resend_wait_seconds(row, clock.now()) == 60
    clock.advance(seconds=59.5)
    assert resend_wait_seconds(row, clock.now()) == 1
    clock.advance(seconds=0.5)
    assert resend_wait_seconds(row, clock.now()) == 0


# --- backup codes ----------------------------------------------------------------------------


def test_backup_codes_are_three_groups_of_four_with_60_bits() -> None:
    code = generate_backup_code()
    group = f"[{BACKUP_CODE_ALPHABET}]{{4}}"
    assert re.fullmatch(f"{group}-{group}-{group}", code)
    assert len(set(BACKUP_CODE_ALPHABET)) ** 12 == 2**60
    assert generate_backup_code() != code


def test_the_backup_alphabet_has_no_o_or_i() -> None:
    assert not set("OI") & set(BACKUP_CODE_ALPHABET)


def test_the_demo_backup_code_is_a_backup_code() -> None:
    assert format_backup_code("7K3Q-9WXM-2PLD") == "7K3Q-9WXM-2PLD"


@pytest.mark.parametrize(
    "typed", ["7k3q-9wxm-2pld", " 7K3Q 9WXM 2PLD ", "7K3Q9WXM2PLD", "7k3q_9wxm.2pld"]
)
def test_backup_code_input_ignores_case_spaces_and_dashes(typed: str) -> None:
    assert normalize_backup_code(typed) == "7K3Q9WXM2PLD"


def test_backup_code_input_reads_o_as_zero_and_i_as_one() -> None:
    assert normalize_backup_code("oi23-4567-89ab") == "0123456789AB"


@pytest.mark.parametrize("typed", ["7K3Q-9WXM-2PL", "7K3Q-9WXM-2PLDD", "7K3Q-9WXM-2PLS", "123456"])
def test_what_is_not_a_backup_code_is_refused(typed: str) -> None:
    assert not looks_like_backup_code(typed)
    with pytest.raises(InvalidCode):
        normalize_backup_code(typed)


# --- reset questions -------------------------------------------------------------------------


def test_the_reset_questions_are_a_fixed_list_of_ids() -> None:
    assert set(RESET_QUESTION_IDS) == {
        "first_pet",
        "birth_city",
        "first_school",
        "childhood_street",
        "favorite_teacher",
    }
    assert check_question_id("first_pet") == "first_pet"


def test_an_unknown_question_id_is_refused() -> None:
    with pytest.raises(UnknownResetQuestion) as caught:
        check_question_id("mothers_maiden_name")
    assert caught.value.question_id == "mothers_maiden_name"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  São   PAULO ", "sao paulo"),
        ("Maple", "maple"),
        ("Ｍａｐｌｅ", "maple"),
        ("Mr.\tNguyễn", "mr. nguyen"),
    ],
)
def test_answers_ignore_case_accents_and_spacing(typed: str, expected: str) -> None:
    assert normalize_answer(typed) == expected


def test_registration_answers_are_checked_and_normalised() -> None:
    assert validate_answers({"first_pet": " Rex "}) == {"first_pet": "rex"}


def test_at_least_one_answer_is_needed() -> None:
    with pytest.raises(InvalidResetAnswer) as caught:
        validate_answers({})
    assert caught.value.reason == "missing"


def test_an_empty_answer_is_refused() -> None:
    with pytest.raises(InvalidResetAnswer) as caught:
        validate_answers({"first_pet": "  \u0301 "})
    assert (caught.value.question_id, caught.value.reason) == ("first_pet", "empty")


def test_an_over_long_answer_is_refused() -> None:
    with pytest.raises(InvalidResetAnswer) as caught:
        validate_answers({"birth_city": "x" * 101})
    assert caught.value.reason == "too_long"


def test_answers_to_unknown_questions_are_refused() -> None:
    with pytest.raises(UnknownResetQuestion):
        validate_answers({"first_pet": "rex", "first_car": "beetle"})
