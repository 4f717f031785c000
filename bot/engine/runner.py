"""The dialog engine: one turn at a time per conversation, state persisted with the turn.

A turn runs inside one unit of work: the conversation row (locked for the turn), any domain
change the dialogs make, and any notification they queue are committed together, before
anything is sent. The engine, not the dialogs, handles what every step shares: the menu, help,
back, language and start-over interrupts; re-prompting on bad input with a reason and an
example; escalation after three failed tries; typed labels and numbers as button presses;
expired buttons; idle expiry; and offering another flow when free text clearly asks for it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import inspect
import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any, Final, Protocol

from bot.dialogs.actions import (
    G_BACK,
    G_HELP,
    G_LANG,
    G_MENU,
    G_RESTART,
    G_SETLANG,
    G_STAY,
    G_SWITCH,
    GLOBAL_PREFIX,
    LANGUAGE,
    ROOT,
)
from bot.dialogs.base import (
    Choice,
    Dialog,
    DialogError,
    End,
    Next,
    Prompt,
    Replace,
    Start,
    Stay,
    Step,
    Transition,
)
from bot.dialogs.context import Context, Services
from bot.dialogs.links import open_link
from bot.dialogs.model import Button, Incoming, Reply, Turn
from bot.understanding import Understanding, understand
from bot.wording.errors import describe_error
from bot.wording.i18n import (
    DEFAULT_LOCALE,
    LANGUAGE_NAMES,
    LOCALES,
    Translator,
    normalize_locale,
    translator,
)
from bot.wording.local_input import NO, YES, yes_no
from bot.wording.outage import mail_not_sent, unavailable_turn
from core.accounts.email_codes import IssuedCode, withdraw_email_code
from core.accounts.links import unlink_chat
from core.accounts.passwords import HashDeferral, HashesNeeded
from core.conversations import ConversationRecord, load_conversation, save_conversation
from core.errors import DomainError, InvalidInput
from core.outage import is_database_unavailable
from core.ports import OutgoingMail
from core.uow import UnitOfWork

__all__ = ["Engine", "EngineConfig"]

logger = logging.getLogger(__name__)

MAX_FAILURES: Final = 3
MAX_TEXT_LENGTH: Final = 2000
# Runs of a turn that may each stop for slow hashes (a sign-in with a rehash takes 3 runs);
# past them, the last run hashes inline.
MAX_HASH_ROUNDS: Final = 4


@dataclass(frozen=True)
class EngineConfig:
    """Timeouts of idle conversations.

    Attributes:
        idle_timeout: an ordinary flow left alone this long starts again from the menu.
        sensitive_idle_timeout: the same for a flow that holds secrets or needs a signed-in
            user.
        signed_in_idle_timeout: a signed-in chat left alone this long is signed out, per
            channel; None keeps the link (Telegram: a private chat on the person's own phone,
            and the link is what carries their notifications).
    """

    idle_timeout: timedelta = timedelta(minutes=60)
    sensitive_idle_timeout: timedelta = timedelta(minutes=15)
    signed_in_idle_timeout: Mapping[str, timedelta | None] | None = None

    def link_timeout(self, channel: str) -> timedelta | None:
        table = self.signed_in_idle_timeout or {"telegram": None}
        return table.get(channel, self.sensitive_idle_timeout)


class _Frame:
    """One running dialog on a conversation's stack (stored as JSON)."""

    __slots__ = ("back", "data", "dialog", "failures", "state", "then")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.dialog: str = raw["d"]
        self.state: str = raw["s"]
        self.data: dict[str, Any] = dict(raw.get("data", {}))
        self.back: list[str] = list(raw.get("back", []))
        self.failures: int = int(raw.get("fails", 0))
        self.then: str | None = raw.get("then")

    @classmethod
    def new(cls, dialog: Dialog[Any], args: Mapping[str, Any] | None = None) -> _Frame:
        return cls({"d": dialog.name, "s": dialog.initial.value, "data": dict(args or {})})

    def dump(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"d": self.dialog, "s": self.state}
        if self.data:
            raw["data"] = self.data
        if self.back:
            raw["back"] = self.back[-10:]
        if self.failures:
            raw["fails"] = self.failures
        if self.then is not None:
            raw["then"] = self.then
        return raw


