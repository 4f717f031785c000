"""What a dialog's prompts, parsers and handlers can use during one turn."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.dialogs.base import Button
from bot.dialogs.model import Attachment, Reply
from bot.wording.i18n import Translator
from core.accounts.email_codes import IssuedCode
from core.accounts.links import account_id_for_chat
from core.accounts.password_budget import (
    PasswordBudget,
    requesters_of,
    spend_password_check,
)
from core.cases.uscis.service import CaseSourceMode, Uscis
from core.clock import Clock
from core.handoff.desk import AgentDesk
from core.ports import Mailer, OutgoingMail
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = ["Context", "Services"]


@dataclass
class Services:
    """What the dialogs need from the outside world, built by the composition root."""

    uow_factory: UnitOfWorkFactory
    mailer: Mailer
    clock: Clock
    contact_phone: str = "1-800-375-5283"
    contact_tty: str = "1-800-767-1833"
    # CASEBOT_SECRET_KEY: seals secrets a flow keeps between turns
    # (bot/dialogs/accounts/sealed.py); None is the development key.
    secret_key: str | None = None
    # CASEBOT_CASE_SOURCE, and the USCIS Case Status API when it is used (bot/case_source.py).
    case_source: CaseSourceMode = CaseSourceMode.LOCAL
    uscis: Uscis | None = None
    # CASEBOT_PASSWORD_CHECKS_PER_SECOND: the service's budget of password checks
    # (core/accounts/password_budget.py), set by the composition root (bot/app.py) from the
    # settings; None (services built by hand, as tests do on a clock that stands still): the
    # chats' and addresses' budgets only.
    password_checks_per_second: int | None = None
    # Whether an agent can take a chat now, and when agents are next available
    # (core/handoff/desk.py); None: no live agents here, "Talk to a person" gives the USCIS
    # Contact Center's numbers.
    agent_desk: AgentDesk | None = None
    # The time zone the agents' next opening is shown in (with its name).
    agent_time_zone: str = "America/New_York"


@dataclass
class Context:
    """One turn of one conversation, seen from a dialog.

    Attributes:
        data: the running dialog's own data (JSON values only; kept between turns; never a
            password).
        uow: the turn's unit of work: everything done through it is committed with the turn.
    """

    services: Services
    uow: UnitOfWork
    translator: Translator
    channel: str
    chat_id: str
    data: dict[str, Any]
    # The key of the client's address when the channel knows it (the web chat), else None.
    client: str | None = None
    replies: list[Reply] = field(default_factory=list)
    outbox_mail: list[OutgoingMail] = field(default_factory=list)
    # The mails that carry a code the person needs to go on, with that code (see send_mail).
    mailed_codes: list[tuple[OutgoingMail, IssuedCode]] = field(default_factory=list)
    # The conversation is past its first turn, where the menu greets: the menu then only asks
    # "What else can I help with?".
    greeted: bool = False
    _account_id: int | None = None
    _account_known: bool = False

    # --- language ---------------------------------------------------------------------------

    def _(self, message: str) -> str:
        """Translate a msgid into the conversation's language."""
        return self.translator._(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translator.ngettext(singular, plural, n)

    @property
    def locale(self) -> str:
        return self.translator.locale

    @property
    def t(self) -> Translator:
        return self.translator

    # --- the world --------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.uow.clock.now()

    async def account_id(self) -> int | None:
        """The account this chat is signed in as, or None."""
        if not self._account_known:
            self._account_id = await account_id_for_chat(self.uow, self.channel, self.chat_id)
            self._account_known = True
        return self._account_id

    def password_budget(self) -> PasswordBudget:
        """The budget a password check asked for by this chat spends from (its own, its client
        address's when known, and the service's)."""
        return PasswordBudget(
            per_second=self.services.password_checks_per_second,
            requesters=requesters_of(self.channel, self.chat_id, self.client),
        )

    async def spend_password_check(self) -> None:
        """Spend one password check of this chat's budget, before any Argon2 work (for a known
        and an unknown email alike); a refusal is counted with the turn.

        Raises:
            RateLimited, PasswordChecksBusy, WorkNeeded: see
                ``core.accounts.password_budget.spend_password_check``.
        """
        await spend_password_check(self.uow, self.password_budget(), self.services.uow_factory)

    def forget_account(self) -> None:
        """Call after signing in or out, so the next ``account_id()`` asks again."""
        self._account_known = False

    # --- output -----------------------------------------------------------------------------

    def say(
        self,
        text: str,
        choices: Sequence[Button] = (),
        attachments: Sequence[Attachment] = (),
        *,
        kept_text: str | None = None,
    ) -> None:
        """Add a message before the next prompt. Its buttons go to the current step.

        Args:
            kept_text: the text shows a secret once (a new backup code): what stored copies
                keep instead, the secret replaced by ``hidden()`` (``Reply.kept_text``).
        """
        self.replies.append(
            Reply(
                text=text,
                buttons=tuple(choices),
                attachments=tuple(attachments),
                kept_text=kept_text,
            )
        )

    def hidden(self) -> str:
        """What a transcript shows in place of a secret that was shown once."""
        # Translators: replaces a backup code or an authenticator key in the saved chat
        # history (it was shown once, in the answer, and is not kept).
        return self._("[hidden: shown only once]")

    def send_mail(self, mail: OutgoingMail, *, code: IssuedCode | None = None) -> None:
        """Send an email once the turn is committed (never before: a rollback would lie).

        Args:
            code: the code the mail carries, when the person needs it to go on. If such a
                mail cannot be sent (the mail server is down), the engine withdraws the code,
                takes the conversation back to where it was before the turn and says the email
                could not be sent. A mail without ``code`` (a notice) is only logged then.
        """
        self.outbox_mail.append(mail)
        if code is not None:
            self.mailed_codes.append((mail, code))
