"""Adding a paper-filed case to an account with its Online Access Code.

A wrong code is written down (on the case, and in the account's daily failure budget) before
:class:`~core.errors.InvalidCode` is raised: the caller commits the unit of work even when this
raises, as for every refused attempt (see :mod:`core.cases.service`).
"""

from __future__ import annotations

import logging

from core import ratelimit
from core.accounts.models import Account
from core.cases.access_code import (
    ACCOUNT_FAILURE_LIMIT,
    ACCOUNT_FAILURE_WINDOW,
    MAX_CASE_FAILURES,
    ClaimState,
    check_claim,
    verify_access_code,
)
from core.cases.models import Case
from core.cases.receipt import ReceiptNumber
from core.cases.repository import find_case
from core.errors import AccountNotFound, CaseNotFound, InvalidCode, TooManyAttempts
from core.uow import UnitOfWork

__all__ = ["account_failure_key", "add_paper_case", "reset_access_code_attempts"]

logger = logging.getLogger(__name__)


def account_failure_key(account_id: int) -> str:
    """The rate-limit key of an account's wrong access codes."""
    return f"access_code_failures:{account_id}"


async def add_paper_case(
    uow: UnitOfWork,
    *,
    account_id: int,
    receipt_number: str | ReceiptNumber,
    access_code: str,
) -> Case:
    """Add a paper-filed case to an account, proven by its Online Access Code (used once).

    The code is compared normalised (case, spaces and dashes do not matter) and in constant
    time. A wrong code, or an unknown receipt number, counts against the account's budget of
    :data:`~core.cases.access_code.ACCOUNT_FAILURE_LIMIT` a day; a wrong code counts against
    the case's :data:`~core.cases.access_code.MAX_CASE_FAILURES` as well. Those counts are
    written into the unit of work before the error is raised: commit it anyway.

    Raises:
        InvalidReceiptNumber: not a receipt number (not counted).
        AccountNotFound: no such account.
        TooManyAttempts: the account used its daily budget (``until`` = when it refills), or
            the case had too many wrong codes (``until`` None: the help desk unlocks it).
        CaseNotFound: no case has this receipt number.
        CaseAlreadyLinked: the case is in this account already (``to_this_account=True``).
        AccessCodeAlreadyUsed: the code was used, or the case is in another account.
        InvalidCode: the code is wrong; ``attempts_left`` before TooManyAttempts.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    if await uow.session.get(Account, account_id) is None:
        raise AccountNotFound()
    key = account_failure_key(account_id)
    budget = await ratelimit.usage(uow, key, window=ACCOUNT_FAILURE_WINDOW)
    if budget.count >= ACCOUNT_FAILURE_LIMIT:
        raise TooManyAttempts(until=budget.resets_at)

    case = await find_case(uow, receipt, for_update=True)
    if case is None:
        await ratelimit.increment(uow, key, window=ACCOUNT_FAILURE_WINDOW)
        raise CaseNotFound(receipt_number=str(receipt))
    check_claim(
        ClaimState(
            receipt_number=case.receipt_number,
            owner_id=case.owner_id,
            code_used=case.access_code_used_at is not None,
            failures=case.access_code_attempts,
        ),
        account_id=account_id,
    )
    if not verify_access_code(access_code, case.access_code_hash):
        case.access_code_attempts += 1
        used = await ratelimit.increment(uow, key, window=ACCOUNT_FAILURE_WINDOW)
        await uow.flush()
        left = min(
            MAX_CASE_FAILURES - case.access_code_attempts, ACCOUNT_FAILURE_LIMIT - used.count
        )
        logger.info(
            "wrong access code for case %s (%d failures)",
            receipt.masked(),
            case.access_code_attempts,
        )
        raise InvalidCode(attempts_left=max(0, left))

    case.owner_id = account_id
    case.access_code_used_at = uow.clock.now()
    await uow.flush()
    logger.info("paper case %s added to account %d", receipt.masked(), account_id)
    return case


async def reset_access_code_attempts(uow: UnitOfWork, receipt_number: str | ReceiptNumber) -> None:
    """Give a case locked by wrong access codes its tries back (the help desk's operation).

    Raises:
        InvalidReceiptNumber: not a receipt number.
        CaseNotFound: no case has this receipt number.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    case = await find_case(uow, receipt, for_update=True)
    if case is None:
        raise CaseNotFound(receipt_number=str(receipt))
    case.access_code_attempts = 0
    await uow.flush()
