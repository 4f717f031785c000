"""Registration, lookup by email, and changing the one-time-code method.

Argon2 hashing (password, reset answers, backup code) always happens between units of work,
never inside one: on SQLite a unit of work holds the process's write queue for its whole life.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.accounts.backup_codes import (
    format_backup_code,
    generate_backup_code,
    normalize_backup_code,
)
from core.accounts.email_codes import (
    IssuedCode,
    check_code,
    issue_email_code,
    latest_email_code,
    verify_email_code,
)
from core.accounts.links import get_account
from core.accounts.models import Account, AccountKind, CodePurpose, OtpMethod, ResetAnswer
from core.accounts.otp import generate_totp_secret, is_valid_secret, provisioning_uri
from core.accounts.passwords import hash_password_async
from core.accounts.policy import check_password, normalize_email, validate_email
from core.accounts.questions import validate_answers
from core.accounts.totp_store import store_totp_secret
from core.errors import EmailTaken, InvalidCode, InvalidEmail
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "OtpEnrolment",
    "Registration",
    "change_otp_method",
    "find_account_by_email",
    "issue_verification_code",
    "register_account",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OtpEnrolment:
    """What to show the user once: the authenticator secret (None for the email method) with its
    ``otpauth://`` URI for a QR code, and the backup code. Secrets are hidden from repr."""

    totp_secret: str | None = field(repr=False)
    provisioning_uri: str | None = field(repr=False)
    backup_code: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Registration:
    """A new account and the secrets to show its owner once."""

    account_id: int
    email: str
    enrolment: OtpEnrolment

    @property
    def totp_secret(self) -> str | None:
        return self.enrolment.totp_secret

    @property
    def backup_code(self) -> str:
        return self.enrolment.backup_code


async def find_account_by_email(uow: UnitOfWork, email: str) -> Account | None:
    """The account with this email (compared in normalised form), or None.

    Text that is not a valid address finds nothing rather than raising.
    """
    try:
        normalized = validate_email(email)
    except InvalidEmail:
        return None
    account: Account | None = await uow.session.scalar(
        select(Account).where(Account.email == normalized)
    )
    return account


async def issue_verification_code(uow: UnitOfWork, email: str) -> IssuedCode:
    """Issue the code that proves the owner reads this address, before registration.

    The caller commits, then mails the code.

    Raises:
        InvalidEmail: not an address.
        EmailTaken: an account has this email already.
        RateLimited: the last code for it is less than 60 seconds old.
    """
    if await find_account_by_email(uow, email) is not None:
        raise EmailTaken()
    return await issue_email_code(uow, email, CodePurpose.VERIFY_EMAIL)


