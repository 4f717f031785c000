"""The domain's errors: one hierarchy, carrying data, never prose.

The chat layer maps each type to a localized message; nothing here is shown to a user as is.

    DomainError
    ├── InvalidInput
    │   ├── InvalidEmail
    │   ├── WeakPassword(reason)
    │   ├── InvalidReceiptNumber(reason, looks_like)
    │   ├── UnknownStatus(status)
    │   ├── UnknownResetQuestion(question_id)
    │   ├── InvalidResetAnswer(question_id, reason)
    │   ├── InvalidOfficeData(field)
    │   ├── UnknownState(state)
    │   ├── InvalidZipCode(zip_code)
    │   ├── InvalidPhoneNumber(reason)
    │   └── InvalidDateRange(first_day, last_day)
    ├── NotFound
    │   ├── AccountNotFound
    │   ├── CaseNotFound(receipt_number)
    │   ├── OfficeNotFound(office)
    │   ├── AppointmentNotFound(code)
│   ├── HandoffNotFound(handoff_id)
│   └── SecureMessageNotFound(message_id)
    ├── Conflict
    │   ├── EmailTaken
    │   ├── CaseExists(receipt_number)
    │   ├── CaseAlreadyLinked(receipt_number)
    │   ├── AccessCodeAlreadyUsed(receipt_number)
    │   ├── SlotTaken(office_id, starts_at)
    │   ├── AlreadyBooked(existing_code)
    │   ├── OfficeCodeTaken(code)
│   ├── AlreadyClaimed(handoff_id, staff_id, status)
│   ├── HandoffNotOpen(handoff_id, status)
│   └── AlreadyReplied(message_id)
    ├── AuthError
    │   ├── InvalidCredentials
    │   ├── AccountLocked(until)
    │   ├── InvalidCode(attempts_left)
    │   ├── CodeExpired
    │   ├── TooManyAttempts(until)
    │   │   └── CaseAccessLocked(until)
    │   └── CodeReused
    ├── NotAllowed
    │   ├── NotAuthorized
    │   ├── NotHandoffAgent(handoff_id, staff_id)
    │   ├── NotBookable(reason)
    │   ├── RescheduleNotAllowed(reason)
    │   └── CancelNotAllowed(reason)
    ├── RateLimited(retry_after_seconds)
    │   └── PasswordChecksBusy(retry_after_seconds)
    ├── SecretUnreadable(key_id)
    ├── UnsubscribeLinkInvalid(reason)
    └── UscisUnavailable(reason)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

__all__ = [
    "AccessCodeAlreadyUsed",
    "AccountLocked",
    "AccountNotFound",
    "AlreadyBooked",
    "AlreadyClaimed",
    "AlreadyReplied",
    "AppointmentNotFound",
    "AuthError",
    "CancelNotAllowed",
    "CaseAccessLocked",
    "CaseAlreadyLinked",
    "CaseExists",
    "CaseNotFound",
    "CodeExpired",
    "CodeReused",
    "Conflict",
    "DomainError",
    "EmailTaken",
    "HandoffNotFound",
    "HandoffNotOpen",
    "InvalidCode",
    "InvalidCredentials",
    "InvalidDateRange",
    "InvalidEmail",
    "InvalidInput",
    "InvalidOfficeData",
    "InvalidPhoneNumber",
    "InvalidReceiptNumber",
    "InvalidResetAnswer",
    "InvalidZipCode",
    "NotAllowed",
    "NotAuthorized",
    "NotBookable",
    "NotFound",
    "NotHandoffAgent",
    "OfficeCodeTaken",
    "OfficeNotFound",
    "PasswordChecksBusy",
    "RateLimited",
    "RescheduleNotAllowed",
    "SecretUnreadable",
    "SecureMessageNotFound",
    "SlotTaken",
    "TextsStopped",
    "TooManyAttempts",
    "UnknownResetQuestion",
    "UnknownState",
    "UnknownStatus",
    "UnsubscribeLinkInvalid",
    "UscisUnavailable",
    "WeakPassword",
]


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


# --- bad input -------------------------------------------------------------------------------


class InvalidInput(DomainError, ValueError):
    """The value cannot be used; a ValueError too, so parsers may raise it directly."""


@dataclass(eq=False)
class InvalidPhoneNumber(InvalidInput):
    """Not a US mobile number that can receive texts.

    Attributes:
        reason: ``not_a_number`` (no phone number at all), ``not_us`` (a valid number of another
            country or territory), ``not_mobile`` (toll-free, premium rate, shared cost, ...).
    """

    reason: str


@dataclass(eq=False)
class InvalidEmail(InvalidInput):
    """Not an email address, or one no mail can reach.

    Attributes:
        reason: ``format`` (not an address), ``no_mail`` (a domain that never receives mail:
            ``.invalid``, ``.test``, ``.localhost``, ``.local``, ``.onion``) or ``typo`` (a
            well-known provider misspelled, ``gmial.com``).
        suggestion: for ``typo``, the address as it was probably meant.
    """

    reason: str = "format"
    suggestion: str | None = None


@dataclass(eq=False)
class WeakPassword(InvalidInput):
    """The password breaks the policy.

    Attributes:
        reason: one of ``too_short``, ``too_long``, ``common``, ``contains_email``, ``repetitive``.
        min_length: the policy's minimum, for the message.
    """

    reason: str
    min_length: int = 8


@dataclass(eq=False)
class InvalidReceiptNumber(InvalidInput):
    """Not a receipt number.

    Attributes:
        reason: ``empty``, ``length``, ``shape`` or ``prefix``.
        looks_like: what the text is instead, when recognisable: ``a_number``,
            ``online_account_number`` or ``access_code``; else None.
        prefix: for a wrong length, the known prefix the text starts with, when only digits
            (or slips for them) follow it; else None.
        digits: with ``prefix``, how many digits follow it (a receipt number has 10).
        meant: for an unknown prefix, the known one it becomes with a letter in place of a
            look-alike digit ("I0E" for "IOE", "L1N" for "LIN"); else None.
    """

    reason: str
    looks_like: str | None = None
    prefix: str | None = None
    digits: int | None = None
    meant: str | None = None


@dataclass(eq=False)
class UnknownStatus(InvalidInput):
    """No status in the catalog has this code or title."""

    status: str


@dataclass(eq=False)
class UnknownResetQuestion(InvalidInput):
    """The question id is not in the fixed list."""

    question_id: str


@dataclass(eq=False)
class InvalidResetAnswer(InvalidInput):
    """A password-reset answer given at registration cannot be used.

    Attributes:
        question_id: the question, or None when no answer was given at all.
        reason: ``missing`` (no answer), ``empty`` or ``too_long``.
    """

    question_id: str | None
    reason: str


@dataclass(eq=False)
class InvalidOfficeData(InvalidInput):
    """An office's settings are unusable.

    Attributes:
        field: ``code``, ``name``, ``address``, ``city``, ``state``, ``zip_code``,
            ``timezone``, ``services``, ``hours``, ``slot_minutes``, ``capacity``, ``day`` (a
            closure in the past or too far ahead) or ``reason`` (a closure's, too long).
    """

    field: str


@dataclass(eq=False)
class UnknownState(InvalidInput):
    """Neither a US state's (or territory's) two-letter code nor its name."""

    state: str


@dataclass(eq=False)
class InvalidZipCode(InvalidInput):
    """Not a US ZIP code (five digits, optionally +4), or a prefix no state uses."""

    zip_code: str


@dataclass(eq=False)
class InvalidDateRange(InvalidInput):
    """The last day comes before the first."""

    first_day: date
    last_day: date


# --- not found -------------------------------------------------------------------------------


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the asker)."""


