"""What a person sees once signed in: who they are signed in as (the address masked), their
cases in brief, and a new backup code when they used their old one."""

from __future__ import annotations

from typing import Final

from bot.dialogs.context import Context
from core.accounts.links import get_account
from core.cases.service import list_cases

__all__ = ["CASES_SHOWN", "mask_email", "welcome"]

CASES_SHOWN: Final = 5


def mask_email(email: str) -> str:
    """``ana.demo@example.com`` -> ``a***@example.com``: enough to recognise, not to harvest."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


async def welcome(ctx: Context, account_id: int, new_backup_code: str | None) -> None:
    """Say who is signed in, list the cases briefly, and show a new backup code once."""
    account = await get_account(ctx.uow, account_id)
    lines = [
        ctx._("You are signed in as {email} in this chat.").format(email=mask_email(account.email))
    ]
    cases = await list_cases(ctx.uow, account_id)
    if cases:
        lines.append(ctx._("Your cases:"))
        lines += [
            ctx._("• {receipt} ({form}): {status}").format(
                receipt=str(case.receipt), form=case.form_type, status=ctx._(case.status.title)
            )
            for case in cases[:CASES_SHOWN]
        ]
        more = len(cases) - CASES_SHOWN
        if more > 0:
            lines.append(
                ctx.ngettext(
                    "…and {n} more case under My cases.",
                    "…and {n} more cases under My cases.",
                    more,
                ).format(n=more)
            )
    else:
        lines.append(ctx._("There are no cases in your account yet."))
    ctx.say("\n".join(lines))
    if new_backup_code is not None:
        text = ctx._(
            "You used your backup code, so it no longer works. Your NEW backup code is:\n"
            "{code}\n"
            "Write it down now and keep it somewhere safe: it replaces the old one, and "
            "we will not show it again."
        )
        ctx.say(text.format(code=new_backup_code), kept_text=text.format(code=ctx.hidden()))
