"""Showing the current step: its prompt becomes a ``Reply``, and at the end of the turn every
button is bound to the new prompt number, so that a button of an older message expires."""

from __future__ import annotations

import inspect
from typing import Any

from bot.dialogs.actions import G_BACK, G_MENU, ROOT
from bot.dialogs.base import Prompt, Step
from bot.dialogs.context import Context
from bot.dialogs.model import Button, Reply
from bot.engine.stack import TurnState
from bot.wording.errors import describe_error
from core.errors import DomainError

__all__ = ["finish_replies", "prompt", "reprompt"]


async def _render(step: Step[Any], ctx: Context) -> Prompt:
    shown = step.prompt(ctx)
    if inspect.isawaitable(shown):
        shown = await shown
    return Prompt(shown) if isinstance(shown, str) else shown


async def prompt(turn: TurnState) -> None:
    """Show the step at the top of the stack, with "Back" and "Menu" outside the menu.

    A step that can no longer be shown (the chat was signed out elsewhere, its appointment is
    gone) says why and the conversation goes back to the menu.

    Raises:
        DomainError: the menu itself cannot be shown.
    """
    ctx = turn.ctx
    frame = turn.stack[-1]
    _dialog, _state, step = turn.activate_top()
    try:
        shown = await _render(step, ctx)
    except DomainError as error:
        if frame.dialog == ROOT:
            raise
        # Showing the same step again would fail on every turn. (The handler may have said
        # the same just before: once is enough.)
        reason = describe_error(ctx, error)
        if not ctx.replies or ctx.replies[-1].text != reason:
            ctx.say(reason)
        turn.back_to_menu()
        await prompt(turn)
        return
    choices = list(shown.choices)
    if frame.dialog != ROOT:
        choices += [Button(ctx._("Back"), G_BACK), Button(ctx._("Menu"), G_MENU)]
    ctx.replies.append(
        Reply(
            text=shown.text,
            buttons=tuple(choices),
            attachments=tuple(shown.attachments),
            secret_input=step.secret,
            kept_text=shown.kept_text,
            input_kind=(step.input_kind or "password") if step.secret else None,
        )
    )


async def reprompt(turn: TurnState, reason: str) -> None:
    """Answer a bad answer in one message: what is wrong (with its example), carrying the
    step's buttons, without showing the step's whole prompt again (a case card, a long
    question) under it.

    Raises:
        DomainError: the menu itself cannot be shown.
    """
    ctx = turn.ctx
    frame = turn.stack[-1]
    _dialog, _state, step = turn.activate_top()
    try:
        shown = await _render(step, ctx)
    except DomainError:
        ctx.say(reason)
        await prompt(turn)
        return
    choices = list(shown.choices)
    if frame.dialog != ROOT:
        choices += [Button(ctx._("Back"), G_BACK), Button(ctx._("Menu"), G_MENU)]
    ctx.replies.append(Reply(text=reason, buttons=tuple(choices), secret_input=step.secret))


def finish_replies(turn: TurnState) -> list[Reply]:
    """Bind every button of this turn to the new prompt number (older ones expire); a turn
    that only showed the same step again keeps the number, and the buttons on screen."""
    conversation = turn.conversation
    if not turn.only_reshown:
        conversation.prompt_seq = (conversation.prompt_seq + 1) % 1_000_000
    seq = conversation.prompt_seq
    with_buttons = [r for r in turn.ctx.replies if r.buttons]
    if with_buttons:
        turn.shown = list(with_buttons[-1].buttons)
    return [
        Reply(
            text=r.text,
            buttons=tuple(Button(b.label, f"{seq}:{b.payload}", b.means) for b in r.buttons),
            attachments=r.attachments,
            secret_input=r.secret_input,
            kept_text=r.kept_text,
            input_kind=r.input_kind,
        )
        for r in turn.ctx.replies
    ]