class AccountNotFound(NotFound):
    """No such account."""


@dataclass(eq=False)
class CaseNotFound(NotFound):
    """No case with this receipt number."""

    receipt_number: str


@dataclass(eq=False)
class OfficeNotFound(NotFound):
    """No such office."""

    office: str


@dataclass(eq=False)
class AppointmentNotFound(NotFound):
    """No such appointment for this account."""

    code: str


@dataclass(eq=False)
class HandoffNotFound(NotFound):
    """No such handoff."""

    handoff_id: int


@dataclass(eq=False)
class SecureMessageNotFound(NotFound):
    """No such secure message."""

    message_id: int


# --- conflicts -------------------------------------------------------------------------------


class Conflict(DomainError):
    """The change clashes with the current state."""


class EmailTaken(Conflict):
    """An account with this email exists already."""


@dataclass(eq=False)
class CaseExists(Conflict):
    """A case with this receipt number exists already."""

    receipt_number: str


@dataclass(eq=False)
class CaseAlreadyLinked(Conflict):
    """The case belongs to an account already (this one or another)."""

    receipt_number: str
    to_this_account: bool = False


@dataclass(eq=False)
class AccessCodeAlreadyUsed(Conflict):
    """The Online Access Code was used already (for example by a representative)."""

    receipt_number: str


@dataclass(eq=False)
class SlotTaken(Conflict):
    """The slot is full."""

    office_id: int
    starts_at: datetime


