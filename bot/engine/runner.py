"""The turn runner: ``Engine.handle`` takes one message through one turn of its conversation.

A turn runs inside one unit of work: the conversation row (locked for the turn), any domain
change the dialogs make, and any notification they queue are committed together, before
anything is sent. Turns of one conversation never interleave (a ``KeyedLock``); a turn that
needs slow password hashes is undone, the hashes are computed outside any transaction, and it
runs again; a turn whose mail could not be sent is taken back. What happens inside the turn is
told by the other modules of ``bot.engine``: ``input`` (what came in), ``interrupts``
(global actions, free text that asks for another flow), ``transitions``, ``render`` and ``stack``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any, Final

from bot.dialogs.actions import ROOT
from bot.dialogs.base import Dialog, DialogError
from bot.dialogs.context import Context, Services
from bot.dialogs.model import Incoming, Outcome, Reply, Turn
from bot.engine.config import AdmitHook, EngineConfig, TurnHook, TurnObserver
from bot.engine.handoff import in_handoff, in_live_chat
from bot.engine.input import dispatch
from bot.engine.keyed_lock import KeyedLock
from bot.engine.matching import valid_unicode
from bot.engine.render import finish_replies, prompt
from bot.engine.stack import TurnState
from bot.understanding import understand
from bot.wording.i18n import DEFAULT_LOCALE, normalize_locale, translator
from bot.wording.outage import mail_not_sent, unavailable_turn
from core.accounts.email_codes import IssuedCode, withdraw_email_code
from core.accounts.links import unlink_chat
from core.conversations import ConversationRecord, load_conversation, save_conversation
from core.deferral import Deferral, WorkNeeded
from core.outage import is_database_unavailable
from core.ports import OutgoingMail

__all__ = ["Engine"]

logger = logging.getLogger(__name__)

# Runs of a turn that may each stop for slow work (a sign-in with a rehash takes 3 runs);
# past them, the last run does the rest inline.
MAX_DEFERRED_ROUNDS: Final = 4


class _AdmitRaised(Exception):
    """What the admit hook raised, carried past the turn's own error handling."""

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