async def register_account(
    uow_factory: UnitOfWorkFactory,
    *,
    email: str,
    password: str,
    reset_answers: Mapping[str, str],
    email_code: str | None,
    kind: AccountKind = AccountKind.APPLICANT,
    otp_method: OtpMethod = OtpMethod.AUTHENTICATOR,
    totp_secret: str | None = None,
    backup_code: str | None = None,
    skip_email_verification: bool = False,
) -> Registration:
    """Create an account whose email was proven by a ``verify_email`` code.

    Args:
        email_code: the code from ``issue_verification_code``; it is used up on success. A
            wrong code spends one of its tries (recorded even though this call fails).
        reset_answers: answers by question id (at least one; ids from ``RESET_QUESTION_IDS``).
        totp_secret: use this authenticator secret instead of a new random one: for demo data
            and test fixtures, and for a flow that enrolled the authenticator app before
            creating the account (so that no account exists that its owner cannot sign in
            to); such a secret must come from ``generate_totp_secret`` and have been proven
            by a code from the app (``verify_totp``) before this call.
        backup_code: for demo data and test fixtures only: use this backup code instead of a
            new random one.
        skip_email_verification: for demo data, fixtures and operator tools only: no code is
            asked and the email counts as verified.

    Returns:
        The account id, and the authenticator secret (for the authenticator method) and backup
        code to show once.

    Raises:
        InvalidEmail, WeakPassword, UnknownResetQuestion, InvalidResetAnswer: bad input.
        EmailTaken: an account has this email already.
        InvalidCode, CodeExpired, CodeReused, TooManyAttempts: the email code is not accepted
            (InvalidCode too when no code is given).
        ValueError: a given ``totp_secret`` or ``backup_code`` is malformed.
    """
    email = validate_email(email)
    password = check_password(password, email)
    answers = validate_answers(reset_answers)
    if totp_secret is not None and not is_valid_secret(totp_secret):
        raise ValueError("totp_secret must be Base32 of at least 80 bits")
    try:
        backup = format_backup_code(backup_code) if backup_code else generate_backup_code()
    except InvalidCode as exc:
        raise ValueError("backup_code is not a backup code") from exc
    if otp_method is OtpMethod.AUTHENTICATOR and totp_secret is None:
        totp_secret = generate_totp_secret()
    if email_code is None and not skip_email_verification:
        raise InvalidCode()

    async with uow_factory() as uow:
        if await find_account_by_email(uow, email) is not None:
            raise EmailTaken()
    if email_code is not None:
        await verify_email_code(
            uow_factory, email, CodePurpose.VERIFY_EMAIL, email_code, consume=False
        )

    password_hash, backup_hash, *answer_hashes = await asyncio.gather(
        hash_password_async(password),
        hash_password_async(normalize_backup_code(backup)),
        *(hash_password_async(answer) for answer in answers.values()),
    )

    async with uow_factory() as uow:
        now = uow.clock.now()
        if email_code is not None:
            row = await latest_email_code(uow, email, CodePurpose.VERIFY_EMAIL, for_update=True)
            check_code(row, email_code, now)  # it may have been used up since the check above
            assert row is not None
            row.used_at = now
        if await find_account_by_email(uow, email) is not None:
            raise EmailTaken()
        account = Account(
            email=email,
            password_hash=password_hash,
            kind=kind,
            otp_method=otp_method,
            totp_last_step=None,
            backup_code_hash=backup_hash,
            failed_logins=0,
            lockouts=0,
            email_verified=True,
            password_changed_at=now,
            created_at=now,
        )
        store_totp_secret(uow, account, totp_secret)
        account.reset_answers = [
            ResetAnswer(question_id=question_id, answer_hash=answer_hash)
            for question_id, answer_hash in zip(answers, answer_hashes, strict=True)
        ]
        uow.session.add(account)
        try:
            await uow.flush()
        except IntegrityError as exc:  # the same email registered at the same moment
            raise EmailTaken() from exc
        await uow.commit()
        account_id = account.id
    logger.info("registered account %s (%s)", account_id, kind.value)
    return Registration(
        account_id=account_id, email=email, enrolment=_enrolment(totp_secret, email, backup)
    )


async def change_otp_method(
    uow_factory: UnitOfWorkFactory,
    account_id: int,
    method: OtpMethod,
    *,
    totp_secret: str | None = None,
) -> OtpEnrolment:
    """Switch how the account receives its one-time code; the backup code is issued anew.

    For the authenticator method a new secret is made (or ``totp_secret`` used, for fixtures);
    for the email method the authenticator secret is dropped. (The text-message method is
    enrolled with a proved number: ``core.accounts.sms_codes``.)

    Raises:
        AccountNotFound: no such account.
        ValueError: a given ``totp_secret`` is malformed.
    """
    if totp_secret is not None and not is_valid_secret(totp_secret):
        raise ValueError("totp_secret must be Base32 of at least 80 bits")
    if method is OtpMethod.SMS:
        raise ValueError("the sms method is enrolled with a proved number (sms_codes)")
    secret = (totp_secret or generate_totp_secret()) if method is OtpMethod.AUTHENTICATOR else None
    backup = generate_backup_code()
    backup_hash = await hash_password_async(normalize_backup_code(backup))
    async with uow_factory() as uow:
        account = await get_account(uow, account_id)
        account.otp_method = method
        account.sms_number = None  # the sms method is enrolled by ``core.accounts.sms_codes``
        store_totp_secret(uow, account, secret)
        account.totp_last_step = None
        account.backup_code_hash = backup_hash
        email = account.email
        await uow.commit()
    logger.info("account %s now receives codes by %s", account_id, method.value)
    return _enrolment(secret, email, backup)


def _enrolment(totp_secret: str | None, email: str, backup_code: str) -> OtpEnrolment:
    uri = provisioning_uri(totp_secret, normalize_email(email)) if totp_secret else None
    return OtpEnrolment(totp_secret=totp_secret, provisioning_uri=uri, backup_code=backup_code)
