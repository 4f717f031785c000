"""The cases in the signed-in account: the list, each case with its history, and adding a
case filed on paper with its Online Access Code.

A chat that is not signed in is taken to the sign-in flow (``link_account``, started by the
list step's ``enter`` hook) and comes back to the list when it ends. A representative also
sees the cases of the clients who granted them access. Every refusal to add a case says why
and what to do: a wrong code (with the tries left), too many tries, a code already used
(perhaps by a representative), a case already in the account, an unknown receipt number.
"""

from __future__ import annotations

import enum
import logging
import math
import re
from collections.abc import Collection
from typing import Final

from bot.dialogs.base import (
    Button,
    Dialog,
    Flow,
    Next,
    Prompt,
    Replace,
    Start,
    Stay,
    Step,
    Transition,
)
from bot.dialogs.cases.case_status import parse_receipt, requester
from bot.dialogs.cases.case_view import (
    APPOINTMENTS,
    CASE_ACTIONS,
    CaseView,
    act_on_case,
    case_choices,
)
from bot.dialogs.context import Context
from bot.wording.errors import describe_error, minutes_until
from bot.wording.i18n import N_
from bot.wording.statuses import status_title
from core.cases.access_code import normalize_access_code
from core.cases.service import (
    PublicStatus,
    add_paper_case,
    case_detail,
    list_cases,
    list_client_cases,
    lookup_case,
)
from core.errors import (
    AccessCodeAlreadyUsed,
    CaseAccessLocked,
    CaseAlreadyLinked,
    CaseNotFound,
    InvalidCode,
    InvalidReceiptNumber,
    NotAuthorized,
    TooManyAttempts,
)

__all__ = ["FLOW", "NAME", "my_cases_dialog"]

logger = logging.getLogger(__name__)

LINK_ACCOUNT: Final = "link_account"
NAME: Final = "my_cases"
SIGN_IN: Final = "signin"
ADD: Final = "add"
CASE_PREFIX: Final = "c:"
CASE: Final = "case"  # data: the receipt number of the case shown
ADDING: Final = "adding"  # data: the receipt number of the paper case being added
_ACCESS_CODE_RE: Final = re.compile(r"[A-Z0-9]{12}")


class MyCases(enum.Enum):
    LIST = "list"
    CASE = "case"
    ADD_RECEIPT = "add_receipt"
    ADD_CODE = "add_code"


def parse_access_code(ctx: Context, text: str) -> str:
    """An Online Access Code (12 letters and digits; spaces, dashes and case do not matter).

    A wrong shape is refused here, before it costs one of the limited tries.

    Raises:
        ValueError: not the shape of an access code (a receipt number typed again is named).
    """
    code = normalize_access_code(text)
    if _ACCESS_CODE_RE.fullmatch(code):
        return code
    try:
        parse_receipt(ctx, text)
    except InvalidReceiptNumber:
        pass
    else:
        raise ValueError(
            ctx._("That is a receipt number. Now I need the Online Access Code from the Account "
                  "Access Notice: 12 letters and numbers.")
        )  # fmt: skip
    raise ValueError(
        ctx._("An Online Access Code has 12 letters and numbers. Please copy it from your "
              "Account Access Notice.")
    )  # fmt: skip


def _wait_text(ctx: Context, minutes: int) -> str:
    if minutes < 90:
        return ctx.ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)
    hours = math.ceil(minutes / 60)
    return ctx.ngettext("{n} hour", "{n} hours", hours).format(n=hours)


def _case_label(ctx: Context, case: PublicStatus) -> str:
    return ctx._("{receipt} · {form} · {status}").format(
        receipt=case.receipt, form=case.form_type, status=status_title(ctx, case.status)
    )


