"""A case whose status comes from USCIS, as the chat finds and shows it.

- Spanish readers get USCIS's own Spanish title and description.
- Other readers get the catalog's wording of a known title in their language; a title the
  catalog does not know is shown as USCIS wrote it (English), with a neutral explanation.
- An answer served from the cache because USCIS is not answering says when it was fetched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.wording.i18n import N_
from bot.wording.statuses import next_step_text, status_day, status_meaning, status_title
from core.cases.service import lookup_case
from core.cases.statuses import UNLISTED
from core.cases.uscis.service import CaseSourceMode, UscisStatus, find_status
from core.cases.views import PublicStatus

if TYPE_CHECKING:
    from bot.dialogs.cases.case_view import CaseView
    from bot.dialogs.context import Context

__all__ = ["Official", "find_for_chat", "uscis_case_text"]

UNLISTED_MEANING = N_(
    "This is the status as USCIS wrote it. We do not have a plain explanation of it yet: the "
    "notice USCIS sends you explains what it means."
)
AS_OF = N_("USCIS's system is not answering right now, so this is what it said on {when}.")


@dataclass(frozen=True, slots=True)
class Official:
    """USCIS's own words for the current status, in English and Spanish."""

    title_en: str
    desc_en: str = ""
    title_es: str = ""
    desc_es: str = ""

    def dump(self) -> list[str]:
        return [self.title_en, self.desc_en, self.title_es, self.desc_es]

    @classmethod
    def load(cls, raw: Any) -> Official | None:
        if raw is None:
            return None
        title_en, desc_en, title_es, desc_es = (str(part) for part in raw)
        return cls(title_en, desc_en, title_es, desc_es)


async def find_for_chat(
    ctx: Context, receipt: str, requester: str
) -> tuple[PublicStatus, Official | None, datetime | None]:
    """The public status from the configured source, with USCIS's words and the time of a
    cached answer when it comes from USCIS.

    Raises:
        The errors of :func:`core.cases.uscis.service.find_status`.
    """
    mode = ctx.services.case_source
    if mode is CaseSourceMode.LOCAL:
        return await lookup_case(ctx.uow, receipt, requester=requester), None, None
    found = await find_status(
        ctx.uow, receipt, requester=requester, mode=mode, uscis=ctx.services.uscis
    )
    if not isinstance(found, UscisStatus):
        return found, None, None
    case = found.case
    official = Official(case.title_en, case.desc_en, case.title_es, case.desc_es)
    return found.public, official, found.as_of


def with_uscis(view: CaseView, official: Official | None, as_of: datetime | None) -> CaseView:
    return view if official is None else replace(view, official=official, as_of=as_of)


def uscis_case_text(ctx: Context, view: CaseView) -> str:
    """A USCIS case as the chat shows it (the layout of :func:`bot.wording.statuses.case_text`)."""
    official = view.official
    status = view.status
    spanish = ctx.locale == "es" and official is not None and official.title_es
    if spanish and official is not None:
        title, meaning = official.title_es, official.desc_es
    elif status is UNLISTED and official is not None:
        title = official.title_en
        meaning = ctx._(UNLISTED_MEANING)
        if ctx.locale == "en" and official.desc_en:
            meaning = official.desc_en + "\n" + meaning
    else:
        title, meaning = status_title(ctx, status), status_meaning(ctx, status)
    lines = []
    if view.as_of is not None:
        when = ctx.t.datetime_in(view.as_of, "America/New_York")
        lines += [ctx._(AS_OF).format(when=when), ""]
    lines += [
        ctx._("Case {receipt} ({form})").format(receipt=view.receipt, form=view.form_type),
        ctx._("Status: {title}").format(title=title),
    ]
    if meaning:
        lines.append(meaning)
    lines.append(ctx._("Last update: {day}").format(day=status_day(ctx, view.updated_at)))
    lines.append(
        ctx._("What usually happens next: {text}").format(text=next_step_text(ctx, status))
    )
    if view.history:
        lines += ["", ctx._("History:")]
        for entry_status, at in sorted(view.history, key=lambda entry: entry[1], reverse=True):
            lines.append(
                ctx._("• {day}: {title}").format(
                    day=status_day(ctx, at), title=status_title(ctx, entry_status)
                )
            )
    return "\n".join(lines)