@dataclass(eq=False)
class AlreadyBooked(Conflict):
    """The case (or account) has an active appointment of this type already."""

    existing_code: str


@dataclass(eq=False)
class OfficeCodeTaken(Conflict):
    """Another office has this code already."""

    code: str


@dataclass(eq=False)
class AlreadyClaimed(Conflict):
    """Another agent claimed the handoff first (``staff_id`` has it; None once it is no longer
    claimed: ``status`` says what it is now)."""

    handoff_id: int
    staff_id: int | None
    status: str


@dataclass(eq=False)
class HandoffNotOpen(Conflict):
    """The handoff is closed or abandoned (``status``), or not in the state the action needs."""

    handoff_id: int
    status: str


@dataclass(eq=False)
class AlreadyReplied(Conflict):
    """The secure message was answered already."""

    message_id: int


# --- authentication --------------------------------------------------------------------------


class AuthError(DomainError):
    """Signing in or proving a code failed."""


class InvalidCredentials(AuthError):
    """Wrong email or password; deliberately says not which."""


@dataclass(eq=False)
class AccountLocked(AuthError):
    """Too many failures: the account is locked until ``until`` (UTC)."""

    until: datetime


@dataclass(eq=False)
class InvalidCode(AuthError):
    """The one-time code, backup code, answer or access code is wrong."""

    attempts_left: int | None = None


class CodeExpired(AuthError):
    """The code is too old; ask for a new one."""


@dataclass(eq=False)
class TooManyAttempts(AuthError):
    """The code or access code has had too many tries."""

    until: datetime | None = None


class CaseAccessLocked(TooManyAttempts):
    """This account had too many wrong access codes for this case: it may try again at
    ``until`` (UTC). Other accounts, the case's owner among them, are not locked out."""


class CodeReused(AuthError):
    """This one-time code was accepted once already."""


# --- not allowed -----------------------------------------------------------------------------


class NotAllowed(DomainError):
    """The rules forbid this."""


class NotAuthorized(NotAllowed):
    """The asker may not see or change this."""


@dataclass(eq=False)
class NotHandoffAgent(NotAllowed):
    """The staff member does not have this handoff (another agent has it, or nobody)."""

    handoff_id: int
    staff_id: int


@dataclass(eq=False)
class NotBookable(NotAllowed):
    """The slot or appointment type cannot be booked.

    Attributes:
        reason: ``past``, ``too_soon`` (within the minimum lead time), ``closed``,
            ``not_a_slot``, ``service_not_offered``, ``case_required``,
            ``biometrics_not_ready``, ``too_far``.
    """

    reason: str


@dataclass(eq=False)
class RescheduleNotAllowed(NotAllowed):
    """Rescheduling is refused: ``reason`` is ``within_12_hours``, ``passed``, ``limit_reached``,
    ``cancelled`` or ``same_slot``."""

    reason: str


@dataclass(eq=False)
class CancelNotAllowed(NotAllowed):
    """Cancelling is refused: ``reason`` is ``passed`` or ``cancelled``."""

    reason: str


@dataclass(eq=False)
class RateLimited(DomainError):
    """Too many requests; try again after ``retry_after_seconds``."""

    retry_after_seconds: int


@dataclass(eq=False)
class TextsStopped(DomainError):
    """The number replied STOP: no text, not even a sign-in code, goes to it until it replies
    START. ``number`` is the number (E.164)."""

    number: str


class PasswordChecksBusy(RateLimited):
    """The whole service has run its budget of password checks for this moment (not this
    requester's fault): try again after ``retry_after_seconds``."""


@dataclass(eq=False)
class SecretUnreadable(DomainError):
    """A secret stored encrypted (an authenticator secret) cannot be opened: it was sealed under
    a key that is not configured (``key_id`` names it; None when the stored text is damaged)."""

    key_id: str | None = None


@dataclass(eq=False)
class UscisUnavailable(DomainError):
    """USCIS's Case Status API gave no usable answer in time and nothing is cached.

    ``reason``: ``"outage"`` (errors, timeouts, the circuit is open, a malformed answer),
    ``"busy"`` (its rate limit would make the person wait too long) or ``"quota"`` (today's
    request budget is spent).
    """

    reason: str = "outage"


@dataclass(eq=False)
class UnsubscribeLinkInvalid(DomainError):
    """An unsubscribe link that turns nothing off.

    Attributes:
        reason: ``unknown`` (forged or mistyped: no contact point has it) or ``used`` (it has
            turned its updates off already).
    """

    reason: str