class _TurnState:
    """Everything one turn works on."""

    def __init__(self, conversation: ConversationRecord, ctx: Context) -> None:
        self.conversation = conversation
        self.ctx = ctx
        raw = conversation.state or {}
        self.stack = [_Frame(f) for f in raw.get("stack", [])]
        self.offer: dict[str, Any] | None = raw.get("offer")
        # The buttons of the newest message that had any, as shown: typing a label or a
        # number answers them (without rendering the prompt again).
        self.shown: list[Choice] = [Choice(*shown) for shown in raw.get("shown", [])]
        self.secret_input = False
        self.prompted = False
        # The flow timed out while waiting for a secret: what came is that secret (see
        # _expire_if_idle), not an answer to the menu.
        self.expired_secret = False
        # How the turn left its step when a global action or a timeout decided it (metrics).
        self.exit_reason: str | None = None

    def dump(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"stack": [f.dump() for f in self.stack]}
        if self.offer:
            raw["offer"] = self.offer
        if self.shown:
            raw["shown"] = [
                [choice.label, choice.value, *([choice.means] if choice.means else [])]
                for choice in self.shown
            ]
        return raw


# Run in a turn's transaction before it commits (``Engine.handle(..., within=...)``).
TurnHook = Callable[[UnitOfWork, Turn], Awaitable[None]]
# Run first in a turn's transaction (``Engine.handle(..., admit=...)``): the message to handle,
# or None to refuse it.
AdmitHook = Callable[[UnitOfWork, Incoming], Awaitable[Incoming | None]]


class _AdmitRaised(Exception):
    """What the admit hook raised, carried past the turn's own error handling."""

    def __init__(self, error: Exception) -> None:
        super().__init__(repr(error))
        self.error = error


class TurnObserver(Protocol):
    """Told about every committed turn (``bot.ops.metrics.CasebotMetrics``): the conversation
    state before and after, the engine's exit tag (``menu``, ``timeout``, ``back``,
    ``switched`` or None) and the time the turn took."""

    def turn_finished(
        self,
        channel: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        reason: str | None,
        seconds: float,
    ) -> None: ...