class Engine:
    """Runs conversations.

    Args:
        services: what dialogs use (units of work, mailer, clock).
        dialogs: every dialog by name; must include ``menu`` (the root) and ``language``.
        config: idle timeouts.
        observer: told about every committed turn (metrics).

    Raises:
        DialogError: a dialog starts one that does not exist, or the root is missing.
    """

    def __init__(
        self,
        services: Services,
        dialogs: Mapping[str, Dialog[Any]],
        config: EngineConfig | None = None,
        observer: TurnObserver | None = None,
    ) -> None:
        self.services = services
        self.dialogs = dict(dialogs)
        self.config = config or EngineConfig()
        if ROOT not in self.dialogs:
            raise DialogError("the dialogs have no 'menu'")
        for dialog in self.dialogs.values():
            for state, step in dialog.steps.items():
                unknown = [name for name in step.starts if name not in self.dialogs]
                if unknown:
                    raise DialogError(f"{dialog.name}.{state.name} starts unknown {unknown}")
        # Free text that asks for a flow (the intents the dialogs declare): it goes there.
        self.intents = {d.intent: d.name for d in self.dialogs.values() if d.intent is not None}
        self.observer = observer
        self._turns: KeyedLock[tuple[str, str]] = KeyedLock()

    async def handle(
        self,
        incoming: Incoming,
        *,
        admit: AdmitHook | None = None,
        within: TurnHook | None = None,
    ) -> Turn:
        """Handle one message or button press and answer it. Never raises for bad input.

        Args:
            admit: run first in the turn's own transaction, before the conversation is read
                (a channel checking its session and counting the message against a rate, in
                the same transaction as the turn instead of one of its own). It returns the
                message to handle, which may carry what it read (a locale hint), or None to
                refuse it: then the turn does not run, what ``admit`` wrote is committed, and
                the answer is an empty ``Turn`` with ``refused`` set. If it raises, nothing is
                kept and its exception propagates. When the turn itself fails, what ``admit``
                wrote is undone with it (``failed`` or ``unavailable`` tell the caller).
            within: run in the turn's own transaction, after the turn and before its commit,
                with the answer (a channel storing its transcript with the turn, so that both
                are kept or neither). It does not run when the turn fails or is a duplicate;
                if it raises, the turn is undone like any failed turn.

        Raises:
            Exception: only what ``admit`` raised.
        """
        incoming = valid_unicode(incoming)
        async with self._turns.hold((incoming.channel, incoming.chat_id)):
            return await self._turn(incoming, admit, within)

    async def set_locale(self, channel: str, chat_id: str, locale: str) -> str:
        """Record an explicit language choice made outside a turn (``casebot chat --lang``).

        Returns:
            The supported locale that was set (English for an unknown tag).
        """
        chosen = normalize_locale(locale) or DEFAULT_LOCALE
        async with self.services.uow_factory() as uow:
            conversation = await load_conversation(uow, channel, chat_id)
            conversation.locale = chosen
            await save_conversation(uow, conversation)
            await uow.commit()
        return chosen

    async def _turn(
        self, incoming: Incoming, admit: AdmitHook | None, within: TurnHook | None
    ) -> Turn:
        """The turn, run again while it asks for slow work (an Argon2id hash, a USCIS lookup):
        each run that needs some is undone (``WorkNeeded``), the work is done outside its
        transaction, and the next run finds the results. So slow work never holds the write
        queue (SQLite) or a pooled connection (PostgreSQL) that other chats' turns wait for
        (core/deferral.py)."""
        deferral = Deferral()
        for _ in range(MAX_DEFERRED_ROUNDS):
            with deferral.scope():
                try:
                    return await self._turn_once(incoming, admit, within)
                except WorkNeeded:
                    pass
            try:
                await deferral.compute()
            except Exception:  # the last run meets it inline and answers as any failing turn
                break
        return await self._turn_once(incoming, admit, within)  # the rest inline, as before

    async def _turn_once(
        self, incoming: Incoming, admit: AdmitHook | None, within: TurnHook | None
    ) -> Turn:
        mail: list[OutgoingMail] = []
        mailed: list[tuple[OutgoingMail, IssuedCode]] = []
        started = time.perf_counter()
        observed: tuple[Any, Any, str | None] | None = None
        try:
            async with self.services.uow_factory() as uow:
                if admit is not None:
                    try:
                        admitted = await admit(uow, incoming)
                    except Exception as error:
                        raise _AdmitRaised(error) from error
                    if admitted is None:
                        await uow.commit()
                        return Turn(replies=[], outcome=Outcome.REFUSED)
                    incoming = admitted
                conversation = await load_conversation(uow, incoming.channel, incoming.chat_id)
                last = conversation.last_update_id
                if (
                    incoming.update_id is not None
                    and last is not None
                    and incoming.update_id <= last
                ):
                    return Turn(
                        replies=[], locale=conversation.locale or "en", outcome=Outcome.DUPLICATE
                    )
                if incoming.update_id is not None:
                    conversation.last_update_id = incoming.update_id
                before = conversation.state
                locale = self._resolve_locale(conversation, incoming)
                ctx = Context(
                    services=self.services,
                    uow=uow,
                    translator=translator(locale),
                    channel=incoming.channel,
                    chat_id=incoming.chat_id,
                    data={},
                    client=incoming.client,
                )
                turn = TurnState(conversation, ctx, self.dialogs, self.intents)
                signed_in = await ctx.account_id() is not None
                await self._expire_if_idle(turn)
                await self._dispatch(turn, incoming)
                replies = self._finish_replies(turn)
                conversation.state = turn.dump()
                conversation.updated_at = ctx.now()
                await save_conversation(uow, conversation)
                result = Turn(
                    replies=replies,
                    input_was_secret=turn.secret_input,
                    locale=ctx.locale,
                    signed_out=signed_in and await ctx.account_id() is None,
                )
                if within is not None:
                    await within(uow, result)
                await uow.commit()
                observed = (before, conversation.state, turn.exit_reason)
                mail, mailed = ctx.outbox_mail, ctx.mailed_codes
        except _AdmitRaised as refused:
            raise refused.error from None
        except WorkNeeded:
            raise  # undone: run again once the slow work is done (_turn)
        except Exception as error:
            if is_database_unavailable(error):
                # An outage, not a bug: one line, not a traceback per turn (core/outage.py).
                logger.warning(
                    "turn on %s: the database is unavailable (%s)",
                    incoming.channel,
                    type(error).__name__,
                )
                return unavailable_turn(incoming.locale_hint)
            # Never a crash in a conversation: the turn is rolled back, the person is told.
            logger.exception("turn failed on %s", incoming.channel)
            t = translator(normalize_locale(incoming.locale_hint) or DEFAULT_LOCALE)
            return Turn(
                replies=[
                    Reply(
                        t._("Sorry, something went wrong on our side. Please try again."),
                        buttons=(),
                    )
                ],
                input_was_secret=False,
                outcome=Outcome.FAILED,
            )
        unsent = await self._send_mail(mail, mailed)
        if unsent:
            result = await self._mail_failed(
                incoming, observed[0] if observed else None, unsent, result
            )
        if observed is not None and self.observer is not None:
            try:
                self.observer.turn_finished(
                    incoming.channel, *observed, seconds=time.perf_counter() - started
                )
            except Exception:  # metrics must never cost a conversation its answer
                logger.exception("the turn observer failed")
        return result

    async def _send_mail(
        self, mail: list[OutgoingMail], mailed: list[tuple[OutgoingMail, IssuedCode]]
    ) -> list[IssuedCode]:
        """Send the turn's mail; returns the codes of the needed mails that could not go."""
        unsent: list[IssuedCode] = []
        for message in mail:
            try:
                await self.services.mailer.send(message)
            except OSError as error:
                domain = message.to.rpartition("@")[2]
                logger.warning(
                    "could not send an email to a %s address: %s", domain, type(error).__name__
                )
                unsent.extend(code for sent, code in mailed if sent is message)
        return unsent

    async def _mail_failed(
        self, incoming: Incoming, before: Any, unsent: list[IssuedCode], result: Turn
    ) -> Turn:
        """A code could not be mailed: withdraw it, take the conversation back to where it was
        before the turn, and say so above that step's prompt (bot/wording/outage.py)."""
        try:
            async with self.services.uow_factory() as uow:
                for code in unsent:
                    await withdraw_email_code(uow, code)
                conversation = await load_conversation(uow, incoming.channel, incoming.chat_id)
                conversation.state = before
                ctx = Context(
                    services=self.services,
                    uow=uow,
                    translator=translator(result.locale),
                    channel=incoming.channel,
                    chat_id=incoming.chat_id,
                    data={},
                    client=incoming.client,
                )
                turn = TurnState(conversation, ctx, self.dialogs, self.intents)
                turn.ensure_menu()
                ctx.say(mail_not_sent(ctx.translator))
                await prompt(turn)
                replies = self._finish_replies(turn)
                conversation.state = turn.dump()
                await save_conversation(uow, conversation)
                await uow.commit()
        except Exception:
            logger.exception("could not take the conversation back after a mail failed")
            notice = Reply(mail_not_sent(translator(result.locale)))
            return Turn([*result.replies, notice], result.input_was_secret, locale=result.locale)
        return Turn(replies, result.input_was_secret, locale=result.locale)

    def _resolve_locale(self, conversation: ConversationRecord, incoming: Incoming) -> str:
        """The turn's language: the conversation's (chosen explicitly, with the language
        picker, ``set_locale`` or a web session's locale, or found on an earlier turn), then
        the channel's hint (Telegram's ``language_code``, the browser's), then the language
        of the text itself, then English.

        The first message decides, and the decision is kept: the conversation does not
        change language under the person's feet, and later answers (an email address, a
        password) are never read for their language. Only an empty opener (the web widget's
        and the terminal's first turn) decides nothing, so the first real message can.
        """
        if conversation.locale:
            return conversation.locale
        found = normalize_locale(incoming.locale_hint)
        text = (incoming.text or "").strip()
        if found is None and text:
            found = normalize_locale(understand(text).language)
        if found is None and not text and incoming.payload is None:
            return DEFAULT_LOCALE
        conversation.locale = found or DEFAULT_LOCALE
        return conversation.locale

    async def _expire_if_idle(self, turn: TurnState) -> None:
        conversation, ctx = turn.conversation, turn.ctx
        idle = ctx.now() - conversation.updated_at
        link_timeout = self.config.link_timeout(ctx.channel)
        if (
            link_timeout is not None
            and idle > link_timeout
            and await ctx.account_id() is not None
            # Waiting in line or chatting with an agent, the person is not away.
            and not await in_handoff(turn)
        ):
            await unlink_chat(ctx.uow, ctx.channel, ctx.chat_id)
            ctx.forget_account()
            ctx.say(ctx._("You were signed out after a while without activity, to keep your "
                          "account safe."))  # fmt: skip
        flows = [f for f in turn.stack if f.dialog != ROOT]
        if not flows or await in_live_chat(turn):
            # Chatting with an agent, the person is not away: the flow waits for them.
            return
        sensitive = any(self.dialogs[f.dialog].sensitive for f in flows if f.dialog in self.dialogs)
        limit = self.config.sensitive_idle_timeout if sensitive else self.config.idle_timeout
        if idle > limit:
            _dialog, _state, waiting = turn.activate_top()
            turn.exit_reason = "timeout"
            turn.expired_secret = waiting.secret
            turn.stack = []
            turn.offer = None
            turn.shown = []
            ctx.say(ctx._("That conversation timed out, so we are starting again."))

    # --- what the turn runs (kept as methods: tests break a turn here on purpose) -----------

    async def _dispatch(self, turn: TurnState, incoming: Incoming) -> None:
        await dispatch(turn, incoming)

    def _finish_replies(self, turn: TurnState) -> list[Reply]:
        return finish_replies(turn)
