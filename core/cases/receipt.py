"""The receipt number: parsing what people type, and finding one inside a sentence.

A receipt number is 3 letters and 10 digits (``IOE0912345678``). People type it with spaces,
dashes, dots, a ``#``, in lower case, in full-width characters, or with the letter O for zero and
I or L for one among the digits. :meth:`ReceiptNumber.parse` repairs what is unambiguous and
rejects the rest with an :class:`~core.errors.InvalidReceiptNumber` that says why, and what the
text is instead when it is recognisably another USCIS number (A-Number, online account number,
Online Access Code), so the chat can say so instead of a bare "invalid".
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from core.errors import InvalidReceiptNumber

__all__ = [
    "PREFIXES",
    "LooksLike",
    "Reason",
    "ReceiptNumber",
    "ServiceCenter",
    "find_receipt_number",
]


class ServiceCenter(enum.StrEnum):
    """Where a receipt number says the case was receipted (a code; the chat layer names it)."""

    VERMONT = "VSC"
    CALIFORNIA = "CSC"
    NEBRASKA = "NSC"
    TEXAS = "TSC"
    NATIONAL_BENEFITS = "NBC"
    POTOMAC = "PSC"
    ELIS = "ELIS"  # filed online: the number names the electronic system, not a center


class Reason(enum.StrEnum):
    """Why a text is not a receipt number (``InvalidReceiptNumber.reason``)."""

    EMPTY = "empty"
    LENGTH = "length"
    SHAPE = "shape"
    PREFIX = "prefix"


class LooksLike(enum.StrEnum):
    """What a text that is not a receipt number is instead (``InvalidReceiptNumber.looks_like``)."""

    A_NUMBER = "a_number"
    ONLINE_ACCOUNT_NUMBER = "online_account_number"
    ACCESS_CODE = "access_code"


PREFIXES: Final[dict[str, ServiceCenter]] = {
    "EAC": ServiceCenter.VERMONT,
    "VSC": ServiceCenter.VERMONT,
    "WAC": ServiceCenter.CALIFORNIA,
    "CSC": ServiceCenter.CALIFORNIA,
    "LIN": ServiceCenter.NEBRASKA,
    "NSC": ServiceCenter.NEBRASKA,
    "SRC": ServiceCenter.TEXAS,
    "TSC": ServiceCenter.TEXAS,
    "MSC": ServiceCenter.NATIONAL_BENEFITS,
    "NBC": ServiceCenter.NATIONAL_BENEFITS,
    "IOE": ServiceCenter.ELIS,
    "YSC": ServiceCenter.POTOMAC,
}
ELECTRONIC_PREFIX: Final = "IOE"
LENGTH: Final = 13
PREFIX_LENGTH: Final = 3

# Characters people put inside a number: spaces (any), dashes (any), dots and '#'.
_SEPARATORS: Final = "\\s\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212.#"
_SEPARATOR_RE: Final = re.compile(f"[{_SEPARATORS}]+")
# Letters that are unambiguous slips for digits, once we know we are among the digits.
_DIGIT_SLIPS: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Digits typed for letters in the prefix ("I0E"): each with the letters it may stand for.
_LETTER_SLIPS: Final = {"0": "O", "1": "IL", "5": "S", "8": "B"}
_CANONICAL_RE: Final = re.compile(r"[A-Z]{3}[0-9]{10}")
_A_NUMBER_RE: Final = re.compile(r"A[0-9]{8,9}")
_ACCOUNT_NUMBER_RE: Final = re.compile(r"[0-9]{12}")
_ACCESS_CODE_RE: Final = re.compile(r"(?=.*[A-Z])(?=.*[0-9])[A-Z0-9]{12}")

# In a sentence: a known prefix not glued to a preceding ASCII letter or digit (other scripts
# may touch it: Chinese puts no space before a number), then 10 digit-like characters with a
# few separators between them, not followed by another digit.
_DIGIT_LIKE: Final = "[0-9OoIiLl]"
_SEP: Final = f"[{_SEPARATORS}]"
_IN_TEXT_RE: Final = re.compile(
    rf"(?<![A-Za-z0-9])(?:{'|'.join(PREFIXES)}){_SEP}{{0,3}}"
    rf"{_DIGIT_LIKE}(?:{_SEP}{{0,3}}{_DIGIT_LIKE}){{9}}(?![0-9])",
    re.IGNORECASE,
)
# A match must hold this many real digits: "NSC lol oil ill..." is not a receipt number.
_MIN_REAL_DIGITS_IN_TEXT: Final = 6


def _clean(text: str) -> str:
    """Fold full-width forms and any script's digits (Arabic-Indic, Persian ...), drop
    separators, upper-case."""
    if text.isascii():  # as typed on most keyboards: nothing to fold
        return _SEPARATOR_RE.sub("", text).upper()
    folded = "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char
        for char in unicodedata.normalize("NFKC", text)
    )
    return _SEPARATOR_RE.sub("", folded).upper()


def _looks_like(cleaned: str) -> LooksLike | None:
    if _A_NUMBER_RE.fullmatch(cleaned):
        return LooksLike.A_NUMBER
    if _ACCOUNT_NUMBER_RE.fullmatch(cleaned):
        return LooksLike.ONLINE_ACCOUNT_NUMBER
    if _ACCESS_CODE_RE.fullmatch(cleaned):
        # A known prefix and 9 digit-like characters is a receipt number missing a digit.
        truncated = (
            cleaned[:PREFIX_LENGTH] in PREFIXES
            and cleaned[PREFIX_LENGTH:].translate(_DIGIT_SLIPS).isdigit()
        )
        return None if truncated else LooksLike.ACCESS_CODE
    return None


def _meant_prefix(typed: str) -> str | None:
    """The known prefix these 3 characters become with letters for look-alike digits."""
    candidates = [""]
    for char in typed:
        candidates = [c + letter for c in candidates for letter in _LETTER_SLIPS.get(char, char)]
    known = [c for c in candidates if c != typed and c in PREFIXES]
    return known[0] if len(known) == 1 else None


def _wrong_length(cleaned: str, looks_like: LooksLike | None) -> InvalidReceiptNumber:
    """The error for a text of the wrong length, with the digits counted after a known
    prefix ("WAC" and 9 digits is one digit short)."""
    prefix, rest = cleaned[:PREFIX_LENGTH], cleaned[PREFIX_LENGTH:].translate(_DIGIT_SLIPS)
    if looks_like is None and prefix in PREFIXES and rest.isdigit() and rest.isascii():
        return InvalidReceiptNumber(reason=Reason.LENGTH, prefix=prefix, digits=len(rest))
    return InvalidReceiptNumber(reason=Reason.LENGTH, looks_like=looks_like)


@dataclass(frozen=True, slots=True)
class ReceiptNumber:
    """A valid receipt number, canonical: 3 upper-case letters of a known prefix + 10 digits.

    Build one with :meth:`parse`; ``str()`` gives the 13 characters. Never log it whole: use
    :meth:`masked`.

    Raises:
        InvalidReceiptNumber: (when built directly) the value is not canonical.
    """

    value: str

    def __post_init__(self) -> None:
        if not (
            isinstance(self.value, str)
            and _CANONICAL_RE.fullmatch(self.value)
            and self.value[:PREFIX_LENGTH] in PREFIXES
        ):
            raise InvalidReceiptNumber(reason=Reason.SHAPE)

    @classmethod
    def parse(cls, text: str | ReceiptNumber) -> ReceiptNumber:
        """Read a receipt number as a person types it.

        Spaces, dashes, dots and ``#`` are dropped, letters upper-cased, full-width characters
        folded, and among the 10 digits a letter O is read as zero and I or L as one.

        Raises:
            InvalidReceiptNumber: ``reason`` is ``empty``, ``length`` (not 13 characters),
                ``shape`` (not 3 letters + 10 digits) or ``prefix`` (no such prefix);
                ``looks_like`` names an A-Number, online account number or access code;
                ``prefix`` and ``digits`` count the digits after a known prefix, ``meant``
                names the prefix a digit typed for a letter hides ("I0E").
        """
        if isinstance(text, ReceiptNumber):
            return text
        if not isinstance(text, str):
            raise InvalidReceiptNumber(reason=Reason.SHAPE)
        if (
            len(text) == LENGTH
            and text[:PREFIX_LENGTH] in PREFIXES
            and _CANONICAL_RE.fullmatch(text)
        ):
            return cls(text)  # canonical already (as stored, as passed between layers)
        cleaned = _clean(text)
        if not cleaned:
            raise InvalidReceiptNumber(reason=Reason.EMPTY)
        looks_like = _looks_like(cleaned)
        if len(cleaned) != LENGTH:
            raise _wrong_length(cleaned, looks_like)
        candidate = cleaned[:PREFIX_LENGTH] + cleaned[PREFIX_LENGTH:].translate(_DIGIT_SLIPS)
        if not _CANONICAL_RE.fullmatch(candidate):
            digits_follow = candidate[PREFIX_LENGTH:].isdigit() and looks_like is None
            raise InvalidReceiptNumber(
                reason=Reason.SHAPE,
                looks_like=looks_like,
                meant=_meant_prefix(candidate[:PREFIX_LENGTH]) if digits_follow else None,
            )
        if candidate[:PREFIX_LENGTH] not in PREFIXES:
            raise InvalidReceiptNumber(
                reason=Reason.PREFIX,
                looks_like=looks_like,
                meant=None if looks_like else _meant_prefix(candidate[:PREFIX_LENGTH]),
            )
        return cls(candidate)

    def __str__(self) -> str:
        return self.value

    @property
    def prefix(self) -> str:
        return self.value[:PREFIX_LENGTH]

    @property
    def service_center(self) -> ServiceCenter:
        """The center the prefix names (``ELIS`` for numbers of cases filed online)."""
        return PREFIXES[self.prefix]

    @property
    def is_electronic(self) -> bool:
        """Filed online (IOE): the digits carry no year, workday or sequence."""
        return self.prefix == ELECTRONIC_PREFIX

    @property
    def fiscal_year(self) -> int | None:
        """The fiscal year of a legacy number (``AAA YY DDD NNNNN``), else None."""
        if self.is_electronic:
            return None
        yy = int(self.value[3:5])
        return 1900 + yy if yy >= 90 else 2000 + yy

    @property
    def workday(self) -> int | None:
        """The workday of the fiscal year of a legacy number, when the digits hold one.

        Numbers of the 900 series (lockbox and electronic intake) carry no workday: None.
        """
        if self.is_electronic:
            return None
        day = int(self.value[5:8])
        return day if 1 <= day <= 366 else None

    @property
    def sequence(self) -> int | None:
        """The sequence number within the workday of a legacy number, else None."""
        if self.is_electronic:
            return None
        return int(self.value[8:])

    def masked(self) -> str:
        """The form for logs: prefix and last 3 digits only (``IOE*******678``)."""
        return f"{self.prefix}{'*' * 7}{self.value[-3:]}"


def find_receipt_number(text: str) -> ReceiptNumber | None:
    """Find the first receipt number inside free text, in any language.

    Accepts what :meth:`ReceiptNumber.parse` accepts inside the number (spaces, dashes, lower
    case, O/I/L slips among the digits) but only after a known prefix, so an A-Number, a phone
    number or an online account number is never taken for one. Never raises.
    """
    if not isinstance(text, str):
        return None
    folded = unicodedata.normalize("NFKC", text)
    for match in _IN_TEXT_RE.finditer(folded):
        digits = match.group()[PREFIX_LENGTH:]
        if sum(ch.isascii() and ch.isdigit() for ch in digits) < _MIN_REAL_DIGITS_IN_TEXT:
            continue
        try:
            return ReceiptNumber.parse(match.group())
        except InvalidReceiptNumber:
            continue
    return None