class Engine:
    """Runs conversations.

    Args:
        services: what dialogs use (units of work, mailer, clock).
        dialogs: every dialog by name; must include ``menu`` (the root) and ``language``.

    Raises:
        DialogError: a dialog starts one that does not exist, or the root is missing.
    """

    def __init__(
        self,
        services: Services,
        dialogs: Mapping[str, Dialog[Any]],
        config: EngineConfig | None = None,
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
        # Free text that asks for a flow (the intents the dialogs declare), for switch offers.
        self.intents = {d.intent: d.name for d in self.dialogs.values() if d.intent is not None}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._waiters: dict[tuple[str, str], int] = {}
        self.observer: TurnObserver | None = None

    # --- the turn ---------------------------------------------------------------------------

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
        incoming = _valid_unicode(incoming)
        key = (incoming.channel, incoming.chat_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiters[key] = self._waiters.get(key, 0) + 1
        try:
            async with lock:
                return await self._turn(incoming, admit, within)
        finally:
            self._waiters[key] -= 1
            if self._waiters[key] == 0:
                del self._waiters[key]
                del self._locks[key]

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
        """The turn, run again while it asks for slow hashes: each run that needs one is undone
        (``HashesNeeded``), the hashes are computed outside its transaction, and the next run
        finds them. So a sign-in's Argon2id never holds the write queue (SQLite) or a pooled
        connection (PostgreSQL) that other chats' turns wait for (core/accounts/passwords.py)."""
        deferral = HashDeferral()
        for _ in range(MAX_HASH_ROUNDS):
            with deferral.scope():
                try:
                    return await self._turn_once(incoming, admit, within)
                except HashesNeeded:
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
                        return Turn(replies=[], refused=True)
                    incoming = admitted
                conversation = await load_conversation(uow, incoming.channel, incoming.chat_id)
                last = conversation.last_update_id
                if (
                    incoming.update_id is not None
                    and last is not None
                    and incoming.update_id <= last
                ):
                    return Turn(replies=[], duplicate=True, locale=conversation.locale or "en")
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
                )
                turn = _TurnState(conversation, ctx)
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
                )
                if within is not None:
                    await within(uow, result)
                await uow.commit()
                observed = (before, conversation.state, turn.exit_reason)
                mail, mailed = ctx.outbox_mail, ctx.mailed_codes
        except _AdmitRaised as refused:
            raise refused.error from None
        except HashesNeeded:
            raise  # undone: run again once the hashes are known (_turn)
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
                failed=True,
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
                )
                turn = _TurnState(conversation, ctx)
                if not turn.stack:
                    turn.stack.append(_Frame.new(self.dialogs[ROOT]))
                ctx.say(mail_not_sent(ctx.translator))
                await self._prompt(turn)
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

    async def _expire_if_idle(self, turn: _TurnState) -> None:
        conversation, ctx = turn.conversation, turn.ctx
        idle = ctx.now() - conversation.updated_at
        link_timeout = self.config.link_timeout(ctx.channel)
        if link_timeout is not None and idle > link_timeout and await ctx.account_id() is not None:
            await unlink_chat(ctx.uow, ctx.channel, ctx.chat_id)
            ctx.forget_account()
            ctx.say(ctx._("You were signed out after a while without activity, to keep your "
                          "account safe."))  # fmt: skip
        flows = [f for f in turn.stack if f.dialog != ROOT]
        if not flows:
            return
        sensitive = any(self.dialogs[f.dialog].sensitive for f in flows if f.dialog in self.dialogs)
        limit = self.config.sensitive_idle_timeout if sensitive else self.config.idle_timeout
        if idle > limit:
            _dialog, (_state, waiting) = self._frame_step(turn, turn.stack[-1])
            turn.exit_reason = "timeout"
            turn.expired_secret = waiting.secret
            turn.stack = []
            turn.offer = None
            turn.shown = []
            ctx.say(ctx._("That conversation timed out, so we are starting again."))

    # --- input ------------------------------------------------------------------------------

    async def _dispatch(self, turn: _TurnState, incoming: Incoming) -> None:
        ctx = turn.ctx
        if not turn.stack:
            turn.stack.append(_Frame.new(self.dialogs[ROOT]))
        frame = turn.stack[-1]
        dialog, (state, step) = self._frame_step(turn, frame)
        if turn.expired_secret and incoming.payload is None:
            # A password or code typed into a flow that had timed out: keep it masked and
            # never read it as a menu choice or an intent.
            turn.secret_input = True
            await self._prompt(turn)
            return
        if incoming.payload is not None and await self._follow_link(turn, incoming.payload):
            return
        if incoming.payload is not None:
            value = self._open_payload(turn, incoming.payload)
            if value is None:
                ctx.say(ctx._("This menu has expired. Here is where we are now:"))
                await self._prompt(turn)
                return
            await self._value(turn, value, pressed=True)
            return
        text = (incoming.text or "").strip()
        turn.secret_input = step.secret
        if not text:
            await self._prompt(turn)
            return
        if len(text) > MAX_TEXT_LENGTH:
            ctx.say(ctx._("That message is too long. Please send a shorter one."))
            await self._prompt(turn)
            return
        command = self._command(ctx, text)
        if command is not None:  # a command word is never a secret (no password is "menu")
            turn.secret_input = False
            await self._global(turn, command)
            return
        chosen = _match_choice(text, turn.shown, numbers=not step.secret)
        if chosen is None and not step.secret:
            chosen = _yes_no_choice(text, turn.shown)
        if chosen is not None:
            await self._value(turn, chosen, pressed=True)
            return
        # A secret is passed on as typed (a password may begin or end with a space).
        raw = (incoming.text or "").strip("\r\n")
        await self._typed(turn, dialog, state, step, raw if step.secret else text)

    async def _follow_link(self, turn: _TurnState, payload: str) -> bool:
        """A link button of a notification (``bot.dialogs.links``): start its flow from the menu, at
        any time, as the "switch" offer does. False when the payload is no link."""
        link = open_link(payload)
        if link is None or link.dialog not in self.dialogs:
            return False
        turn.stack = [_Frame.new(self.dialogs[ROOT])]
        turn.offer = None
        await self._apply(turn, Start(link.dialog, link.args))
        return True

    def _open_payload(self, turn: _TurnState, payload: str) -> str | None:
        seq, _, value = payload.partition(":")
        if not value or not seq.isdigit() or int(seq) != turn.conversation.prompt_seq:
            return None
        return value

    def _command(self, ctx: Context, text: str) -> str | None:
        word = text.casefold().strip(" .!?¿¡").lstrip("/")
        action = _command_words(ctx.translator).get(word)
        if text.strip() == "?" and action != G_MENU:
            return G_HELP
        return action

    async def _typed(
        self, turn: _TurnState, dialog: Dialog[Any], state: enum.Enum, step: Step, text: str
    ) -> None:
        ctx = turn.ctx
        frame = turn.stack[-1]
        if step.handle is None or step.parse is None:
            # Buttons only (or nothing to answer): free text may ask for another flow.
            if not step.secret and await self._offer_switch(turn, text):
                return
            if step.handle is not None:
                ctx.say(ctx._("Please choose one of the options below."))
                await self._fail(turn)
            await self._prompt(turn)
            return
        try:
            value = step.parse(ctx, text)
            if inspect.isawaitable(value):
                value = await value
        except (ValueError, DomainError) as error:
            # A refusal of the domain met while reading the answer (a date too far ahead) is
            # a reason to ask again, like a malformed answer.
            if not step.secret and await self._offer_switch(turn, text):
                return
            reason = describe_error(ctx, error) if isinstance(error, DomainError) else str(error)
            example = ctx._(step.example) if step.example else None
            if example and example not in reason:  # the reason may show one already
                reason += "\n" + ctx._("For example: {example}").format(example=example)
            ctx.say(reason)
            await self._fail(turn)
            await self._prompt(turn)
            return
        frame.failures = 0
        await self._run(turn, step.handle, value)

    async def _value(self, turn: _TurnState, value: str, *, pressed: bool) -> None:
        if value.startswith(GLOBAL_PREFIX):
            await self._global(turn, value)
            return
        frame = turn.stack[-1]
        _dialog, (_state, step) = self._frame_step(turn, frame)
        if step.handle is None:
            await self._prompt(turn)
            return
        frame.failures = 0
        await self._run(turn, step.handle, value)

    async def _run(self, turn: _TurnState, handler: Any, value: Any) -> None:
        ctx = turn.ctx
        try:
            transition = await handler(ctx, value)
        except DomainError as error:
            # A refusal by the rules: say why and stay. What the service recorded (a failed
            # try, a throttle hit) is committed with the turn.
            ctx.say(describe_error(ctx, error))
            if isinstance(error, InvalidInput):
                await self._fail(turn)
            await self._prompt(turn)
            return
        await self._apply(turn, transition)

    async def _fail(self, turn: _TurnState) -> None:
        ctx = turn.ctx
        frame = turn.stack[-1]
        frame.failures += 1
        if frame.failures >= MAX_FAILURES:
            frame.failures = 0
            phone, tty = self.services.contact_phone, self.services.contact_tty
            ctx.say(
                ctx._("This does not seem to be working. You can ask for help, go back to the "
                      "menu, or call the USCIS Contact Center at {phone} (TTY {tty}).")
                .format(phone=phone, tty=tty),
                choices=[Choice(ctx._("Help"), G_HELP), Choice(ctx._("Menu"), G_MENU)],
            )  # fmt: skip

    async def _offer_switch(self, turn: _TurnState, text: str) -> bool:
        ctx = turn.ctx
        understood: Understanding = understand(text, ctx.locale)
        target = self.intents.get(understood.intent)
        if target is None:
            return False
        current = turn.stack[-1].dialog
        if target == current:
            return False
        args = {"receipt_number": understood.receipt_number} if understood.receipt_number else {}
        if current == ROOT:
            turn.stack = [turn.stack[0]]
            await self._apply(turn, Start(target, args))
            return True
        turn.offer = {"dialog": target, "args": args}
        ctx.say(
            ctx._("It sounds like you want to: {flow}. Shall we switch to that?").format(
                flow=self._flow_name(ctx, target)
            ),
            choices=[
                Choice(ctx._("Yes, switch"), G_SWITCH, YES),
                Choice(ctx._("No, continue here"), G_STAY, NO),
            ],
        )
        turn.prompted = True
        return True

    def _flow_name(self, ctx: Context, name: str) -> str:
        purpose = self.dialogs[name].purpose
        return ctx._(purpose) if purpose is not None else name

    # --- global actions ---------------------------------------------------------------------

    async def _global(self, turn: _TurnState, action: str) -> None:
        ctx = turn.ctx
        if action.startswith(G_SETLANG):
            locale = normalize_locale(action[len(G_SETLANG) :])
            if locale is not None:
                turn.conversation.locale = locale
                ctx.translator = translator(locale)
            if turn.stack and turn.stack[-1].dialog == LANGUAGE:
                turn.stack.pop()
            await self._prompt(turn)
            return
        if action in (G_MENU, G_RESTART):
            turn.exit_reason = turn.exit_reason or "menu"
            turn.stack = [_Frame.new(self.dialogs[ROOT])]
            turn.offer = None
            await self._prompt(turn)
            return
        if action == G_HELP:
            frame = turn.stack[-1]
            _dialog, (_state, step) = self._frame_step(turn, frame)
            text = ctx._("I can check a case status, link your account, book or change an "
                         "appointment, and help with your password. Type \"menu\" at any time "
                         "to start again, or \"back\" to go one step back.")  # fmt: skip
            if step.help:
                text = f"{ctx._(step.help)}\n\n{text}"
            ctx.say(text)
            await self._prompt(turn)
            return
        if action == G_BACK:
            turn.exit_reason = turn.exit_reason or "back"
            frame = turn.stack[-1]
            if frame.back:
                frame.state = frame.back.pop()
                frame.failures = 0
            elif len(turn.stack) > 1:
                turn.stack.pop()
            await self._prompt(turn)
            return
        if action == G_LANG:
            if turn.stack[-1].dialog != LANGUAGE and LANGUAGE in self.dialogs:
                turn.stack.append(_Frame.new(self.dialogs[LANGUAGE]))
            await self._prompt(turn)
            return
        if action == G_SWITCH and turn.offer:
            turn.exit_reason = turn.exit_reason or "switched"
            offer, turn.offer = turn.offer, None
            turn.stack = [turn.stack[0]]
            await self._apply(turn, Start(offer["dialog"], offer.get("args") or {}))
            return
        if action == G_STAY:
            turn.offer = None
        await self._prompt(turn)

    # --- transitions ------------------------------------------------------------------------

    async def _apply(self, turn: _TurnState, transition: Transition) -> None:
        for _ in range(20):  # a bound, so a wrongly declared loop cannot hang a turn
            next_transition = await self._apply_once(turn, transition)
            if next_transition is None:
                return
            transition = next_transition
        raise DialogError("too many transitions in one turn")

    async def _apply_once(self, turn: _TurnState, transition: Transition) -> Transition | None:
        ctx = turn.ctx
        frame = turn.stack[-1]
        dialog, (state, step) = self._frame_step(turn, frame)
        if isinstance(transition, Next):
            if transition.state not in step.goes_to:
                raise DialogError(f"{dialog.name}.{state.name} may not go to {transition.state}")
            frame.back.append(frame.state)
            frame.state = transition.state.value
            frame.failures = 0
            await self._prompt(turn)
            return None
        if isinstance(transition, Stay):
            if transition.prompt:
                await self._prompt(turn)
            return None
        if isinstance(transition, Start | Replace):
            if transition.dialog not in step.starts:
                raise DialogError(f"{dialog.name}.{state.name} may not start {transition.dialog}")
            child = self.dialogs[transition.dialog]
            if isinstance(transition, Replace):
                turn.stack.pop()
                if not turn.stack:
                    turn.stack.append(_Frame.new(self.dialogs[ROOT]))
            elif transition.then is not None:
                frame.then = transition.then.value
            turn.stack.append(_Frame.new(child, transition.args))
            return await self._enter(turn)
        if isinstance(transition, End):
            turn.stack.pop()
            if not turn.stack:
                turn.stack.append(_Frame.new(self.dialogs[ROOT]))
                await self._prompt(turn)
                return None
            parent = turn.stack[-1]
            if parent.then is not None:
                if parent.then != parent.state:  # "back" should not show the same step twice
                    parent.back.append(parent.state)
                parent.state, parent.then = parent.then, None
            _pd, (_ps, parent_step) = self._frame_step(turn, parent)
            if parent_step.resume is not None:
                return await parent_step.resume(ctx, transition.result)
            if transition.show_menu or parent.dialog != ROOT:
                await self._prompt(turn)
            return None
        raise DialogError(f"not a transition: {transition!r}")

    async def _enter(self, turn: _TurnState) -> Transition | None:
        """A dialog has just started: its initial step's ``enter`` hook acts on the arguments
        (a prompt only reads, so it cannot), then the prompt shows unless it went elsewhere."""
        ctx = turn.ctx
        _dialog, (_state, step) = self._frame_step(turn, turn.stack[-1])
        if step.enter is not None:
            try:
                entered = await step.enter(ctx)
            except DomainError as error:
                ctx.say(describe_error(ctx, error))
            else:
                if entered is not None:
                    return entered
        await self._prompt(turn)
        return None

    # --- output -----------------------------------------------------------------------------

    def _frame_step(self, turn: _TurnState, frame: _Frame) -> tuple[Dialog[Any], tuple[Any, Step]]:
        dialog = self.dialogs.get(frame.dialog)
        if dialog is None:
            # A dialog removed since this conversation was saved: start again from the menu.
            turn.stack = [_Frame.new(self.dialogs[ROOT])]
            frame = turn.stack[0]
            dialog = self.dialogs[ROOT]
        try:
            found = dialog.step(frame.state)
        except DialogError:
            frame.state = dialog.initial.value
            found = dialog.step(frame.state)
        turn.ctx.data = frame.data
        return dialog, found

    async def _render(self, turn: _TurnState, step: Step) -> Prompt:
        shown = step.prompt(turn.ctx)
        if inspect.isawaitable(shown):
            shown = await shown
        return Prompt(shown) if isinstance(shown, str) else shown

    async def _prompt(self, turn: _TurnState) -> None:
        ctx = turn.ctx
        frame = turn.stack[-1]
        _dialog, (_state, step) = self._frame_step(turn, frame)
        try:
            prompt = await self._render(turn, step)
        except DomainError as error:
            if frame.dialog == ROOT:
                raise
            # The step cannot be shown any more: the chat was signed out elsewhere (a password
            # reset signs the other chats out), its appointment is gone... Say why and go back
            # to the menu; showing the same step again would fail on every turn.
            ctx.say(describe_error(ctx, error))
            turn.exit_reason = turn.exit_reason or "menu"
            turn.stack = [_Frame.new(self.dialogs[ROOT])]
            turn.offer = None
            await self._prompt(turn)
            return
        choices = list(prompt.choices)
        if frame.dialog != ROOT:
            choices += [Choice(ctx._("Back"), G_BACK), Choice(ctx._("Menu"), G_MENU)]
        ctx.replies.append(
            Reply(
                text=prompt.text,
                buttons=tuple(Button(c.label, c.value, c.means) for c in choices),
                attachments=tuple(prompt.attachments),
                secret_input=step.secret,
            )
        )
        turn.prompted = True

    def _finish_replies(self, turn: _TurnState) -> list[Reply]:
        """Bind every button of this turn to the new prompt number (older ones expire)."""
        conversation = turn.conversation
        conversation.prompt_seq = (conversation.prompt_seq + 1) % 1_000_000
        seq = conversation.prompt_seq
        with_buttons = [r for r in turn.ctx.replies if r.buttons]
        if with_buttons:
            turn.shown = [Choice(b.label, b.payload, b.means) for b in with_buttons[-1].buttons]
        return [
            Reply(
                text=r.text,
                buttons=tuple(Button(b.label, f"{seq}:{b.payload}", b.means) for b in r.buttons),
                attachments=r.attachments,
                secret_input=r.secret_input,
            )
            for r in turn.ctx.replies
        ]

    def language_choices(self) -> list[Choice]:
        return [Choice(LANGUAGE_NAMES[code], f"{G_SETLANG}{code}") for code in LOCALES]


