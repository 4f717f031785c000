"""One case as both case flows show it (``case_status``, ``my_cases``), and what its buttons do.

A :class:`CaseView` is what was looked up: the public status, plus the dated history when the
chat's account owns the case or represents its owner. It is kept in the flow's data as JSON,
so showing it again (after a language change, a "help", a restart) looks nothing up again.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.dialogs.base import Button, Start, Stay, Transition
from bot.dialogs.cases.uscis_view import Official, uscis_case_text
from bot.dialogs.context import Context
from bot.wording.statuses import case_text
from core.cases.receipt import ReceiptNumber
from core.cases.service import (
    CaseDetail,
    PublicStatus,
    is_following,
    subscribe,
    unsubscribe,
)
from core.cases.statuses import Status, get_status
from core.errors import DomainError
from core.web_sessions import WEB_CHANNEL

__all__ = [
    "APPOINTMENTS",
    "BOOK",
    "CASE_ACTIONS",
    "GET_UPDATES",
    "SUBSCRIBE",
    "UNSUBSCRIBE",
    "CaseView",
    "act_on_case",
    "case_choices",
    "is_subscribed",
]

logger = logging.getLogger(__name__)

APPOINTMENTS: Final = "appointments"  # the dialog that books a biometrics appointment
GET_UPDATES: Final = "get_updates"  # email, text or sign in (bot.dialogs.cases.updates)
SUBSCRIBE: Final = "sub"
UNSUBSCRIBE: Final = "unsub"
BOOK: Final = "book"
CASE_ACTIONS: Final = frozenset({SUBSCRIBE, UNSUBSCRIBE, BOOK})


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as looked up for this chat.

    Attributes:
        history: the dated history, oldest first, when the chat's account may see it (owner
            or representative); None for the public view.
        owned: the chat's account owns the case (its signed-in chats hear of every change).
        viewer: the account the history was shown to; once the chat is signed in as another
            account or none (signed out, by hand or after a while), only the public view is
            shown again (:meth:`for_account`).
    """

    receipt: str
    form_type: str
    status: Status
    updated_at: datetime
    history: tuple[tuple[Status, datetime], ...] | None = None
    owned: bool = False
    viewer: int | None = None
    # From USCIS (bot/uscis_view.py): its own words, and when a cached answer was fetched and
    # why USCIS was not asked ("outage", "busy", "quota"; None: stored before reasons were).
    official: Official | None = None
    as_of: datetime | None = None
    as_of_reason: str | None = None

    @property
    def private(self) -> bool:
        return self.history is not None

    @classmethod
    def public(cls, found: PublicStatus) -> CaseView:
        return cls(str(found.receipt), found.form_type, found.status, found.updated_at)

    @classmethod
    def detail(cls, found: CaseDetail, account_id: int) -> CaseView:
        return cls(
            str(found.receipt),
            found.form_type,
            found.status,
            found.updated_at,
            tuple((entry.status, entry.occurred_at) for entry in found.history),
            owned=found.owner_id == account_id,
            viewer=account_id,
        )

    def for_account(self, account_id: int | None) -> CaseView:
        """This view as the chat's account (``ctx.account_id()``) may see it now: the public
        view when the history was shown to another account (or to none)."""
        if self.history is None or (account_id is not None and account_id == self.viewer):
            return self
        return CaseView(
            self.receipt,
            self.form_type,
            self.status,
            self.updated_at,
            official=self.official,
            as_of=self.as_of,
            as_of_reason=self.as_of_reason,
        )

    def dump(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "receipt": self.receipt,
            "form": self.form_type,
            "status": self.status.code,
            "at": self.updated_at.isoformat(),
        }
        if self.history is not None:
            raw["history"] = [[status.code, at.isoformat()] for status, at in self.history]
        if self.owned:
            raw["owned"] = True
        if self.viewer is not None:
            raw["for"] = self.viewer
        if self.official is not None:
            raw["uscis"] = self.official.dump()
        if self.as_of is not None:
            raw["as_of"] = self.as_of.isoformat()
        if self.as_of_reason is not None:
            raw["as_of_reason"] = self.as_of_reason
        return raw

    @classmethod
    def load(cls, raw: Mapping[str, Any] | None) -> CaseView | None:
        """The view stored by :meth:`dump`, or None (nothing stored, or stored by an older
        version in a shape or with a status this one no longer knows)."""
        if not raw:
            return None
        try:
            history = raw.get("history")
            return cls(
                receipt=str(ReceiptNumber.parse(raw["receipt"])),
                form_type=str(raw["form"]),
                status=get_status(raw["status"]),
                updated_at=datetime.fromisoformat(raw["at"]),
                history=None
                if history is None
                else tuple((get_status(code), datetime.fromisoformat(at)) for code, at in history),
                owned=bool(raw.get("owned", False)),
                viewer=int(raw["for"]) if raw.get("for") is not None else None,
                official=Official.load(raw.get("uscis")),
                as_of=datetime.fromisoformat(raw["as_of"]) if raw.get("as_of") else None,
                as_of_reason=str(raw["as_of_reason"]) if raw.get("as_of_reason") else None,
            )
        except (KeyError, TypeError, ValueError, DomainError):
            return None

    def text(self, ctx: Context) -> str:
        if self.official is not None:
            return uscis_case_text(ctx, self)
        return case_text(
            ctx,
            receipt=self.receipt,
            form_type=self.form_type,
            status=self.status,
            updated_at=self.updated_at,
            history=self.history,
        )

    def can_book(self, available: Collection[str]) -> bool:
        """Biometrics can be booked from here: the case allows it, the chat's account may act
        on it, and the appointments flow exists."""
        return self.private and self.status.allows_biometrics and APPOINTMENTS in available


