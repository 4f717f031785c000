"""The password policy (NIST SP 800-63B), email addresses, and Argon2id hashing."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from argon2 import PasswordHasher

import core.accounts.passwords as passwords
from core.accounts.passwords import (
    DUMMY_HASH,
    hash_password,
    hash_password_async,
    needs_rehash,
    verify_password,
    verify_password_async,
)
from core.accounts.policy import (
    check_password,
    is_common_password,
    is_repetitive,
    normalize_email,
    validate_email,
)
from core.errors import InvalidEmail, WeakPassword

LONG_PASSPHRASE = "correct horse battery staple, then a walk along the river at dusk " * 2


def _reason(password: str, email: str | None = None) -> str:
    with pytest.raises(WeakPassword) as caught:
        check_password(password, email)
    return caught.value.reason


# --- length ----------------------------------------------------------------------------------


def test_refuses_passwords_under_8_characters() -> None:
    assert _reason("zebr4-x") == "too_short"


def test_accepts_8_characters_with_no_composition_rules() -> None:
    assert check_password("zebrafox") == "zebrafox"


def test_counts_unicode_code_points_not_bytes() -> None:
    # 8 code points, 16 bytes in UTF-8.
    assert check_password("южный-ёж") == "южный-ёж"
    assert _reason("южный-ё") == "too_short"


def test_counts_length_after_nfkc() -> None:
    # 7 code points as typed; the ligature ﬃ becomes "ffi", so 9 after NFKC.
    assert len("ﬃnal-go") == 7
    assert check_password("ﬃnal-go") == "ffinal-go"


def test_returns_the_nfkc_form_to_hash() -> None:
    assert check_password("ｓｕｎｆｌｏｗｅｒ-４２") == "sunflower-42"


def test_accepts_64_and_up_to_128_characters() -> None:
    assert check_password(LONG_PASSPHRASE[:64])
    assert check_password(LONG_PASSPHRASE[:128])


def test_refuses_more_than_128_characters() -> None:
    assert _reason(LONG_PASSPHRASE[:129]) == "too_long"


def test_accepts_any_unicode_including_spaces_and_emoji() -> None:
    assert check_password("mi casa 🌵 es tu casa")


# --- common, email, repetitive ---------------------------------------------------------------


@pytest.mark.parametrize("password", ["password", "PassWord", "iloveyou", "qwertyuiop"])
def test_refuses_common_passwords_ignoring_case(password: str) -> None:
    assert _reason(password) == "common"


def test_the_common_list_is_zxcvbns_30000_passwords() -> None:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    words = FREQUENCY_LISTS["passwords"]
    assert len(words) == 30_000
    assert all(is_common_password(word.upper()) for word in words[-50:])


def test_refuses_a_password_containing_the_emails_local_part() -> None:
    assert _reason("my-Maria.Lopez-pass", "maria.lopez@example.com") == "contains_email"


def test_the_email_check_normalises_the_email_first() -> None:
    assert _reason("hello-maria.lopez!", "  MARIA.Lopez@Example.com ") == "contains_email"


def test_a_very_short_local_part_does_not_forbid_its_letters() -> None:
    assert check_password("banjo-mango-tree", "jo@example.com")


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaa", "12121212", "abcabcab", "xyzxyzxyzx", "zzzzyyyy", "abcdefgh", "98765432"],
)
def test_refuses_trivially_repetitive_or_sequential_passwords(password: str) -> None:
    assert _reason(password) == "repetitive"


@pytest.mark.parametrize("password", ["sunflower-passport-42", "zebracloudmint", "abcdefgz"])
def test_patterned_check_leaves_ordinary_passwords_alone(password: str) -> None:
    assert not is_repetitive(password)


def test_weak_password_carries_the_minimum_for_the_message() -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password("short")
    assert caught.value.min_length == 8


# --- email addresses -------------------------------------------------------------------------


def test_normalises_email_by_stripping_nfkc_and_lower_case() -> None:
    assert normalize_email("  Ana.Demo@EXAMPLE.com \n") == "ana.demo@example.com"
    assert normalize_email("ａｎａ@ｅｘａｍｐｌｅ.com") == "ana@example.com"


def test_validate_email_returns_the_normalised_form() -> None:
    assert validate_email(" Ana.Demo+uscis@Example.COM") == "ana.demo+uscis@example.com"


def test_accepts_an_internationalised_domain() -> None:
    assert validate_email("josé@correo.españa.es") == "josé@correo.españa.es"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-at-sign",
        "a@b",
        "a@@b.com",
        "@example.com",
        "ana@",
        "a b@example.com",
        ".ana@example.com",
        "ana.@example.com",
        "an..a@example.com",
        "ana@-example.com",
        "ana@example..com",
        "ana@example.123",
        "ana@exa_mple.com",
        "a" * 65 + "@example.com",
        "ana@" + "b" * 250 + ".com",
    ],
)
def test_refuses_what_is_not_an_email_address(raw: str) -> None:
    with pytest.raises(InvalidEmail):
        validate_email(raw)


# --- hashing ---------------------------------------------------------------------------------


def test_hashes_with_argon2id_at_owasp_parameters() -> None:
    stored = hash_password("sunflower-passport-42")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "sunflower-passport-42")
    assert not verify_password(stored, "sunflower-passport-43")
    assert not needs_rehash(stored)


def test_a_hash_made_with_weaker_parameters_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x")
    assert needs_rehash(weak)


def test_a_malformed_hash_never_verifies_and_needs_rehash() -> None:
    assert not verify_password("not a hash", "anything")
    assert needs_rehash("not a hash")


def test_the_dummy_hash_uses_todays_parameters() -> None:
    # Otherwise an unknown email would answer faster (or slower) than a wrong password.
    assert not needs_rehash(DUMMY_HASH)
    assert not verify_password(DUMMY_HASH, "")


async def test_async_helpers_hash_and_verify() -> None:
    stored = await hash_password_async("zebracloudmint")
    assert await verify_password_async(stored, "zebracloudmint")


async def test_no_more_hashes_run_at_once_than_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(passwords, "MAX_CONCURRENT_HASHES", 2)
    running = 0
    peak = 0
    lock = threading.Lock()

    def slow_hash(secret: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        return secret

    monkeypatch.setattr(passwords, "hash_password", slow_hash)
    results = await asyncio.gather(*(hash_password_async(str(i)) for i in range(8)))
    assert results == [str(i) for i in range(8)]
    assert peak == 2


@pytest.mark.parametrize(
    ("raw", "meant"),
    [
        ("maria@gmial.com", "maria@gmail.com"),
        ("Maria@Hotmial.com", "maria@hotmail.com"),
        ("li@yahooo.com", "li@yahoo.com"),
        ("li@outlok.com", "li@outlook.com"),
        ("li@iclod.com", "li@icloud.com"),
        ("li@company.con", "li@company.com"),
    ],
)
def test_a_misspelled_provider_is_asked_about_with_the_address_it_probably_meant(
    raw: str, meant: str
) -> None:
    with pytest.raises(InvalidEmail) as refused:
        validate_email(raw)
    assert (refused.value.reason, refused.value.suggestion) == ("typo", meant)


@pytest.mark.parametrize("raw", ["a@mail.invalid", "a@host.test", "a@box.localhost", "a@nas.local"])
def test_an_address_no_mail_can_reach_is_refused(raw: str) -> None:
    with pytest.raises(InvalidEmail) as refused:
        validate_email(raw)
    assert refused.value.reason == "no_mail"


@pytest.mark.parametrize(
    "raw", ["ana.demo@example.com", "maria@agency.example", "li@company.co", "li@gmail.com"]
)
def test_documentation_domains_and_real_ones_are_not_taken_for_typos(raw: str) -> None:
    assert validate_email(raw) == raw
