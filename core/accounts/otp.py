"""Authenticator-app codes: HOTP (RFC 4226) and TOTP (RFC 6238), computed by pyotp.

The project speaks to these functions only, never to pyotp directly, so the rules that matter
here sit in one place: one time step of clock drift each way, and each step's code accepted at
most once (the account keeps the last accepted step).

Secrets are Base32 text, as authenticator apps show and scan them. New secrets carry 160 bits
(RFC 4226's recommendation). pyotp refuses secrets under 112 bits; an existing shorter secret
(the demo account's ``JBSWY3DPEHPK3PXP`` has 80 bits) is still honoured, because refusing it
would lock its owner out, but nothing here creates one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import unicodedata
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

import pyotp

from core.errors import CodeReused, InvalidCode

__all__ = [
    "DIGESTS",
    "MAX_DRIFT_STEPS",
    "TOTP_DIGITS",
    "TOTP_STEP_SECONDS",
    "generate_totp_secret",
    "hotp",
    "is_valid_secret",
    "normalize_digits",
    "provisioning_uri",
    "time_step",
    "totp",
    "verify_totp",
]

TOTP_STEP_SECONDS: Final = 30
TOTP_DIGITS: Final = 6
MAX_DRIFT_STEPS: Final = 1
SECRET_BYTES: Final = 20  # 160 bits
MIN_SECRET_BYTES: Final = 10  # 80 bits: the floor for secrets created elsewhere
DIGESTS: Final[dict[str, Callable[..., Any]]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}


class _TOTP(pyotp.TOTP):
    """pyotp's TOTP with the secret length floor set by this module (see the module docstring)."""

    def byte_secret(self) -> bytes:
        return _decode_secret(self.secret)


def _decode_secret(secret: str) -> bytes:
    text = secret.replace(" ", "").upper()
    text += "=" * (-len(text) % 8)
    try:
        raw = base64.b32decode(text)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the secret is not Base32") from exc
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError("the secret is shorter than 80 bits")
    return raw


def normalize_digits(typed: str) -> str:
    """Drop spaces and dashes, and read any script's decimal digits (Arabic-Indic, full-width,
    ...) as ASCII digits, as a phone keyboard in another language may type them."""
    chars = [char for char in typed.strip() if char not in " -"]
    return "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in chars)


def is_valid_secret(secret: str) -> bool:
    """Whether the text is a Base32 secret of at least 80 bits."""
    try:
        _decode_secret(secret)
    except ValueError:
        return False
    return True


def _generator(
    secret: str, digits: int = TOTP_DIGITS, digest: str = "sha1", step: int = TOTP_STEP_SECONDS
) -> _TOTP:
    if digest not in DIGESTS:
        raise ValueError(f"unsupported digest {digest!r}")
    return _TOTP(secret, digits=digits, digest=DIGESTS[digest], interval=step)


def hotp(secret: str, counter: int, digits: int = TOTP_DIGITS, digest: str = "sha1") -> str:
    """The HOTP code for a counter (RFC 4226).

    Raises:
        ValueError: the secret is not Base32 of at least 80 bits, the digest is not ``sha1``,
            ``sha256`` or ``sha512``, or digits is outside 6..10.
    """
    code: str = _generator(secret, digits, digest).generate_otp(counter)
    return code


def time_step(for_time: datetime | float, step: int = TOTP_STEP_SECONDS) -> int:
    """The TOTP time step (RFC 6238's T) of a moment: an aware datetime or Unix seconds."""
    seconds = for_time.timestamp() if isinstance(for_time, datetime) else for_time
    return int(seconds // step)


def totp(
    secret: str,
    for_time: datetime | float,
    digits: int = TOTP_DIGITS,
    digest: str = "sha1",
    step: int = TOTP_STEP_SECONDS,
) -> str:
    """The TOTP code at a moment (RFC 6238): the HOTP code of its time step.

    Raises:
        ValueError: as ``hotp``.
    """
    return hotp(secret, time_step(for_time, step), digits=digits, digest=digest)


def verify_totp(
    secret: str,
    code: str,
    now: datetime,
    last_step: int | None,
    *,
    digits: int = TOTP_DIGITS,
    digest: str = "sha1",
    step: int = TOTP_STEP_SECONDS,
) -> int:
    """Check an authenticator code, allowing one step of clock drift each way.

    Args:
        secret: the account's Base32 secret.
        code: the code as typed (spaces and dashes ignored, any script's digits read).
        now: the current time.
        last_step: the step of the last code accepted for this account, or None.

    Returns:
        The time step the code belongs to; store it as the new ``last_step``.

    Raises:
        CodeReused: the code is right but its step is not after ``last_step``.
        InvalidCode: the code matches none of the steps now-1, now and now+1.
    """
    typed = normalize_digits(code)
    if len(typed) != digits or not typed.isascii() or not typed.isdigit():
        raise InvalidCode()
    current = time_step(now, step)
    generator = _generator(secret, digits, digest)
    # The current step first: when a code matched two steps, the likelier one wins.
    for candidate in (current, current - 1, current + 1):
        if candidate < 0 or abs(candidate - current) > MAX_DRIFT_STEPS:
            continue
        if hmac.compare_digest(generator.generate_otp(candidate), typed):
            if last_step is not None and candidate <= last_step:
                raise CodeReused()
            return candidate
    raise InvalidCode()


def generate_totp_secret() -> str:
    """A new random 160-bit secret, in Base32 (32 characters)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str, issuer: str = "casebot") -> str:
    """The ``otpauth://`` URI an authenticator app reads from a QR code.

    Raises:
        ValueError: the secret is not Base32 of at least 80 bits.
    """
    uri: str = _generator(secret).provisioning_uri(name=email, issuer_name=issuer)
    return uri
