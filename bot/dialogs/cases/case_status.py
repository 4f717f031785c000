"""Checking a case status by receipt number: for anyone, with the history for its owner.

One step, the case-status screen: it asks for a receipt number, or shows the case last looked
up with its buttons (follow it, book biometrics, check another); typing another receipt number
there shows that case. A receipt number found in the person's free text (the menu passes it as
``{"receipt_number": ...}``) is looked up when the flow starts (the step's ``enter`` hook),
without asking. What was looked up is kept in the flow's data: the prompt only reads it.

Every lookup counts against the chat's throttle (requester ``"<channel>:<chat_id>"``); a
refused or unknown one is worded by :mod:`bot.wording.errors` and stays counted (the engine commits
the turn).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection
from typing import Final

from bot.dialogs.base import Button, Dialog, Flow, Prompt, Stay, Step, Transition
from bot.dialogs.cases.case_view import (
    APPOINTMENTS,
    CASE_ACTIONS,
    GET_UPDATES,
    CaseView,
    act_on_case,
    case_choices,
)
from bot.dialogs.cases.uscis_view import find_for_chat, with_uscis
from bot.dialogs.context import Context
from bot.wording.i18n import N_
from core.cases.receipt import ReceiptNumber, find_receipt_number
from core.cases.service import case_detail
from core.errors import InvalidReceiptNumber, NotAuthorized

__all__ = ["FLOW", "NAME", "case_status_dialog", "parse_receipt"]

logger = logging.getLogger(__name__)

NAME: Final = "case_status"
ARG_RECEIPT: Final = "receipt_number"  # the dialog argument: a receipt number to look up
VIEW: Final = "view"
ANOTHER: Final = "another"


class CaseStatus(enum.Enum):
    CHECK = "check"


def parse_receipt(ctx: Context, text: str) -> str:
    """A receipt number as typed ("ioe-091 234 5678"), or inside a sentence.

    Raises:
        InvalidReceiptNumber: neither; it says what the text looks like instead (an A-Number,
            an online account number, an access code) when it can tell.
    """
    try:
        return str(ReceiptNumber.parse(text))
    except InvalidReceiptNumber:
        found = find_receipt_number(text)
        if found is None:
            raise
        return str(found)


def requester(ctx: Context) -> str:
    """The throttle key of this chat's lookups."""
    return f"{ctx.channel}:{ctx.chat_id}"


async def look_up(ctx: Context, receipt: str) -> CaseView:
    """Look a case up for this chat: the public status, and the history when the chat's
    account owns the case or represents its owner.

    Raises:
        InvalidReceiptNumber, RateLimited, CaseNotFound, UscisUnavailable: see
            :func:`core.cases.uscis.service.find_status` (the try is counted all the same).
    """
    found, official, stale = await find_for_chat(ctx, receipt, requester(ctx))
    account_id = await ctx.account_id()
    if account_id is not None:
        try:
            detail = await case_detail(ctx.uow, found.receipt, account_id=account_id)
        except NotAuthorized:
            pass
        else:
            return with_uscis(CaseView.detail(detail, account_id), official, stale)
    return with_uscis(CaseView.public(found), official, stale)


def case_status_dialog(available: Collection[str] = ()) -> Dialog[CaseStatus]:
    """The case-status flow; it offers to book biometrics when ``available`` holds the
    appointments flow."""

    def ask_text(ctx: Context) -> str:
        return ctx._(
            "Please type your receipt number. It has 3 letters and 10 digits, like "
            "IOE0912345678, and is on the notice USCIS sent when it received your case."
        )

    async def show(ctx: Context, view: CaseView) -> Prompt:
        choices = await case_choices(ctx, view, available)
        choices.append(Button(ctx._("Check another case"), ANOTHER))
        text = view.text(ctx) + "\n\n" + ctx._("To check another case, type its receipt number.")
        return Prompt(text, choices)

    async def enter(ctx: Context) -> Transition | None:
        # A receipt number from the menu: look it up now. A refusal (unknown, throttled) is
        # worded by the engine, and the question shows.
        pending = ctx.data.pop(ARG_RECEIPT, None)
        if pending:
            ctx.data[VIEW] = (await look_up(ctx, str(pending))).dump()
        return None

    async def shown(ctx: Context) -> CaseView | None:
        """The case looked up last, as this chat may see it now (the history only for the
        account it was shown to: not after a sign-out)."""
        view = CaseView.load(ctx.data.get(VIEW))
        return None if view is None else view.for_account(await ctx.account_id())

    async def prompt(ctx: Context) -> Prompt:
        view = await shown(ctx)
        if view is None:
            return Prompt(ask_text(ctx))
        return await show(ctx, view)

    async def handle(ctx: Context, value: str) -> Transition:
        if value == ANOTHER:
            ctx.data.pop(VIEW, None)
            return Stay()
        if value in CASE_ACTIONS:
            view = await shown(ctx)
            if view is None:
                return Stay()
            return await act_on_case(ctx, view, value, available, offer_channels=True)
        # A receipt number. Forget the last case first: if this one is refused, the step
        # shows the question again rather than the old case under the new error.
        ctx.data.pop(VIEW, None)
        ctx.data[VIEW] = (await look_up(ctx, value)).dump()
        return Stay()

    return Dialog(
        name=NAME,
        topic_action="case_status",
        states=CaseStatus,
        initial=CaseStatus.CHECK,
        title=N_("Check a case status"),
        purpose=N_("check a case status"),
        intent="case_status",
        steps={
            CaseStatus.CHECK: Step(
                prompt=prompt,
                parse=parse_receipt,
                handle=handle,
                enter=enter,
                example=N_("IOE0912345678"),
                starts=tuple(name for name in (APPOINTMENTS, GET_UPDATES) if name in available),
                help=N_(
                    "The receipt number is on the notice USCIS sends when it receives your "
                    "case (Form I-797C). It is not your A-Number (an A and 8 or 9 digits) and "
                    "not your online account number (12 digits)."
                ),
            )
        },
    )


FLOW: Final = Flow(NAME, case_status_dialog)
