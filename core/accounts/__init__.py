"""Accounts: credentials, one-time codes, backup codes, reset questions, lockout, chat links and
representatives.

Services that need Argon2 or must record a failure take a ``UnitOfWorkFactory`` and run their
own short units of work; the others take the caller's ``UnitOfWork`` and leave the commit to it.
"""

from __future__ import annotations

from core.accounts.email_codes import IssuedCode, issue_email_code, verify_email_code
from core.accounts.links import (
    Chat,
    account_for_chat,
    can_act_for,
    chats_of_account,
    clients_of,
    get_account,
    grant_client,
    link_chat,
    revoke_client,
    unlink_chat,
)
from core.accounts.reset import (
    PasswordReset,
    check_reset_code,
    issue_reset_code,
    reset_password,
)
from core.accounts.service import (
    OtpEnrolment,
    Registration,
    change_otp_method,
    find_account_by_email,
    issue_verification_code,
    register_account,
)
from core.accounts.signin import (
    SecondFactor,
    SignInChallenge,
    SignInResult,
    complete_sign_in,
    start_sign_in,
)

__all__ = [
    "Chat",
    "IssuedCode",
    "OtpEnrolment",
    "PasswordReset",
    "Registration",
    "SecondFactor",
    "SignInChallenge",
    "SignInResult",
    "account_for_chat",
    "can_act_for",
    "change_otp_method",
    "chats_of_account",
    "check_reset_code",
    "clients_of",
    "complete_sign_in",
    "find_account_by_email",
    "get_account",
    "grant_client",
    "issue_email_code",
    "issue_reset_code",
    "issue_verification_code",
    "link_chat",
    "register_account",
    "reset_password",
    "revoke_client",
    "start_sign_in",
    "unlink_chat",
    "verify_email_code",
]
