"""Sign-in codes by text message: enrolling a mobile number, and texting a code.

A signed-in person may have their sign-in codes texted to a US mobile number instead of using
an authenticator app or email. The number is proved first: a code is texted to it
(``request_sms_enrolment``) and typed back (``confirm_sms_enrolment``); only then does the
account's method become ``sms`` with that number. The codes follow the rules of
``core.accounts.email_codes`` (10 minutes, 5 tries, single use, a new one at most every 60
seconds): the enrolment code is an ``email_codes`` row of purpose ``sms_enrol`` held by the
number, a sign-in code is the chat's sign-in challenge (``core.accounts.signin``).

The core never sends a text: a code goes through the outbox as a ``code_sms`` row (channel
``sms``, payload ``{"code", "locale"}``), which the SMS sender words in that language and sends
at once, quiet hours or not. A number that replied STOP gets no code (``TextsStopped``): the
person is offered their email or backup code instead.
"""

from __future__ import annotations

import logging
import secrets
from typing import Final

from core.accounts.email_codes import IssuedCode, check_code, issue_email_code, latest_email_code
from core.accounts.links import get_account
from core.accounts.models import CodePurpose, OtpMethod
from core.accounts.totp_store import store_totp_secret
from core.contacts.phone import parse_us_mobile
from core.errors import InvalidCode, TextsStopped
from core.outbox.service import add_notification
from core.sms.models import SmsOptOut
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "CODE_SMS",
    "confirm_sms_enrolment",
    "queue_code_text",
    "request_sms_enrolment",
    "texts_stopped",
]

logger = logging.getLogger(__name__)

CODE_SMS: Final = "code_sms"  # the outbox kind of a code by text message
SMS_CHANNEL: Final = "sms"


async def texts_stopped(uow: UnitOfWork, number: str) -> bool:
    """Whether the number replied STOP (and not START since)."""
    return await uow.session.get(SmsOptOut, number) is not None


async def queue_code_text(uow: UnitOfWork, number: str, issued: IssuedCode, locale: str) -> None:
    """Queue the text that carries a code, in this unit of work (sent after the commit)."""
    await add_notification(
        uow,
        kind=CODE_SMS,
        channel=SMS_CHANNEL,
        address=number,
        payload={"code": issued.code, "locale": locale},
        dedupe_key=f"{CODE_SMS}:{issued.purpose.value}:{secrets.token_hex(8)}",
    )


async def request_sms_enrolment(
    uow: UnitOfWork, account_id: int, number: str, *, locale: str
) -> str:
    """Text a code to a mobile number the account wants its sign-in codes on; the caller
    commits.

    Returns:
        The number in E.164 (confirm it with ``confirm_sms_enrolment``).

    Raises:
        InvalidPhoneNumber: not a US mobile number.
        TextsStopped: the number replied STOP.
        RateLimited: a code went to this number for this account less than 60 seconds ago.
        AccountNotFound: no such account.
    """
    e164 = parse_us_mobile(number)
    account = await get_account(uow, account_id)
    if await texts_stopped(uow, e164):
        raise TextsStopped(number=e164)
    issued = await issue_email_code(uow, account.email, CodePurpose.SMS_ENROL, holder=e164)
    await queue_code_text(uow, e164, issued, locale)
    logger.info("texted an enrolment code for account %s", account_id)
    return e164


async def confirm_sms_enrolment(
    uow_factory: UnitOfWorkFactory, account_id: int, number: str, code: str
) -> None:
    """Check the code texted to ``number``; right, the account gets its sign-in codes by text
    there from now on (its authenticator secret is dropped). Checked in its own unit of work,
    so that a wrong try counts.

    Raises:
        InvalidCode, CodeReused, CodeExpired, TooManyAttempts: see
            ``core.accounts.email_codes.check_code``.
        AccountNotFound: no such account.
    """
    async with uow_factory() as uow:
        account = await get_account(uow, account_id)
        row = await latest_email_code(
            uow, account.email, CodePurpose.SMS_ENROL, holder=number, for_update=True
        )
        now = uow.clock.now()
        try:
            check_code(row, code, now)
        except InvalidCode:
            await uow.commit()  # the spent try must count
            raise
        assert row is not None
        row.used_at = now
        account.otp_method = OtpMethod.SMS
        account.sms_number = number
        store_totp_secret(uow, account, None)
        account.totp_last_step = None
        await uow.commit()
    logger.info("account %s now receives codes by text message", account_id)