_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _valid_unicode(incoming: Incoming) -> Incoming:
    """The message with any lone surrogate (JSON allows ``"\\ud800"``; a terminal hands over
    undecodable bytes as surrogates) replaced by U+FFFD: no text can be encoded with one, so
    a password, an email or a code holding one would fail deep inside a flow."""
    text, payload = incoming.text, incoming.payload
    if (text is None or text.isascii()) and (payload is None or payload.isascii()):
        return incoming
    if text is not None:
        text = _LONE_SURROGATE.sub("\ufffd", text)
    if payload is not None:
        payload = _LONE_SURROGATE.sub("\ufffd", payload)
    return dataclasses.replace(incoming, text=text, payload=payload)


@lru_cache(maxsize=len(LOCALES))
def _command_words(t: Translator) -> dict[str, str]:
    """Every command word of a language and of English, to its action (the first action that
    lists a word has it); made once per language, not on every message."""
    table = {
        G_MENU: (t._("menu, cancel, stop, quit, exit"), "menu, cancel, stop, quit, exit"),
        G_HELP: (t._("help, ?"), "help, ?"),
        G_BACK: (t._("back"), "back"),
        G_LANG: (t._("language, lang"), "language, lang"),
        G_RESTART: (t._("start, start over, restart"), "start, start over, restart"),
    }
    words: dict[str, str] = {}
    for action, (translated, english) in table.items():
        for w in f"{translated},{english}".split(","):
            words.setdefault(w.strip().casefold(), action)
    return words


def _label_key(text: str) -> str:
    # NFKC folds the narrow no-break space of CLDR times ("9:30\u202fAM") into a space.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().strip(" .").split())


# Button labels only (translations, office names, times), never what was typed: that may be
# a password, which must not stay in a cache.
_button_key = lru_cache(maxsize=4096)(_label_key)


def _match_choice(text: str, choices: Any, *, numbers: bool = True) -> str | None:
    """A typed label (any case, any spacing) or number stands for its button.

    ``numbers`` is off at a secret step: a code or PIN is never read as a button's number.
    """
    wanted = _label_key(text)
    options = list(choices)
    if numbers and wanted.isdigit() and 1 <= int(wanted) <= len(options):
        return str(options[int(wanted) - 1].value)
    for choice in options:
        if _button_key(choice.label) == wanted:
            return str(choice.value)
    return None


def _yes_no_choice(text: str, choices: Any) -> str | None:
    """A typed yes or no, in any language, stands for the one button that means it."""
    if not any(choice.means for choice in choices):
        return None  # no button means yes or no: nothing to read the text for
    meaning = yes_no(text)
    if meaning is None:
        return None
    matching = [choice for choice in choices if choice.means == meaning]
    return str(matching[0].value) if len(matching) == 1 else None
