"""The staff domain's refusals; they carry data, the callers word them.

DomainError
├── InvalidInput
│   ├── UnknownLanguage        a language code casebot does not speak
│   └── InvalidStaffName       an empty or over-long display name
├── NotFound
│   └── StaffNotFound          no staff member has this email
├── Conflict
│   └── StaffExists            the email is taken by another staff member
└── AuthError
    ├── SetupCodeInvalid       unknown, used or expired set-up code (or a disabled member)
    ├── SetupNotStarted        the code is right but no password was chosen yet
    ├── StaffUnauthorized      the console token is missing, wrong or signed out
    └── StaffSessionExpired    the console token was idle or alive too long
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import AuthError, Conflict, InvalidInput, NotFound

__all__ = [
    "InvalidStaffName",
    "SetupCodeInvalid",
    "SetupNotStarted",
    "StaffExists",
    "StaffNotFound",
    "StaffSessionExpired",
    "StaffUnauthorized",
    "UnknownLanguage",
]


@dataclass(eq=False)
class UnknownLanguage(InvalidInput):
    code: str


class InvalidStaffName(InvalidInput):
    """The display name is empty, longer than 100 characters or holds control characters."""


@dataclass(eq=False)
class StaffNotFound(NotFound):
    email: str


@dataclass(eq=False)
class StaffExists(Conflict):
    email: str


class SetupCodeInvalid(AuthError):
    """No usable set-up code: unknown, already used, expired, or its owner was disabled."""


class SetupNotStarted(AuthError):
    """The set-up code is right but no password was chosen with it yet."""


class StaffUnauthorized(AuthError):
    """The console token is missing, unknown, signed out, or its owner was disabled."""


class StaffSessionExpired(AuthError):
    """The console token was idle or alive longer than allowed; sign in again."""
