"""Reading what came in: a pressed button, a link, a command word, a button's label or number
typed, a yes or a no, or an answer for the step's parser; and what happens on a bad answer
(a reason with an example, and after three tries a way out)."""

from __future__ import annotations

import inspect
from typing import Any, Final

from bot.dialogs.actions import G_AGENT, G_HELP, G_MENU, G_SETLANG, GLOBAL_PREFIX
from bot.dialogs.base import Button, HandleFn, Start, Step
from bot.dialogs.links import open_link
from bot.dialogs.model import Incoming
from bot.dialogs.numbers import whole_number
from bot.engine.answers import KNOWLEDGE_PREFIX, answer_button, answer_question
from bot.engine.handoff import keep_way_out, live_turn
from bot.engine.interrupts import global_action, offer_switch
from bot.engine.matching import command, likely_secret, match_choice, yes_no_choice
from bot.engine.render import prompt, reprompt
from bot.engine.stack import TurnState
from bot.engine.transitions import apply
from bot.wording.errors import describe_error
from core.errors import DomainError, InvalidInput

__all__ = ["MAX_FAILURES", "MAX_TEXT_LENGTH", "dispatch"]

MAX_FAILURES: Final = 3
MAX_TEXT_LENGTH: Final = 2000


async def dispatch(turn: TurnState, incoming: Incoming) -> None:
    """Answer one message or button press at the step at the top of the stack; in a handoff,
    the answer ends with the way out of it."""
    await _answer(turn, incoming)
    await keep_way_out(turn)


async def _answer(turn: TurnState, incoming: Incoming) -> None:
    ctx = turn.ctx
    turn.ensure_menu()
    _dialog, _state, step = turn.activate_top()
    # Chatting with an agent, or leaving the line.
    if await live_turn(turn, incoming, secret=step.secret):
        return
    if turn.expired_secret and incoming.payload is None:
        # A password or code typed into a flow that had timed out: keep it masked and
        # never read it as a menu choice or an intent.
        turn.secret_input = True
        await prompt(turn)
        return
    if incoming.payload is not None and await _follow_link(turn, incoming.payload):
        return
    if incoming.payload is not None:
        value = _open_payload(turn, incoming.payload)
        if value is None:
            ctx.say(ctx._("This menu has expired. Here is where we are now:"))
            # Nothing moved (a double tap, a press sent again after its answer was lost):
            # the buttons already shown for this step stay good.
            turn.only_reshown = turn.unchanged()
            await prompt(turn)
            return
        await _value(turn, value)
        return
    text = (incoming.text or "").strip()
    turn.secret_input = step.secret
    if not text:
        await prompt(turn)
        return
    if len(text) > MAX_TEXT_LENGTH:
        ctx.say(ctx._("That message is too long. Please send a shorter one."))
        await prompt(turn)
        return
    action = command(ctx.translator, text)
    if action is not None:  # a command word is never a secret (no password is "menu")
        turn.secret_input = False
        await global_action(turn, action)
        return
    chosen = match_choice(text, turn.shown, numbers=not step.secret)
    if chosen is None and not step.secret:
        chosen = yes_no_choice(text, turn.shown)
    if chosen is not None:
        await _value(turn, chosen)
        return
    # A secret is passed on as typed (a password may begin or end with a space).
    raw = (incoming.text or "").strip("\r\n")
    await _typed(turn, step, raw if step.secret else text)


async def _follow_link(turn: TurnState, payload: str) -> bool:
    """A link button of a notification (``bot.dialogs.links``): start its flow from the menu, at
    any time, as the "switch" offer does. False when the payload is no link."""
    link = open_link(payload)
    if link is None or link.dialog not in turn.dialogs:
        return False
    turn.back_to_menu(reason=None)
    await apply(turn, Start(link.dialog, link.args))
    return True


def _open_payload(turn: TurnState, payload: str) -> str | None:
    seq, _, value = payload.partition(":")
    if value.startswith(G_SETLANG):
        # A language switch is never stale: it shows the current step again, in the chosen
        # language (the widget's header picker may not know the prompt's number: it sends 0).
        return value
    try:
        if not value or whole_number(seq) != turn.conversation.prompt_seq:
            return None
    except ValueError:
        return None
    return value