def my_cases_dialog(available: Collection[str] = ()) -> Dialog[MyCases]:
    """The my-cases flow; it offers to sign in when ``available`` holds ``link_account`` and
    to book biometrics when it holds ``appointments``."""
    can_sign_in = LINK_ACCOUNT in available

    # --- the list ---------------------------------------------------------------------------

    async def list_prompt(ctx: Context) -> Prompt:
        account_id = await ctx.account_id()
        if account_id is None:
            if can_sign_in:
                return Prompt(
                    ctx._("To see your cases, please sign in to your USCIS account first."),
                    [Button(ctx._("Sign in"), SIGN_IN)],
                )
            return Prompt(ctx._("To see your cases, please sign in to your USCIS account first."))
        own = await list_cases(ctx.uow, account_id)
        clients = await list_client_cases(ctx.uow, account_id)
        if own:
            text = ctx._("Here are the cases in your account. Choose one to see its history.")
        else:
            text = ctx._("There are no cases in your account yet.")
        choices = [Button(_case_label(ctx, case), f"{CASE_PREFIX}{case.receipt}") for case in own]
        if clients:
            text += "\n" + ctx._("Your clients' cases are listed too, after their email address.")
            choices += [
                Button(
                    ctx._("{email}: {case}").format(
                        email=client.client_email, case=_case_label(ctx, client.case)
                    ),
                    f"{CASE_PREFIX}{client.case.receipt}",
                )
                for client in clients
            ]
        text += "\n" + ctx._("Did you file a case on paper? You can add it with the Online "
                             "Access Code from its Account Access Notice.")  # fmt: skip
        choices.append(Button(ctx._("Add a paper-filed case"), ADD))
        return Prompt(text, choices)

    async def list_enter(ctx: Context) -> Transition | None:
        if can_sign_in and await ctx.account_id() is None:
            ctx.say(ctx._("To see your cases, please sign in to your USCIS account first."))
            return Start(LINK_ACCOUNT, then=MyCases.LIST)
        return None

    async def list_handle(ctx: Context, value: str) -> Transition:
        signed_in = await ctx.account_id() is not None
        if value == SIGN_IN and not signed_in and can_sign_in:
            return Start(LINK_ACCOUNT, then=MyCases.LIST)
        if not signed_in:
            return Stay()
        if value == ADD:
            return Next(MyCases.ADD_RECEIPT)
        if value.startswith(CASE_PREFIX):
            ctx.data[CASE] = value.removeprefix(CASE_PREFIX)
            return Next(MyCases.CASE)
        return Stay()

    async def list_resume(ctx: Context, result: object) -> Transition:
        ctx.forget_account()  # the sign-in flow has just linked this chat
        return Stay()

    # --- one case ---------------------------------------------------------------------------

    async def load_case(ctx: Context) -> CaseView | None:
        account_id = await ctx.account_id()
        receipt = ctx.data.get(CASE)
        if account_id is None or not receipt:
            return None
        try:
            return CaseView.detail(
                await case_detail(ctx.uow, str(receipt), account_id=account_id), account_id
            )
        except (InvalidReceiptNumber, CaseNotFound, NotAuthorized):
            return None

    async def case_prompt(ctx: Context) -> Prompt:
        view = await load_case(ctx)
        if view is None:
            return Prompt(ctx._("Sorry, this case is not in your account any more."))
        return Prompt(view.text(ctx), await case_choices(ctx, view, available))

    async def case_handle(ctx: Context, value: str) -> Transition:
        view = await load_case(ctx)
        if view is None or value not in CASE_ACTIONS:
            return Replace(NAME)
        return await act_on_case(ctx, view, value, available)

    # --- adding a paper-filed case ----------------------------------------------------------

    def receipt_prompt(ctx: Context) -> str:
        return ctx._(
            "Please type the receipt number of the case you filed on paper. It is on your "
            "receipt notice (Form I-797C) and has 3 letters and 10 digits."
        )

    async def receipt_handle(ctx: Context, receipt: str) -> Transition:
        account_id = await ctx.account_id()
        if account_id is None:
            return Replace(NAME)
        if any(str(case.receipt) == receipt for case in await list_cases(ctx.uow, account_id)):
            ctx.say(ctx._("This case is already in your account."))
            ctx.data[CASE] = receipt
            return Next(MyCases.CASE)
        # Say "not found" now, before the person looks for the code; a public lookup, so it
        # counts against this chat's throttle like any other (raises CaseNotFound, RateLimited).
        await lookup_case(ctx.uow, receipt, requester=requester(ctx))
        ctx.data[ADDING] = receipt
        return Next(MyCases.ADD_CODE)

    def code_prompt(ctx: Context) -> str:
        return ctx._("Now type the Online Access Code of case {receipt}. It is on the Account "
                     "Access Notice USCIS mailed you, and has 12 letters and numbers.").format(
            receipt=ctx.data.get(ADDING, "")
        )  # fmt: skip

    async def code_handle(ctx: Context, code: str) -> Transition:
        account_id = await ctx.account_id()
        receipt = ctx.data.get(ADDING)
        if account_id is None or not receipt:
            return Replace(NAME)
        phone, tty = ctx.services.contact_phone, ctx.services.contact_tty
        try:
            case = await add_paper_case(
                ctx.uow, account_id=account_id, receipt_number=receipt, access_code=code
            )
        except InvalidCode as error:
            left = error.attempts_left or 0
            if left > 0:
                ctx.say(
                    ctx.ngettext(
                        "That code is not right. You have {n} more try.",
                        "That code is not right. You have {n} more tries.",
                        left,
                    ).format(n=left)
                )
                return Stay()
            ctx.say(
                ctx._("That code is not right, and there are no more tries for now. The USCIS "
                      "Contact Center can help: {phone} (TTY {tty}).").format(phone=phone, tty=tty)
            )  # fmt: skip
            return Replace(NAME)
        except CaseAccessLocked as error:
            wait = _wait_text(ctx, minutes_until(ctx, error.until))
            ctx.say(
                ctx._("This case is locked for you after too many wrong codes. Please try "
                      "again in {time}, or call the USCIS Contact Center at {phone} (TTY {tty}).")
                .format(time=wait, phone=phone, tty=tty)
            )  # fmt: skip
            return Replace(NAME)
        except TooManyAttempts as error:
            wait = _wait_text(ctx, minutes_until(ctx, error.until))
            ctx.say(
                ctx._("You have tried too many wrong codes today. Please try again in "
                      "{time}.").format(time=wait)
            )  # fmt: skip
            return Replace(NAME)
        except (CaseAlreadyLinked, AccessCodeAlreadyUsed) as error:
            ctx.say(describe_error(ctx, error))
            return Replace(NAME)
        except CaseNotFound as error:
            ctx.say(describe_error(ctx, error))
            return Next(MyCases.ADD_RECEIPT)
        ctx.say(
            ctx._("Done: case {receipt} ({form}) is now in your account.").format(
                receipt=case.receipt_number, form=case.form_type
            )
        )
        # Start the flow afresh on the list: "back" must not lead to the code step again.
        return Replace(NAME)

    return Dialog(
        name=NAME,
        topic_action="add_paper_case",
        states=MyCases,
        initial=MyCases.LIST,
        sensitive=True,
        title=N_("My cases"),
        purpose=N_("see your cases"),
        steps={
            MyCases.LIST: Step(
                prompt=list_prompt,
                handle=list_handle,
                goes_to=(MyCases.CASE, MyCases.ADD_RECEIPT),
                starts=(LINK_ACCOUNT,) if can_sign_in else (),
                resume=list_resume,
                enter=list_enter,
            ),
            MyCases.CASE: Step(
                prompt=case_prompt,
                handle=case_handle,
                starts=(NAME, APPOINTMENTS) if APPOINTMENTS in available else (NAME,),
            ),
            MyCases.ADD_RECEIPT: Step(
                prompt=receipt_prompt,
                parse=parse_receipt,
                handle=receipt_handle,
                example=N_("EAC2190012345"),
                goes_to=(MyCases.ADD_CODE, MyCases.CASE),
                starts=(NAME,),
            ),
            MyCases.ADD_CODE: Step(
                prompt=code_prompt,
                parse=parse_access_code,
                handle=code_handle,
                secret=True,
                input_kind="code",
                goes_to=(MyCases.ADD_RECEIPT,),
                starts=(NAME,),
                help=N_(
                    "The Online Access Code is on the Account Access Notice USCIS mailed for a "
                    "case filed on paper. Each code works once: if your attorney or "
                    "representative already used it, the case is in their account."
                ),
            ),
        },
    )


FLOW: Final = Flow(NAME, my_cases_dialog)
