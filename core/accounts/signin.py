"""Signing in, in two steps: the password, then a second factor.

``start_sign_in`` checks the password and opens a challenge; ``complete_sign_in`` takes the
authenticator code, the email code (for accounts that receive codes by email), the texted code
(for accounts that receive codes by text message, ``core.accounts.sms_codes``) or the backup
code, and on success signs the chat in as the account. ``send_sign_in_code`` sends the chat's
code again (by text, with the 60-second cooldown of email codes) or, when texts to the number
are stopped, by email instead.

Each step reads in one short unit of work, runs Argon2 outside any unit of work, and records the
outcome in a second short unit of work that locks the account row (``FOR UPDATE`` on PostgreSQL;
on SQLite the unit of work is the only writer) and re-reads it, so concurrent attempts cannot
lose a failure or use one backup code twice.

The challenge is an ``email_codes`` row of purpose ``sign_in`` for the account's email, held
by the chat that typed the password: for the email and text methods it holds the code sent for
that chat, for the authenticator method it is an unusable row that only marks "the password was
right in this chat, less than 10 minutes ago". ``complete_sign_in`` refuses a chat with no open
challenge of its own, so the second step can never stand in for both, nor finish a sign-in
begun in another chat. Two chats signing in to one account at once each keep their own
challenge: neither cancels the other's, and a code mailed for one does not sign in the other.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select

from core.accounts.backup_codes import (
    generate_backup_code,
    looks_like_backup_code,
    normalize_backup_code,
)
from core.accounts.email_codes import (
    IssuedCode,
    check_code,
    is_mailed,
    is_pending,
    issue_email_code,
    latest_email_code,
    resend_wait_seconds,
)
from core.accounts.links import get_account, link_chat
from core.accounts.lockout import attempts_left, ensure_not_locked, record_failure, record_success
from core.accounts.models import Account, CodePurpose, OtpMethod
from core.accounts.otp import normalize_digits, verify_totp
from core.accounts.passwords import (
    DUMMY_HASH,
    hash_password_async,
    needs_rehash,
    verify_password_async,
)
from core.accounts.policy import normalize_password, validate_email
from core.accounts.sms_codes import queue_code_text, texts_stopped
from core.accounts.totp_store import reseal_if_needed, totp_secret_of
from core.errors import (
    AccountLocked,
    AccountNotFound,
    CodeExpired,
    CodeReused,
    InvalidCode,
    InvalidCredentials,
    InvalidEmail,
    TextsStopped,
)
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "SecondFactor",
    "SignInChallenge",
    "SignInResult",
    "complete_sign_in",
    "send_sign_in_code",
    "start_sign_in",
]

logger = logging.getLogger(__name__)


class SecondFactor(enum.StrEnum):
    """What proved the sign-in besides the password."""

    AUTHENTICATOR = "authenticator"
    EMAIL = "email"
    SMS = "sms"
    BACKUP_CODE = "backup_code"


_SHORT_CODE_FACTORS: Final = {
    OtpMethod.AUTHENTICATOR: SecondFactor.AUTHENTICATOR,
    OtpMethod.EMAIL: SecondFactor.EMAIL,
    OtpMethod.SMS: SecondFactor.SMS,
}
_SENT_CODES: Final = frozenset({SecondFactor.EMAIL, SecondFactor.SMS})


@dataclass(frozen=True, slots=True)
class SignInChallenge:
    """The password was right; now ask for the second factor.

    The challenge belongs to the chat that typed the password.

    Attributes:
        account_id: pass it to ``complete_sign_in``, with the same chat.
        method: how the account receives its one-time code.
        email_code: for the email method, the code to mail now; None for the authenticator
            method, and also when a code was mailed less than 60 seconds ago (it still works).
        sms_number: for the text method, the number the code goes to (E.164).
        texts_stopped: for the text method, the number replied STOP: no code was texted
            (offer ``send_sign_in_code(by_email=True)`` or the backup code).
    """

    account_id: int
    method: OtpMethod
    email_code: IssuedCode | None = None
    sms_number: str | None = None
    texts_stopped: bool = False


@dataclass(frozen=True, slots=True)
class SignInResult:
    """A complete sign-in. ``new_backup_code`` is set when the backup code was used up: show it
    once, it replaces the old one."""

    account_id: int
    factor: SecondFactor
    new_backup_code: str | None = field(default=None, repr=False)


async def start_sign_in(
    uow_factory: UnitOfWorkFactory,
    email: str,
    password: str,
    channel: str,
    chat_id: str,
    *,
    locale: str = "en",
    send_text: bool = True,
) -> SignInChallenge:
    """Check the email and password, and open a second-factor challenge for this chat.

    The chat's previous challenge for the account (if any) is replaced; other chats' are left
    alone. A code mailed for this chat less than 60 seconds ago is not mailed again. For the
    text method the code is queued in the outbox (a ``code_sms`` row in ``locale``) in the
    same transaction, unless the number replied STOP or ``send_text`` is False (the lost-device
    flow texts one only when asked: ``send_sign_in_code``).

    An unknown email costs the same Argon2 verification as a wrong password and raises the same
    error, so neither the answer nor its timing tells whether an account exists. Where a
    stranger can ask for it (a chat), the caller first spends from the budget of password
    checks (``core.accounts.password_budget.spend_password_check``), which refuses a known and
    an unknown email alike before any Argon2 work.

    Raises:
        InvalidCredentials: unknown email or wrong password.
        AccountLocked: the account is locked (even when the password is right), or this wrong
            password was the fifth failure in a row.
    """
    try:
        normalized_email: str | None = validate_email(email)
    except InvalidEmail:
        normalized_email = None
    secret = normalize_password(password)

    async with uow_factory() as uow:
        account = await _account_by_email(uow, normalized_email)
        if account is not None:
            ensure_not_locked(account, uow.clock.now())
        stored_hash = account.password_hash if account is not None else DUMMY_HASH
        account_id = account.id if account is not None else None

    matches = await verify_password_async(stored_hash, secret)
    if account_id is None:
        raise InvalidCredentials()
    new_hash = await hash_password_async(secret) if matches and needs_rehash(stored_hash) else None

    async with uow_factory() as uow:
        now = uow.clock.now()
        account = await _lock_account(uow, account_id)
        if account is None:
            raise InvalidCredentials()
        ensure_not_locked(account, now)
        if account.password_hash != stored_hash:
            # Changed by a reset between the two units of work: the check above is stale.
            raise InvalidCredentials()
        if not matches:
            locked_until = record_failure(account, now)
            await uow.commit()
            logger.info("wrong password for account %s", account_id)
            if locked_until is not None:
                raise AccountLocked(until=locked_until)
            raise InvalidCredentials()
        if new_hash is not None:
            account.password_hash = new_hash
        method = account.otp_method
        sms_number = account.sms_number if method is OtpMethod.SMS else None
        stopped = sms_number is not None and await texts_stopped(uow, sms_number)
        issued = await _open_challenge(
            uow, account, _holder(channel, chat_id), send=not stopped and send_text
        )
        email_code = issued if method is OtpMethod.EMAIL else None
        if sms_number is not None and issued is not None:
            await queue_code_text(uow, sms_number, issued, locale)
        await uow.commit()
    return SignInChallenge(
        account_id=account_id,
        method=method,
        email_code=email_code,
        sms_number=sms_number,
        texts_stopped=stopped,
    )


async def send_sign_in_code(
    uow_factory: UnitOfWorkFactory,
    account_id: int,
    channel: str,
    chat_id: str,
    *,
    locale: str = "en",
    by_email: bool = False,
) -> IssuedCode:
    """Send the chat's sign-in code again: a new code replaces the old one, texted to the
    account's number (text method) or, with ``by_email``, mailed to its address (the caller
    mails the returned code after this commits; a text is queued here).

    Raises:
        CodeExpired: no challenge is open for this chat (sign in again from the password).
        RateLimited: the last code went less than 60 seconds ago.
        TextsStopped: the number replied STOP (send it by email instead).
        InvalidCode: the account does not get its codes by text message (nothing to resend).
    """
    holder = _holder(channel, chat_id)
    async with uow_factory() as uow:
        now = uow.clock.now()
        account = await get_account(uow, account_id)
        ensure_not_locked(account, now)
        number = account.sms_number
        if account.otp_method is not OtpMethod.SMS or number is None:
            raise InvalidCode()
        latest = await latest_email_code(
            uow, account.email, CodePurpose.SIGN_IN, holder=holder, for_update=True
        )
        if latest is None or latest.used_at is not None or now >= latest.expires_at:
            raise CodeExpired()
        if not by_email and await texts_stopped(uow, number):
            raise TextsStopped(number=number)
        # No code was sent yet (the number had stopped texts): no wait for the first one.
        issued = await issue_email_code(
            uow,
            account.email,
            CodePurpose.SIGN_IN,
            holder=holder,
            respect_cooldown=is_mailed(latest),
        )
        if not by_email:
            await queue_code_text(uow, number, issued, locale)
        await uow.commit()
    logger.info("sent a new sign-in code to account %s", account_id)
    return issued


async def complete_sign_in(
    uow_factory: UnitOfWorkFactory, account_id: int, code: str, channel: str, chat_id: str
) -> SignInResult:
    """Check the second factor against the chat's challenge and sign the chat in as the
    account.

    ``code`` may be the authenticator code (authenticator method), the mailed code (email
    method), the texted code (text method; or the mailed one when texts were stopped) or the
    backup code (any method). On success the failure counters start again,
    the chat is linked to the account (replacing any account it was signed in as) and, when the
    backup code was used, a new one is made and returned.

    Raises:
        AccountLocked: the account is locked, or this wrong code was the fifth failure in a row.
        InvalidCode: the code is wrong (``attempts_left``: failures left before the lock).
        CodeReused: the authenticator code was accepted once already (counts as a failure).
        CodeExpired: no challenge is open for this chat (none started here, more than 10
            minutes old, or used): sign in again from the password.
        TooManyAttempts: the mailed code's tries are spent: sign in again for a new code.
        AccountNotFound: no such account.
        SecretUnreadable: the authenticator secret is sealed under a key that is not
            configured (no failure is counted; the backup code still works).
    """
    compact = normalize_digits(code)
    is_short_code = len(compact) == 6 and compact.isascii() and compact.isdigit()
    holder = _holder(channel, chat_id)

    async with uow_factory() as uow:
        now = uow.clock.now()
        account = await get_account(uow, account_id)
        ensure_not_locked(account, now)
        challenge = await latest_email_code(uow, account.email, CodePurpose.SIGN_IN, holder=holder)
        # Before any Argon2 work: without a challenge (that is, without the password) a
        # backup code is not even looked at, so its timing cannot be probed either.
        if challenge is None or challenge.used_at is not None or now >= challenge.expires_at:
            raise CodeExpired()
        method = account.otp_method
        backup_hash = account.backup_code_hash

    factor: SecondFactor | None = None
    new_backup: str | None = None
    new_backup_hash: str | None = None
    if is_short_code:
        factor = _SHORT_CODE_FACTORS[method]
    elif (
        backup_hash is not None
        and looks_like_backup_code(code)
        and await verify_password_async(backup_hash, normalize_backup_code(code))
    ):
        factor = SecondFactor.BACKUP_CODE
        new_backup = generate_backup_code()
        new_backup_hash = await hash_password_async(normalize_backup_code(new_backup))

    async with uow_factory() as uow:
        now = uow.clock.now()
        locked_account = await _lock_account(uow, account_id)
        if locked_account is None:
            raise AccountNotFound()
        account = locked_account
        ensure_not_locked(account, now)
        challenge = await latest_email_code(
            uow, account.email, CodePurpose.SIGN_IN, holder=holder, for_update=True
        )
        if factor not in _SENT_CODES and not is_pending(challenge, now):
            raise CodeExpired()
        try:
            if factor is SecondFactor.AUTHENTICATOR:
                # SecretUnreadable (no configured key opens it) is no wrong code: it passes
                # through, counts no failure, and the backup code still signs in.
                secret = totp_secret_of(uow, account)
                if secret is None:
                    raise InvalidCode()
                account.totp_last_step = verify_totp(secret, compact, now, account.totp_last_step)
                reseal_if_needed(uow, account, secret)
            elif factor in _SENT_CODES:
                check_code(challenge, compact, now)
            elif factor is SecondFactor.BACKUP_CODE:
                if account.backup_code_hash != backup_hash:
                    raise InvalidCode()  # used (and replaced) by a concurrent sign-in
                account.backup_code_hash = new_backup_hash
            else:
                raise InvalidCode()
        except (InvalidCode, CodeReused) as error:
            locked_until = record_failure(account, now)
            await uow.commit()
            logger.info("wrong second factor for account %s", account_id)
            if locked_until is not None:
                raise AccountLocked(until=locked_until) from error
            if isinstance(error, InvalidCode):
                left = attempts_left(account)
                if error.attempts_left is not None:
                    left = min(left, error.attempts_left)
                raise InvalidCode(attempts_left=left) from error
            raise
        assert challenge is not None
        assert factor is not None
        challenge.used_at = now
        record_success(account)
        await link_chat(uow, account.id, channel, chat_id)
        await uow.commit()
    logger.info("account %s signed in on %s with %s", account_id, channel, factor.value)
    return SignInResult(account_id=account_id, factor=factor, new_backup_code=new_backup)


async def _account_by_email(uow: UnitOfWork, email: str | None) -> Account | None:
    if email is None:
        return None
    account: Account | None = await uow.session.scalar(
        select(Account).where(Account.email == email)
    )
    return account


async def _lock_account(uow: UnitOfWork, account_id: int) -> Account | None:
    """Re-read the account row and hold it until the end of the unit of work.

    Read afresh (``populate_existing``): a turn's units of work share one session, whose copy
    of the account dates from before the Argon2 work, when a concurrent sign-in may since have
    spent the backup code, used the authenticator step or counted a failure.
    """
    account: Account | None = await uow.session.scalar(
        select(Account)
        .where(Account.id == account_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return account


def _holder(channel: str, chat_id: str) -> str:
    """The name a chat's challenge is held under."""
    return f"{channel}:{chat_id}"


async def _open_challenge(
    uow: UnitOfWork, account: Account, holder: str, *, send: bool
) -> IssuedCode | None:
    """Open the chat's second-factor challenge; return the code to mail or text, if one is to
    be sent (none for the authenticator, nor by text when ``send`` is False)."""
    no_code = account.otp_method is OtpMethod.SMS and not send
    if account.otp_method is OtpMethod.AUTHENTICATOR or no_code:
        await issue_email_code(
            uow,
            account.email,
            CodePurpose.SIGN_IN,
            usable=False,
            respect_cooldown=False,
            holder=holder,
        )
        return None
    latest = await latest_email_code(
        uow, account.email, CodePurpose.SIGN_IN, holder=holder, for_update=True
    )
    now = uow.clock.now()
    if (
        is_pending(latest, now)
        and latest is not None
        and is_mailed(latest)
        and resend_wait_seconds(latest, now) > 0
    ):
        return None  # sent less than a minute ago and still good: no second mail or text
    return await issue_email_code(
        uow, account.email, CodePurpose.SIGN_IN, respect_cooldown=False, holder=holder
    )
