"""One-time codes: the RFC test vectors, clock drift, and single use, through core.accounts.otp."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from core.accounts.otp import (
    generate_totp_secret,
    hotp,
    is_valid_secret,
    provisioning_uri,
    time_step,
    totp,
    verify_totp,
)
from core.errors import CodeReused, InvalidCode
from tests.fakes import FakeClock


def _b32(seed: str) -> str:
    return base64.b32encode(seed.encode("ascii")).decode("ascii")


# RFC 6238 Appendix B: the seed is "1234567890" repeated to the digest's key length.
SEED_SHA1 = _b32("12345678901234567890")  # 20 bytes
SEED_SHA256 = _b32("12345678901234567890123456789012")  # 32 bytes
SEED_SHA512 = _b32("1234567890" * 6 + "1234")  # 64 bytes
SEEDS = {"sha1": SEED_SHA1, "sha256": SEED_SHA256, "sha512": SEED_SHA512}

RFC6238_VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]

RFC4226_VECTORS = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226_VECTORS)))
def test_hotp_matches_rfc_4226_appendix_d(counter: int, expected: str) -> None:
    assert hotp(SEED_SHA1, counter) == expected


@pytest.mark.parametrize(("unix_time", "sha1", "sha256", "sha512"), RFC6238_VECTORS)
def test_totp_matches_rfc_6238_appendix_b(
    unix_time: int, sha1: str, sha256: str, sha512: str
) -> None:
    assert totp(SEED_SHA1, unix_time, digits=8, digest="sha1") == sha1
    assert totp(SEED_SHA256, unix_time, digits=8, digest="sha256") == sha256
    assert totp(SEED_SHA512, unix_time, digits=8, digest="sha512") == sha512


def test_totp_takes_an_aware_datetime_as_well_as_unix_seconds() -> None:
    moment = datetime.fromtimestamp(1111111109, tz=UTC)
    assert totp(SEED_SHA1, moment, digits=8) == "07081804"


def test_verify_totp_accepts_8_digit_sha512_codes() -> None:
    now = datetime.fromtimestamp(1234567890, tz=UTC)
    step = verify_totp(SEED_SHA512, "93441116", now, None, digits=8, digest="sha512")
    assert step == 1234567890 // 30


def test_an_unknown_digest_is_refused() -> None:
    with pytest.raises(ValueError, match="digest"):
        hotp(SEED_SHA1, 0, digest="md5")


# --- verification ----------------------------------------------------------------------------


def test_accepts_the_current_code_and_returns_its_step(clock: FakeClock) -> None:
    secret = generate_totp_secret()
    code = totp(secret, clock.now())
    assert verify_totp(secret, code, clock.now(), None) == time_step(clock.now())


@pytest.mark.parametrize("drift_steps", [-1, 1])
def test_accepts_one_step_of_drift_each_way(clock: FakeClock, drift_steps: int) -> None:
    secret = generate_totp_secret()
    code = totp(secret, clock.now() + timedelta(seconds=30 * drift_steps))
    assert verify_totp(secret, code, clock.now(), None) == time_step(clock.now()) + drift_steps


@pytest.mark.parametrize("drift_steps", [-2, 2])
def test_refuses_two_steps_of_drift(clock: FakeClock, drift_steps: int) -> None:
    secret = generate_totp_secret()
    code = totp(secret, clock.now() + timedelta(seconds=30 * drift_steps))
    with pytest.raises(InvalidCode):
        verify_totp(secret, code, clock.now(), None)


def test_refuses_a_code_already_accepted(clock: FakeClock) -> None:
    secret = generate_totp_secret()
    code = totp(secret, clock.now())
    step = verify_totp(secret, code, clock.now(), None)
    with pytest.raises(CodeReused):
        verify_totp(secret, code, clock.now(), step)


def test_refuses_a_code_older_than_the_last_accepted_one(clock: FakeClock) -> None:
    secret = generate_totp_secret()
    previous = totp(secret, clock.now() - timedelta(seconds=30))
    with pytest.raises(CodeReused):
        verify_totp(secret, previous, clock.now(), time_step(clock.now()))


def test_accepts_the_next_step_after_the_last_accepted_one(clock: FakeClock) -> None:
    secret = generate_totp_secret()
    last = time_step(clock.now())
    clock.advance(seconds=30)
    assert verify_totp(secret, totp(secret, clock.now()), clock.now(), last) == last + 1


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12345x"])
def test_refuses_text_that_is_not_six_ascii_digits(clock: FakeClock, typed: str) -> None:
    with pytest.raises(InvalidCode):
        verify_totp(generate_totp_secret(), typed, clock.now(), None)


def test_ignores_spaces_in_a_typed_code(clock: FakeClock) -> None:
    secret = generate_totp_secret()
    code = totp(secret, clock.now())
    assert verify_totp(secret, f"{code[:3]} {code[3:]}", clock.now(), None)


def test_reads_digits_typed_in_another_script(clock: FakeClock) -> None:
    secret = generate_totp_secret()
    code = totp(secret, clock.now())
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in code)
    assert verify_totp(secret, arabic_indic, clock.now(), None)


def test_a_wrong_code_is_refused(clock: FakeClock) -> None:
    secret = generate_totp_secret()
    right = totp(secret, clock.now())
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    with pytest.raises(InvalidCode):
        verify_totp(secret, wrong, clock.now(), None)


# --- secrets and enrolment -------------------------------------------------------------------


def test_new_secrets_are_random_160_bit_base32() -> None:
    first, second = generate_totp_secret(), generate_totp_secret()
    assert first != second
    assert len(base64.b32decode(first)) == 20


def test_the_demo_accounts_80_bit_secret_still_works(clock: FakeClock) -> None:
    # pyotp itself refuses secrets under 112 bits; the demo secret must keep working.
    assert is_valid_secret("JBSWY3DPEHPK3PXP")
    code = totp("JBSWY3DPEHPK3PXP", clock.now())
    assert verify_totp("JBSWY3DPEHPK3PXP", code, clock.now(), None)


@pytest.mark.parametrize("secret", ["", "not base32!", "JBSWY3DP"])
def test_malformed_or_short_secrets_are_refused(secret: str) -> None:
    assert not is_valid_secret(secret)
    with pytest.raises(ValueError, match="secret"):
        hotp(secret, 0)


def test_provisioning_uri_names_the_issuer_account_and_secret() -> None:
    uri = provisioning_uri("JBSWY3DPEHPK3PXP", "ana.demo@example.com")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth"
    assert parsed.netloc == "totp"
    assert unquote(parsed.path) == "/casebot:ana.demo@example.com"
    query = parse_qs(parsed.query)
    assert query["secret"] == ["JBSWY3DPEHPK3PXP"]
    assert query["issuer"] == ["casebot"]
