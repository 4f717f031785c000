"""What a person may do at any step, whatever the dialog: the global actions (menu, help, back,
language, start over, a language chosen) and, when free text clearly asks for another flow,
going there (``back`` returns). A switch offer stored by an earlier version is still
answered (``G_SWITCH``, ``G_STAY``)."""

from __future__ import annotations

from bot.dialogs.actions import (
    G_AGENT,
    G_BACK,
    G_END_CHAT,
    G_HELP,
    G_LANG,
    G_MENU,
    G_RESTART,
    G_SECURE,
    G_SETLANG,
    G_STAY,
    G_SWITCH,
    LANGUAGE,
    ROOT,
    set_language,
)
from bot.dialogs.base import Button, Start
from bot.dialogs.context import Context
from bot.engine.handoff import ask_for_agent, write_secure
from bot.engine.render import prompt
from bot.engine.stack import Frame, TurnState
from bot.engine.transitions import apply, detour
from bot.understanding import understand
from bot.understanding.text import fold
from bot.wording.i18n import normalize_locale, translator

__all__ = ["contact_center", "global_action", "offer_switch"]


def contact_center(ctx: Context) -> str:
    """How to reach a person: the USCIS Contact Center's phone and TTY, and Live Chat."""
    return ctx._(
        "To talk to a person, call the USCIS Contact Center at {phone} (TTY {tty}). You can "
        "also chat with a person through Emma's Live Chat on uscis.gov, weekdays from 8 a.m. "
        "to 8 p.m. Eastern time."
    ).format(phone=ctx.services.contact_phone, tty=ctx.services.contact_tty)


async def global_action(turn: TurnState, action: str) -> None:
    """Carry out a global action (a ``g:`` button value or a command word)."""
    ctx = turn.ctx
    if action.startswith(G_SETLANG):
        locale = normalize_locale(action[len(G_SETLANG) :])
        if locale is not None:
            turn.conversation.locale = locale
            ctx.translator = translator(locale)
            if all(frame.dialog in (ROOT, LANGUAGE) for frame in turn.stack):
                ctx.greeted = False  # the menu greets again, in the language chosen
        if turn.stack and turn.stack[-1].dialog == LANGUAGE:
            turn.stack.pop()
        await prompt(turn)
        return
    if action in (G_MENU, G_RESTART):
        turn.back_to_menu()
        await prompt(turn)
        return
    if action == G_HELP:
        _dialog, _state, step = turn.activate_top()
        text = ctx._("I can check a case status, link your account, book or change an "
                     "appointment, and help with your password. Type \"menu\" at any time "
                     "to start again, or \"back\" to go one step back.")  # fmt: skip
        if step.help:
            text = f"{ctx._(step.help)}\n\n{text}"
        ctx.say(text, choices=[Button(ctx._("Talk to a person"), G_AGENT)])
        await prompt(turn)
        return
    if action == G_AGENT:
        desk = ctx.services.agent_desk
        if desk is not None:
            await ask_for_agent(turn, desk)
            return
        turn.ctx.say(contact_center(ctx))
        await prompt(turn)
        return
    if action == G_SECURE:
        await write_secure(turn)
        return
    if action == G_END_CHAT:  # no chat to end any more (the agent ended it): where we are
        await prompt(turn)
        return
    if action == G_BACK:
        turn.exit_reason = turn.exit_reason or "back"
        frame = turn.stack[-1]
        if frame.back:
            frame.state = frame.back.pop()
            frame.failures = 0
        elif frame.replaced is not None:  # back to the flow this one took the place of
            turn.stack[-1] = Frame(frame.replaced)
        elif len(turn.stack) > 1:
            turn.stack.pop()
        await prompt(turn)
        return
    if action == G_LANG:
        if turn.stack[-1].dialog != LANGUAGE and LANGUAGE in turn.dialogs:
            turn.stack.append(Frame.new(turn.dialogs[LANGUAGE]))
        await prompt(turn)
        return
    if action == G_SWITCH and turn.offer:
        turn.exit_reason = turn.exit_reason or "switched"
        offer, turn.offer = turn.offer, None
        del turn.stack[1:]
        await apply(turn, Start(offer["dialog"], offer.get("args") or {}))
        return
    if action == G_STAY:
        turn.offer = None
    await prompt(turn)


async def offer_switch(turn: TurnState, text: str) -> bool:
    """Free text that asks for another flow, at a step that could not read it: start that
    flow (from the menu), or go there on top of this step, which "back" returns to. Text
    that names the flow the person is in shows its step again. False when the text asks for
    no other flow."""
    ctx = turn.ctx
    understood = understand(text, ctx.locale)
    if understood.intent == "language" and understood.requested_language is not None:
        # "en español", "can you speak korean": switch, and ask the same question again.
        await global_action(turn, set_language(understood.requested_language))
        return True
    current = turn.dialogs[turn.stack[-1].dialog]
    if current.title is not None and fold(text) == fold(ctx._(current.title)):
        await prompt(turn)  # "my cases" on the My cases screen: here already
        return True
    if understood.intent == "agent":  # "I want to talk to a real person"
        await global_action(turn, G_AGENT)
        return True
    target = turn.intents.get(understood.intent)
    if target is None or target == current.name:
        return False
    turn.topic = understood.intent
    refine = turn.dialogs[target].refine
    refined = refine(text) if refine is not None else None
    if refined in turn.dialogs and refined != current.name:  # "I forgot my password": there
        target = str(refined)
    args = {"receipt_number": understood.receipt_number} if understood.receipt_number else {}
    turn.exit_reason = turn.exit_reason or "switched"
    turn.offer = None
    if current.name == ROOT:
        del turn.stack[1:]
        await apply(turn, Start(target, args))
        return True
    await detour(turn, target, args)
    return True
