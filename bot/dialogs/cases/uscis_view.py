"""A case whose status comes from USCIS, as the chat finds and shows it.

- Spanish readers get USCIS's own Spanish title and description, and its Spanish for each
  entry of a signed-in owner's history where USCIS gave it.
- Other readers get the catalog's wording of a known title in their language; a title the
  catalog does not know is shown as USCIS wrote it (English), with a neutral explanation.
- An answer served from the cache because USCIS cannot be asked now says when it was fetched,
  and why: USCIS is not answering, many people are checking at once (our share of USCIS's
  rate), or today's lookups are used up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from bot.wording.i18n import N_
from bot.wording.statuses import next_step_text, status_day, status_meaning, status_title
from core.cases.service import lookup_case
from core.cases.statuses import UNLISTED, Status
from core.cases.uscis.answer import catalog_status
from core.cases.uscis.service import CaseSourceMode, UscisStatus, find_status
from core.cases.views import PublicStatus

if TYPE_CHECKING:
    from bot.dialogs.cases.case_view import CaseView
    from bot.dialogs.context import Context

__all__ = ["Official", "Stale", "find_for_chat", "uscis_case_text"]

UNLISTED_MEANING = N_(
    "This is the status as USCIS wrote it. We do not have a plain explanation of it yet: the "
    "notice USCIS sends you explains what it means."
)
# Why a cached answer is shown, by the reason of core.errors.UscisUnavailable.
AS_OF: Final = {
    "outage": N_("USCIS's system is not answering right now, so this is what it said on {when}."),
    "busy": N_(
        "Many people are checking their cases right now, so this is what USCIS said on {when}. "
        "Please try again in a minute for a newer answer."
    ),
    "quota": N_(
        "We have used up today's case lookups at USCIS, so this is what USCIS said on {when}. "
        "Please try again tomorrow for a newer answer."
    ),
}


@dataclass(frozen=True, slots=True)
class Stale:
    """A cached answer shown because USCIS could not be asked now: when it was fetched, and
    why (``"outage"``, ``"busy"`` or ``"quota"``)."""

    when: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Official:
    """USCIS's own words for the current status, in English and Spanish, and its Spanish for
    the entries of the history (each by its catalog status code and time)."""

    title_en: str
    desc_en: str = ""
    title_es: str = ""
    desc_es: str = ""
    history_es: tuple[tuple[str, datetime, str], ...] = ()

    def dump(self) -> list[Any]:
        history = [[code, at.isoformat(), title] for code, at, title in self.history_es]
        return [self.title_en, self.desc_en, self.title_es, self.desc_es, history]

    @classmethod
    def load(cls, raw: Any) -> Official | None:
        if raw is None:
            return None
        title_en, desc_en, title_es, desc_es = (str(part) for part in raw[:4])
        history = tuple(
            (str(code), datetime.fromisoformat(at), str(title))
            for code, at, title in (raw[4] if len(raw) > 4 else ())
        )
        return cls(title_en, desc_en, title_es, desc_es, history)

    def spanish_title(self, status: Status, at: datetime) -> str | None:
        """USCIS's Spanish for the history entry of ``status`` at ``at``, if it gave one."""
        for code, moment, title in self.history_es:
            if code == status.code and moment == at:
                return title
        return None


async def find_for_chat(
    ctx: Context, receipt: str, requester: str
) -> tuple[PublicStatus, Official | None, Stale | None]:
    """The public status from the configured source, with USCIS's words, and the time and
    reason of a cached answer, when it comes from USCIS.

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
    history_es = tuple(
        (catalog_status(event.title_en).code, event.at, event.title_es)
        for event in case.history
        if event.title_es
    )
    if case.title_es and case.modified_at is not None:
        # The current status is an entry of the history too (core's _mirror adds it).
        history_es += ((case.status.code, case.modified_at, case.title_es),)
    official = Official(case.title_en, case.desc_en, case.title_es, case.desc_es, history_es)
    stale = None
    if found.as_of is not None:
        stale = Stale(found.as_of, found.as_of_reason or "outage")
    return found.public, official, stale


def with_uscis(view: CaseView, official: Official | None, stale: Stale | None) -> CaseView:
    if official is None:
        return view
    if stale is None:
        return replace(view, official=official)
    return replace(view, official=official, as_of=stale.when, as_of_reason=stale.reason)


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
        why = AS_OF.get(view.as_of_reason or "outage", AS_OF["outage"])
        lines += [ctx._(why).format(when=when), ""]
    lines += [
        ctx._("Case {receipt} ({form})").format(receipt=view.receipt, form=view.form_type),
        ctx._("Status: {title}").format(title=title),
    ]
    if meaning:
        lines.append(meaning)
    lines.append(ctx._("Last update: {day}").format(day=status_day(ctx, view.updated_at)))
    lines.append(
        ctx._("What usually happens next: {text}").format(
            text=next_step_text(ctx, status, owner=view.private)
        )
    )
    if view.history:
        lines += ["", ctx._("History:")]
        for entry_status, at in sorted(view.history, key=lambda entry: entry[1], reverse=True):
            entry_title = None
            if ctx.locale == "es" and official is not None:
                entry_title = official.spanish_title(entry_status, at)
            lines.append(
                ctx._("• {day}: {title}").format(
                    day=status_day(ctx, at), title=entry_title or status_title(ctx, entry_status)
                )
            )
    return "\n".join(lines)
