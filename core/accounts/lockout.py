"""Lockout after repeated failures: plain rules on an Account, no session.

Five consecutive failures (a wrong password or a wrong second factor) lock the account for 20
minutes; each further lockout without a successful sign-in in between doubles the time, up to
24 hours. A locked account refuses even the right password until the time has passed or the
password is reset.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Protocol

from core.errors import AccountLocked

__all__ = [
    "FIRST_LOCKOUT",
    "MAX_FAILURES",
    "MAX_LOCKOUT",
    "Lockable",
    "attempts_left",
    "ensure_not_locked",
    "lockout_duration",
    "record_failure",
    "record_success",
    "unlock",
]

MAX_FAILURES: Final = 5
FIRST_LOCKOUT: Final = timedelta(minutes=20)
MAX_LOCKOUT: Final = timedelta(hours=24)


class Lockable(Protocol):
    """What the rules read and write: an applicant's account, or a staff member's."""

    failed_logins: int
    lockouts: int
    locked_until: datetime | None


def lockout_duration(lockout_number: int) -> timedelta:
    """How long the n-th lockout in a row lasts (1 for the first): 20 min, 40 min, ... 24 h."""
    if lockout_number < 1:
        raise ValueError("lockouts are counted from 1")
    # Capping the exponent keeps the arithmetic small however many lockouts pile up.
    doublings: int = min(lockout_number - 1, 16)
    return min(FIRST_LOCKOUT * (1 << doublings), MAX_LOCKOUT)


def ensure_not_locked(account: Lockable, now: datetime) -> None:
    """Refuse a locked account.

    Raises:
        AccountLocked: the account is locked at ``now``; ``until`` says till when.
    """
    if account.locked_until is not None and account.locked_until > now:
        raise AccountLocked(until=account.locked_until)


def record_failure(account: Lockable, now: datetime) -> datetime | None:
    """Count one failure; on the fifth in a row, lock the account.

    Returns:
        The end of the new lockout, or None when the account is not locked by this failure.
    """
    account.failed_logins += 1
    if account.failed_logins < MAX_FAILURES:
        return None
    account.lockouts += 1
    account.failed_logins = 0
    account.locked_until = now + lockout_duration(account.lockouts)
    return account.locked_until


def attempts_left(account: Lockable) -> int:
    """How many failures the account may still have before it locks."""
    return MAX_FAILURES - account.failed_logins


def record_success(account: Lockable) -> None:
    """A complete sign-in: the failure counters start again from nothing."""
    account.failed_logins = 0
    account.lockouts = 0
    account.locked_until = None


def unlock(account: Lockable) -> None:
    """Lift any lockout (after a password reset)."""
    record_success(account)
