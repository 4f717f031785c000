"""``casebot admin uscis check RECEIPT``: what USCIS's Case Status API says about a case, what
the cache held, and what is left of today's budget, for operators."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from core.cases.receipt import ReceiptNumber
from core.cases.uscis.quota import quota_state
from core.cases.uscis.service import cached_answer, check_uscis_alone
from core.errors import CaseNotFound, UscisUnavailable

if TYPE_CHECKING:
    from bot.app import App

__all__ = ["uscis_check"]


async def uscis_check(app: App, receipt_text: str) -> int:
    """Ask USCIS about one case now (the cache is bypassed; the request counts in the budget,
    within the poller's share) and print the answer; the exit status.

    Raises:
        InvalidReceiptNumber: not a receipt number (nothing is sent).
    """
    receipt = ReceiptNumber.parse(receipt_text)
    uscis = app.uscis
    if uscis is None:
        print(
            "casebot: CASEBOT_CASE_SOURCE is local: set it to uscis or both, with "
            "CASEBOT_USCIS_API_URL, CASEBOT_USCIS_CLIENT_ID and CASEBOT_USCIS_CLIENT_SECRET",
            file=sys.stderr,
        )
        return 2
    print(f"API: {uscis.source!r}, rate {uscis.budget.rate}/s, {uscis.budget.daily} a day")
    async with app.uow_factory() as uow:
        cached = await cached_answer(uow, receipt)
        now = uow.clock.now()
    if cached is None:
        print("cache: nothing cached")
    else:
        age = now - cached.fetched_at
        fresh = "fresh" if age < uscis.ttl else "stale"
        found = "found" if cached.found else "not found"
        print(f"cache: {found}, fetched {cached.fetched_at:%Y-%m-%d %H:%M:%S}Z ({fresh})")
    status = 0
    try:
        answer = await check_uscis_alone(app.uow_factory, uscis, receipt, poller=True)
    except CaseNotFound:
        print("USCIS: no case with this receipt number (404)")
    except UscisUnavailable as exc:
        print(f"USCIS: no usable answer ({exc.reason}); see the log for the cause")
        status = 1
    else:
        case = answer.case
        origin = f"from the cache: {answer.as_of_reason}" if answer.as_of else "fresh"
        print(f"USCIS ({origin}):")
        print(f"  form: {case.form_type}")
        print(f"  status: {case.title_en} -> catalog {answer.public.status.code}")
        print(f"  status (es): {case.title_es}")
        print(f"  updated: {case.modified_at}")
        for event in case.history:
            print(f"  history: {event.at:%Y-%m-%d} {event.title_en}")
    async with app.uow_factory() as uow:
        state = await quota_state(uow)
    left = uscis.budget.daily - state.used
    print(f"budget: {state.used} of {uscis.budget.daily} used today, {left} left")
    return status