async def _typed(turn: TurnState, step: Step[Any], text: str) -> None:
    ctx = turn.ctx
    frame = turn.stack[-1]
    if await answer_question(turn, step, text):  # a question, not the step's answer
        return
    if step.handle is None or step.parse is None:
        # Buttons only (or nothing to answer): free text may ask for another flow.
        if await _password_here(turn, step, text):
            return
        if not step.secret and await offer_switch(turn, text):
            return
        if step.handle is not None:
            await _refuse(turn, ctx._("Please choose one of the options below."))
            return
        await prompt(turn)
        return
    try:
        value = step.parse(ctx, text)
        if inspect.isawaitable(value):
            value = await value
    except (ValueError, DomainError) as error:
        # A refusal of the domain met while reading the answer (a date too far ahead) is
        # a reason to ask again, like a malformed answer.
        if await _password_here(turn, step, text):
            return
        if not step.secret and await answer_question(turn, step, text, refused=True):
            return
        if not step.secret and await offer_switch(turn, text):
            return
        reason = describe_error(ctx, error) if isinstance(error, DomainError) else str(error)
        example = ctx._(step.example) if step.example else None
        if example and example not in reason:  # the reason may show one already
            reason += "\n" + ctx._("For example: {example}").format(example=example)
        await _refuse(turn, reason)
        return
    frame.failures = 0
    if isinstance(value, str) and (value.startswith(G_SETLANG) or value == G_AGENT):
        # The text named a language, or asked for a person (the menu's parser).
        await global_action(turn, value)
        return
    await _run(turn, step.handle, value)


async def _password_here(turn: TurnState, step: Step[Any], text: str) -> bool:
    """A bad answer that looks like a password, at a step that does not ask for one (typed a
    step late, or after the flow changed): masked like one (transcripts, Telegram), never
    shown back nor read for another flow. False for any other text."""
    if step.secret or not likely_secret(text):
        return False
    turn.secret_input = True
    await _refuse(turn, turn.ctx._("That looks like a password. This step does not ask for one, "
                                   "so it was not kept."))  # fmt: skip
    return True


async def _value(turn: TurnState, value: str) -> None:
    """A pressed (or typed) button's value: a global action, an answer's button, or the
    step's answer."""
    if value.startswith(KNOWLEDGE_PREFIX):
        await answer_button(turn, value)
        return
    if value.startswith(GLOBAL_PREFIX):
        await global_action(turn, value)
        return
    frame = turn.stack[-1]
    _dialog, _state, step = turn.activate_top()
    if step.handle is None:
        await prompt(turn)
        return
    frame.failures = 0
    await _run(turn, step.handle, value)


async def _run(turn: TurnState, handler: HandleFn[Any], value: Any) -> None:
    ctx = turn.ctx
    try:
        transition = await handler(ctx, value)
    except DomainError as error:
        # A refusal by the rules: say why and stay. What the service recorded (a failed
        # try, a throttle hit) is committed with the turn.
        ctx.say(describe_error(ctx, error))
        if isinstance(error, InvalidInput):
            await _fail(turn)
        await prompt(turn)
        return
    await apply(turn, transition)


async def _refuse(turn: TurnState, reason: str) -> None:
    """A bad answer: say what is wrong once, with the step's buttons (not the whole prompt
    again); after three tries, the way out, and then the step. Right after a timeout the
    text was meant for the step that timed out: the new step is shown in full."""
    if turn.exit_reason == "timeout":
        turn.ctx.say(reason)
        await prompt(turn)
    elif await _fail(turn, reason):
        await prompt(turn)
    else:
        await reprompt(turn, reason)


async def _fail(turn: TurnState, reason: str | None = None) -> bool:
    """Count a failed try; after three, offer a way out (said after ``reason``, if any).
    True when it did."""
    ctx = turn.ctx
    frame = turn.stack[-1]
    frame.failures += 1
    if frame.failures < MAX_FAILURES:
        return False
    if reason is not None:
        ctx.say(reason)
    frame.failures = 0
    phone, tty = ctx.services.contact_phone, ctx.services.contact_tty
    ctx.say(
        ctx._("This does not seem to be working. You can ask for help, go back to the "
              "menu, or call the USCIS Contact Center at {phone} (TTY {tty}).")
        .format(phone=phone, tty=tty),
        choices=[
            Button(ctx._("Help"), G_HELP),
            Button(ctx._("Talk to a person"), G_AGENT),
            Button(ctx._("Menu"), G_MENU),
        ],
    )  # fmt: skip
    return True
