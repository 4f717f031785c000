"""What an account may be made of: a valid email address and a password that follows the policy.

The password policy follows NIST SP 800-63B for a password that is always paired with a second
factor: at least 8 characters, at least 64 allowed (capped at 128 so that hashing stays bounded),
any Unicode (counted in code points after NFKC), no composition rules, and a refusal of common
or breached passwords, of passwords that contain the email's local part and of trivially
repetitive or sequential ones.
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from typing import Final

from core.errors import InvalidEmail, WeakPassword

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "check_password",
    "is_common_password",
    "is_repetitive",
    "normalize_email",
    "normalize_password",
    "validate_email",
]

MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 128
MAX_EMAIL_LENGTH: Final = 254
MAX_LOCAL_PART_LENGTH: Final = 64
# A local part shorter than this ("a@x.org") would forbid nearly every password that contains
# that letter, which is no protection; from three characters on it is a real word to avoid.
MIN_LOCAL_PART_TO_CHECK: Final = 3
# A password whose whole text repeats a unit this short ("abcabcab") is trivially guessable.
MAX_REPEATED_UNIT: Final = 4
# The ASCII a local part may hold besides letters and digits: RFC 5322's "atext" (and the dots
# between its atoms). Everything else of ASCII (``,;:()<>[]\"`` and the space) means something
# to a mail header's parser: a second address, a group, a comment, a route. Letters and digits
# beyond ASCII are kept (internationalized addresses, RFC 6531).
_LOCAL_PART_ASCII: Final = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~."
)


# --- email -----------------------------------------------------------------------------------


def normalize_email(raw: str) -> str:
    """The canonical form of an email address: stripped, NFKC, lower case.

    Nothing is validated here; see ``validate_email``.
    """
    return unicodedata.normalize("NFKC", raw.strip()).lower()


def validate_email(raw: str) -> str:
    """Normalise an email address and check that it looks deliverable.

    Returns:
        The normalised address (the form stored and compared).

    This is the one parser of addresses: what it returns is what mail is sent to, as the
    SMTP envelope's recipient (``bot.notify.mail``), so an address a mail header would read
    as something else is refused here, when it is typed.

    Raises:
        InvalidEmail: not one ``@``, an empty or over-long part, whitespace or control
            characters, a local part with ASCII other than RFC 5322's atext (``,;:()<>[]\"``
            would make a header read another address, a group or a comment), dots in the
            wrong place, or a domain that is not a dotted host name.
    """
    email = normalize_email(raw)
    local, at, domain = email.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in local
        or len(email) > MAX_EMAIL_LENGTH
        or len(local) > MAX_LOCAL_PART_LENGTH
        or any(char.isspace() or unicodedata.category(char).startswith("C") for char in email)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
        or not all(_is_local_part_char(char) for char in local)
        or not _is_host_name(domain)
    ):
        raise InvalidEmail()
    top = domain.rsplit(".", 1)[-1]
    if top in NO_MAIL_TOP_LEVEL:
        raise InvalidEmail(reason="no_mail")
    meant = _meant_domain(domain)
    if meant is not None:
        raise InvalidEmail(reason="typo", suggestion=f"{local}@{meant}")
    return email


# Special-use names (RFC 6761, RFC 7686): no mail is ever delivered there. ``.example`` and
# example.com stay allowed: documentation and the demo use them.
NO_MAIL_TOP_LEVEL: Final = frozenset({"invalid", "test", "localhost", "local", "onion"})
# The big providers people type on a phone, and the misspellings seen most often; a typo here
# would send every update into the void, so it is asked about rather than accepted.
_PROVIDER_TYPOS: Final = {
    "gmail.com": ("gmial.com", "gmai.com", "gamil.com", "gnail.com", "gmaill.com", "gmal.com",
                  "gmail.co", "gmail.cm", "gmail.om", "gmil.com", "g-mail.com"),
    "hotmail.com": ("hotmial.com", "hotmal.com", "hotmai.com", "hotmil.com", "hotmail.co",
                    "hotamil.com"),
    "yahoo.com": ("yaho.com", "yahooo.com", "yhoo.com", "yahoo.co", "yahho.com", "yaoo.com"),
    "outlook.com": ("outlok.com", "outloo.com", "outlook.co", "otlook.com", "outlokk.com"),
    "icloud.com": ("iclod.com", "icloud.co", "icoud.com", "iclould.com"),
    "aol.com": ("aol.co", "aoll.com"),
}  # fmt: skip
_TYPO_TO_DOMAIN: Final = {typo: right for right, typos in _PROVIDER_TYPOS.items() for typo in typos}
_TOP_LEVEL_TYPOS: Final = frozenset({"con", "cmo", "ocm", "vom", "xom", "comm", "coom"})


def _meant_domain(domain: str) -> str | None:
    """The domain a misspelled one was probably meant as, or None."""
    if domain in _TYPO_TO_DOMAIN:
        return _TYPO_TO_DOMAIN[domain]
    name, _, top = domain.rpartition(".")
    if top in _TOP_LEVEL_TYPOS:
        return f"{name}.com"
    return None


def _is_local_part_char(char: str) -> bool:
    return char in _LOCAL_PART_ASCII if char.isascii() else char.isalnum()


def _is_host_name(domain: str) -> bool:
    labels = domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return False
    return all(
        0 < len(label) <= 63
        and not label.startswith("-")
        and not label.endswith("-")
        and all(char.isalnum() or char == "-" for char in label)
        for label in labels
    )


# --- passwords -------------------------------------------------------------------------------


def normalize_password(password: str) -> str:
    """NFKC, as NIST asks, so the same password typed on two keyboards hashes the same."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, email: str | None = None) -> str:
    """Check a new password against the policy.

    Args:
        password: the password as typed.
        email: the account's email, so that a password containing its local part is refused.

    Returns:
        The NFKC-normalised password, the form to hash.

    Raises:
        WeakPassword: with ``reason`` ``too_short``, ``too_long``, ``common``,
            ``contains_email`` or ``repetitive`` (checked in that order).
    """
    normalized = normalize_password(password)
    length = len(normalized)  # code points, after NFKC
    if length < MIN_PASSWORD_LENGTH:
        raise WeakPassword(reason="too_short", min_length=MIN_PASSWORD_LENGTH)
    if length > MAX_PASSWORD_LENGTH:
        raise WeakPassword(reason="too_long", min_length=MIN_PASSWORD_LENGTH)
    if is_common_password(normalized):
        raise WeakPassword(reason="common", min_length=MIN_PASSWORD_LENGTH)
    if email is not None:
        local = normalize_email(email).rpartition("@")[0]
        if len(local) >= MIN_LOCAL_PART_TO_CHECK and local.casefold() in normalized.casefold():
            raise WeakPassword(reason="contains_email", min_length=MIN_PASSWORD_LENGTH)
    if is_repetitive(normalized):
        raise WeakPassword(reason="repetitive", min_length=MIN_PASSWORD_LENGTH)
    return normalized


@functools.cache
def _common_passwords() -> frozenset[str]:
    # Loaded on first use: the list is 30,000 entries and most processes never need it.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(word.casefold() for word in FREQUENCY_LISTS["passwords"])


def is_common_password(password: str) -> bool:
    """Whether the password, ignoring case, is in zxcvbn's list of 30,000 common passwords."""
    return normalize_password(password).casefold() in _common_passwords()


def is_repetitive(password: str) -> bool:
    """Whether the password is trivially patterned.

    That is: the whole text repeats a unit of at most 4 characters (``aaaaaaaa``,
    ``12121212``, ``abcabcab``), uses at most 2 distinct characters (``aaaabbbb``), or is one
    ascending or descending run (``abcdefgh``, ``98765432``).
    """
    text = password.casefold()
    if len(set(text)) <= 2:
        return True
    period = _smallest_period(text)
    if period <= MAX_REPEATED_UNIT and period < len(text):
        return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return steps in ({1}, {-1})


def _smallest_period(text: str) -> int:
    """The length of the shortest unit whose repetition (the last copy may be cut) is ``text``."""
    for period in range(1, len(text) + 1):
        if all(text[i] == text[i - period] for i in range(period, len(text))):
            return period
    return len(text)
