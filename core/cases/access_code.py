"""Online Access Codes of paper-filed cases: normalising, hashing, and the rules of a claim.

A paper-filed case is added to an account with its receipt number and the Online Access Code
printed on the Account Access Notice. The code is stored hashed and used once. Wrong codes are
counted per case and account (:data:`MAX_CASE_FAILURES`, after which that account may not try
that case for :data:`CASE_LOCK_DURATION`) and per account (:data:`ACCOUNT_FAILURE_LIMIT` a day,
across cases, so one account cannot sweep many). A case is never locked for everyone: a
stranger's guesses would otherwise lock its owner out. The help desk's unlock and a new code
imported for the case clear its locks.

The code has about 60 bits of entropy and guessing is limited online, so a salted PBKDF2 of
modest cost is enough; it keeps the check fast inside a unit of work (unlike Argon2).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from core.errors import AccessCodeAlreadyUsed, CaseAccessLocked, CaseAlreadyLinked

__all__ = [
    "ACCOUNT_FAILURE_LIMIT",
    "ACCOUNT_FAILURE_WINDOW",
    "CASE_LOCK_DURATION",
    "MAX_CASE_FAILURES",
    "ClaimState",
    "check_claim",
    "current_failures",
    "hash_access_code",
    "normalize_access_code",
    "record_failure",
    "verify_access_code",
]

MAX_CASE_FAILURES: Final = 5
CASE_LOCK_DURATION: Final = timedelta(hours=1)
ACCOUNT_FAILURE_LIMIT: Final = 10
ACCOUNT_FAILURE_WINDOW: Final = timedelta(hours=24)

_SCHEME: Final = "pbkdf2_sha256"
_ITERATIONS: Final = 20_000
_SALT_BYTES: Final = 16
_SEPARATORS_RE: Final = re.compile("[\\s\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212.]+")


def normalize_access_code(text: str) -> str:
    """The code as stored: full-width folded, spaces and dashes dropped, upper case.

    Letters and digits are kept as typed: a code mixes both, so O and 0 are not interchangeable.
    """
    return _SEPARATORS_RE.sub("", unicodedata.normalize("NFKC", text)).upper()


def _digest(code: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", code.encode("utf-8", "surrogatepass"), salt, iterations)


def hash_access_code(code: str) -> str:
    """Hash a code (normalised first) with a fresh salt, as ``scheme$iterations$salt$hash``.

    Raises:
        ValueError: the code is empty once normalised.
    """
    normalized = normalize_access_code(code)
    if not normalized:
        raise ValueError("an access code cannot be empty")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _digest(normalized, salt, _ITERATIONS)
    return f"{_SCHEME}${_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_access_code(code: str, stored: str | None) -> bool:
    """Whether ``code`` (normalised first) matches the stored hash, compared in constant time.

    A missing or malformed stored hash matches nothing.
    """
    if not stored:
        return False
    try:
        scheme, iterations, salt_hex, digest_hex = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = bytes.fromhex(digest_hex)
        actual = _digest(normalize_access_code(code), bytes.fromhex(salt_hex), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


@dataclass(frozen=True, slots=True)
class ClaimState:
    """What the claim rules need to know about a case, as one account sees it."""

    receipt_number: str
    owner_id: int | None
    code_used: bool
    failures: int = 0
    locked_until: datetime | None = None


def current_failures(failures: int, locked_until: datetime | None, now: datetime) -> int:
    """The wrong codes that still count: none once a lock has run out."""
    if locked_until is not None and locked_until <= now:
        return 0
    return failures


def record_failure(
    failures: int, locked_until: datetime | None, now: datetime
) -> tuple[int, datetime | None]:
    """The (failures, locked_until) after one more wrong code: the
    :data:`MAX_CASE_FAILURES`-th locks for :data:`CASE_LOCK_DURATION` from ``now``."""
    counted = current_failures(failures, locked_until, now) + 1
    if counted >= MAX_CASE_FAILURES:
        return counted, now + CASE_LOCK_DURATION
    return counted, None


def check_claim(case: ClaimState, *, account_id: int, now: datetime) -> None:
    """Decide whether ``account_id`` may try an access code on this case at all.

    Raises:
        CaseAlreadyLinked: the case is in this account already (``to_this_account=True``).
        AccessCodeAlreadyUsed: the case is in another account, or its code was used; which
            account is not said.
        CaseAccessLocked: this account had :data:`MAX_CASE_FAILURES` wrong codes for this
            case; ``until`` is when it may try again.
    """
    if case.owner_id is not None and case.owner_id == account_id:
        raise CaseAlreadyLinked(receipt_number=case.receipt_number, to_this_account=True)
    if case.owner_id is not None or case.code_used:
        raise AccessCodeAlreadyUsed(receipt_number=case.receipt_number)
    if case.locked_until is not None and now < case.locked_until:
        raise CaseAccessLocked(until=case.locked_until)
