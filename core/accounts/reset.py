"""Forgotten password: an emailed code, one reset question, a new password.

From outside, asking for a reset looks the same whether the email has an account or not:
``issue_reset_code`` returns a code either way, with the same cooldown, expiry and tries. For an
email without an account the stored row is unusable (see ``core.accounts.email_codes``), so that
code can never verify, and no later step is ever reached. The chat layer mails the code either
way; for an address with no account the mail is harmless, since nothing accepts the code.

A wrong answer spends one of the code's 5 tries, so answers cannot be guessed faster than codes
can be issued (one a minute). A successful reset unlocks the account and signs out every chat
linked to it except the one doing the reset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from core.accounts.email_codes import (
    MAX_CODE_ATTEMPTS,
    IssuedCode,
    check_code,
    issue_email_code,
    latest_email_code,
    verify_email_code,
)
from core.accounts.links import Chat, unlink_chats_of_account
from core.accounts.lockout import unlock
from core.accounts.models import Account, CodePurpose, ResetAnswer
from core.accounts.passwords import DUMMY_HASH, hash_password_async, verify_password_async
from core.accounts.policy import check_password, validate_email
from core.accounts.questions import RESET_QUESTION_IDS, check_question_id, normalize_answer
from core.accounts.service import find_account_by_email
from core.errors import InvalidCode
from core.uow import UnitOfWork, UnitOfWorkFactory
from core.web_sessions import WEB_CHANNEL, forget_transcript

__all__ = ["PasswordReset", "check_reset_code", "issue_reset_code", "reset_password"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PasswordReset:
    """A done reset: the account, and the chats signed out (tell them)."""

    account_id: int
    signed_out: list[Chat]


async def issue_reset_code(uow: UnitOfWork, email: str) -> IssuedCode:
    """Issue a reset code for an email, whether or not it has an account (see the module
    docstring). The caller commits, then mails the code.

    Raises:
        InvalidEmail: not an address.
        RateLimited: the last reset code for this email is less than 60 seconds old.
    """
    account = await find_account_by_email(uow, email)
    return await issue_email_code(uow, email, CodePurpose.RESET, usable=account is not None)


async def check_reset_code(uow_factory: UnitOfWorkFactory, email: str, code: str) -> list[str]:
    """Check a reset code without using it up, and name the questions the account can answer.

    Returns:
        The account's question ids, in the fixed list's order; ask one of them.

    Raises:
        InvalidEmail: not an address.
        InvalidCode, CodeExpired, CodeReused, TooManyAttempts: the code is not accepted.
    """
    await verify_email_code(uow_factory, email, CodePurpose.RESET, code, consume=False)
    async with uow_factory() as uow:
        account = await find_account_by_email(uow, email)
        if account is None:  # cannot happen: no usable code exists without an account
            raise InvalidCode()
        answered = set(
            await uow.session.scalars(
                select(ResetAnswer.question_id).where(ResetAnswer.account_id == account.id)
            )
        )
    return [question_id for question_id in RESET_QUESTION_IDS if question_id in answered]


async def reset_password(
    uow_factory: UnitOfWorkFactory,
    *,
    email: str,
    code: str,
    question_id: str,
    answer: str,
    new_password: str,
    channel: str,
    chat_id: str,
) -> PasswordReset:
    """Set a new password after the emailed code and one reset answer.

    The new password is checked first, so a weak one costs no try. The code is used up only on
    success.

    Raises:
        InvalidEmail: not an address.
        UnknownResetQuestion: the question id is not in the fixed list.
        WeakPassword: the new password breaks the policy.
        InvalidCode: the code or the answer is wrong (``attempts_left``: the code's tries left).
        CodeExpired, CodeReused, TooManyAttempts: the code is not accepted any more.
    """
    email = validate_email(email)
    check_question_id(question_id)
    secret = check_password(new_password, email)
    await verify_email_code(uow_factory, email, CodePurpose.RESET, code, consume=False)

    async with uow_factory() as uow:
        account = await find_account_by_email(uow, email)
        if account is None:  # cannot happen, as in check_reset_code
            raise InvalidCode()
        account_id = account.id
        answer_hash = await uow.session.scalar(
            select(ResetAnswer.answer_hash).where(
                ResetAnswer.account_id == account_id, ResetAnswer.question_id == question_id
            )
        )
    # A question the account never answered costs the same work and fails like a wrong answer.
    right = await verify_password_async(answer_hash or DUMMY_HASH, normalize_answer(answer))
    right = right and answer_hash is not None
    new_hash = await hash_password_async(secret) if right else None

    async with uow_factory() as uow:
        now = uow.clock.now()
        row = await latest_email_code(uow, email, CodePurpose.RESET, for_update=True)
        check_code(row, code, now)  # again: it may have been used or replaced meanwhile
        assert row is not None
        if new_hash is None:
            row.attempts += 1
            await uow.commit()
            logger.info("wrong reset answer for account %s", account_id)
            raise InvalidCode(attempts_left=MAX_CODE_ATTEMPTS - row.attempts)
        row.used_at = now
        account = await uow.session.scalar(
            select(Account).where(Account.id == account_id).with_for_update()
        )
        if account is None:
            raise InvalidCode()
        account.password_hash = new_hash
        account.password_changed_at = now
        unlock(account)
        signed_out = await unlink_chats_of_account(uow, account_id, keep=Chat(channel, chat_id))
        for chat in signed_out:
            if chat.channel == WEB_CHANNEL:
                # As at a sign-out in the chat itself: its browser can no longer read back
                # what the account showed there.
                await forget_transcript(uow, chat.chat_id)
        await uow.commit()
    logger.info("password reset for account %s; %d chats signed out", account_id, len(signed_out))
    return PasswordReset(account_id=account_id, signed_out=signed_out)
