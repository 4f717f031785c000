"""Adding a paper-filed case to an account with its Online Access Code.

A wrong code is written down (for this case and account, and in the account's daily failure
budget) before
:class:`~core.errors.InvalidCode` is raised: the caller commits the unit of work even when this
raises, as for every refused attempt (see :mod:`core.cases.service`).
"""

from __future__ import annotations

import logging

from sqlalchemy import delete

from core import ratelimit
from core.accounts.models import Account
from core.cases.access_code import (
    ACCOUNT_FAILURE_LIMIT,
    ACCOUNT_FAILURE_WINDOW,
    MAX_CASE_FAILURES,
    ClaimState,
    check_claim,
    record_failure,
    verify_access_code,
)
from core.cases.models import AccessCodeFailures, Case
from core.cases.receipt import ReceiptNumber
from core.cases.repository import find_case
from core.errors import AccountNotFound, CaseNotFound, InvalidCode, TooManyAttempts
from core.uow import UnitOfWork

__all__ = [
    "account_failure_key",
    "add_paper_case",
    "clear_access_code_locks",
    "reset_access_code_attempts",
]

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
    this account's :data:`~core.cases.access_code.MAX_CASE_FAILURES` for this case as well
    (other accounts keep theirs). Those counts are written into the unit of work before the
    error is raised: commit it anyway.

    Raises:
        InvalidReceiptNumber: not a receipt number (not counted).
        AccountNotFound: no such account.
        TooManyAttempts: the account used its daily budget (``until`` = when it refills).
        CaseAccessLocked: this account had too many wrong codes for this case (``until`` =
            when it may try again; the help desk can unlock it sooner).
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
    now = uow.clock.now()
    failures = await uow.session.get(
        AccessCodeFailures, (case.id, account_id), with_for_update=True
    )
    check_claim(
        ClaimState(
            receipt_number=case.receipt_number,
            owner_id=case.owner_id,
            code_used=case.access_code_used_at is not None,
            failures=failures.failures if failures is not None else 0,
            locked_until=failures.locked_until if failures is not None else None,
        ),
        account_id=account_id,
        now=now,
    )
    if not verify_access_code(access_code, case.access_code_hash):
        if failures is None:
            failures = AccessCodeFailures(case_id=case.id, account_id=account_id, failures=0)
            uow.session.add(failures)
        failures.failures, failures.locked_until = record_failure(
            failures.failures, failures.locked_until, now
        )
        used = await ratelimit.increment(uow, key, window=ACCOUNT_FAILURE_WINDOW)
        await uow.flush()
        left = min(MAX_CASE_FAILURES - failures.failures, ACCOUNT_FAILURE_LIMIT - used.count)
        logger.info(
            "wrong access code for case %s (%d failures from this account)",
            receipt.masked(),
            failures.failures,
        )
        raise InvalidCode(attempts_left=max(0, left))

    case.owner_id = account_id
    case.access_code_used_at = now
    await clear_access_code_locks(uow, case.id)
    await uow.flush()
    logger.info("paper case %s added to account %d", receipt.masked(), account_id)
    return case


async def clear_access_code_locks(uow: UnitOfWork, case_id: int) -> int:
    """Forget every account's wrong access codes for a case; returns how many accounts had
    some (a new code was imported, the code was used, or the help desk unlocked it)."""
    result = await uow.session.execute(
        delete(AccessCodeFailures)
        .where(AccessCodeFailures.case_id == case_id)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def reset_access_code_attempts(uow: UnitOfWork, receipt_number: str | ReceiptNumber) -> int:
    """Give every account locked out of a case by wrong access codes its tries back (the help
    desk's operation); returns how many accounts had wrong codes recorded for it.

    Raises:
        InvalidReceiptNumber: not a receipt number.
        CaseNotFound: no case has this receipt number.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    case = await find_case(uow, receipt, for_update=True)
    if case is None:
        raise CaseNotFound(receipt_number=str(receipt))
    cleared = await clear_access_code_locks(uow, case.id)
    logger.info("access code tries of case %s reset (%d accounts)", receipt.masked(), cleared)
    return cleared