async def is_subscribed(ctx: Context, receipt: str) -> bool:
    """Whether this chat follows the case."""
    return await is_following(ctx.uow, receipt, channel=ctx.channel, chat_id=ctx.chat_id)


async def case_choices(ctx: Context, view: CaseView, available: Collection[str]) -> list[Button]:
    """The buttons under a case: follow or stop following it, and book biometrics when
    possible."""
    if await is_subscribed(ctx, view.receipt):
        choices = [Button(ctx._("Stop updates"), UNSUBSCRIBE)]
    else:
        choices = [Button(ctx._("Get updates"), SUBSCRIBE)]
    if view.can_book(available):
        choices.append(Button(ctx._("Book biometrics"), BOOK))
    return choices


async def act_on_case(
    ctx: Context,
    view: CaseView,
    action: str,
    available: Collection[str],
    *,
    offer_channels: bool = False,
) -> Transition:
    """Do what a case button asks (:data:`CASE_ACTIONS`) and say what was done.

    With ``offer_channels`` (and the flow registered), "Get updates" in the web chat from
    someone not signed in opens :data:`GET_UPDATES`: email, text message, sign in, or this chat
    while it stays open (a web session does not last).

    Raises:
        The errors of :func:`core.cases.service.subscribe` (a case deleted meanwhile).
    """
    if (
        action == SUBSCRIBE
        and offer_channels
        and GET_UPDATES in available
        and ctx.channel == WEB_CHANNEL
        and await ctx.account_id() is None
    ):
        return Start(GET_UPDATES, {"receipt": view.receipt})
    if action == SUBSCRIBE:
        await subscribe(ctx.uow, view.receipt, channel=ctx.channel, chat_id=ctx.chat_id)
        ctx.say(
            ctx._("Done. I will send you a message here when the status of {receipt} "
                  "changes.").format(receipt=view.receipt)
        )  # fmt: skip
        return Stay()
    if action == UNSUBSCRIBE:
        await unsubscribe(ctx.uow, view.receipt, channel=ctx.channel, chat_id=ctx.chat_id)
        text = ctx._("Done. You will no longer get updates about {receipt} here.").format(
            receipt=view.receipt
        )
        if view.owned:
            # The owner's signed-in chats hear of every change anyway; say so, not to mislead.
            text += "\n" + ctx._(
                "While this chat is signed in to your account, you still get news of your "
                "own cases."
            )
        ctx.say(text)
        return Stay()
    if action == BOOK and view.can_book(available):
        return Start(APPOINTMENTS, {"case": view.receipt, "kind": "biometrics"})
    return Stay()
