"""Transitions: what a handler's ``Next``, ``Stay``, ``Start``, ``Replace`` or ``End`` does to
the stack, each checked against the edges the dialog declared."""

from __future__ import annotations

from bot.dialogs.actions import ROOT
from bot.dialogs.base import DialogError, End, Next, Replace, Start, Stay, Transition
from bot.engine.render import prompt
from bot.engine.stack import Frame, TurnState
from bot.wording.errors import describe_error
from core.errors import DomainError

__all__ = ["MAX_TRANSITIONS", "apply", "detour"]

MAX_TRANSITIONS = 20  # in one turn: a wrongly declared loop cannot hang a turn
MAX_DETOUR_DEPTH = 5  # flows on the stack (the menu too) before a detour starts afresh


async def apply(turn: TurnState, transition: Transition) -> None:
    """Carry out a transition, and the ones it leads to (a resumed dialog's answer).

    Raises:
        DialogError: a transition along an edge that was not declared, or too many in a row.
    """
    for _ in range(MAX_TRANSITIONS):
        next_transition = await _apply_once(turn, transition)
        if next_transition is None:
            return
        transition = next_transition
    raise DialogError("too many transitions in one turn")


async def _apply_once(turn: TurnState, transition: Transition) -> Transition | None:
    ctx = turn.ctx
    frame = turn.stack[-1]
    dialog, state, step = turn.activate_top()
    if isinstance(transition, Next):
        if transition.state not in step.goes_to:
            raise DialogError(f"{dialog.name}.{state.name} may not go to {transition.state}")
        frame.back.append(frame.state)
        frame.state = transition.state.value
        frame.failures = 0
        await prompt(turn)
        return None
    if isinstance(transition, Stay):
        if transition.prompt:
            await prompt(turn)
        return None
    if isinstance(transition, Start | Replace):
        if transition.dialog not in step.starts:
            raise DialogError(f"{dialog.name}.{state.name} may not start {transition.dialog}")
        started = turn.dialogs[transition.dialog]
        child = Frame.new(started, transition.args)
        if started.intent is not None:  # what the person asked for (a handoff's topic)
            turn.topic = started.intent
        if isinstance(transition, Replace):
            replaced = turn.stack.pop()
            child.detour = replaced.detour
            if replaced.dialog == child.dialog:  # a flow starting afresh: back leaves it
                child.replaced = replaced.replaced
            elif replaced.dialog != ROOT:
                gone = replaced.dump()
                gone.pop("replaced", None)  # one step back, not a chain
                child.replaced = gone
            turn.ensure_menu()
        elif transition.then is not None:
            frame.then = transition.then.value
        turn.stack.append(child)
        return await _enter(turn)
    if isinstance(transition, End):
        ended = turn.stack.pop()
        if not turn.stack:
            turn.ensure_menu()
            await prompt(turn)
            return None
        if ended.detour:
            # Back to the step the person left: its resume hook waits for its own child.
            if transition.show_menu or turn.stack[-1].dialog != ROOT:
                await prompt(turn)
            return None
        parent = turn.stack[-1]
        if parent.then is not None:
            if parent.then != parent.state:  # "back" should not show the same step twice
                parent.back.append(parent.state)
            parent.state, parent.then = parent.then, None
        _dialog, _state, parent_step = turn.activate_top()
        if parent_step.resume is not None:
            return await parent_step.resume(ctx, transition.result)
        if transition.show_menu or parent.dialog != ROOT:
            await prompt(turn)
        return None
    raise DialogError(f"not a transition: {transition!r}")


async def detour(turn: TurnState, dialog: str, args: dict[str, str]) -> None:
    """Start a flow the person asked for in free text at a step that could not read it, on
    top of that step, whatever edges it declares: "back" at the new flow's first step (or its
    end) returns to it. A flow already on the stack is returned to instead."""
    for depth, frame in enumerate(turn.stack):
        if frame.dialog == dialog and depth > 0:
            del turn.stack[depth + 1 :]
            await prompt(turn)
            return
    if len(turn.stack) >= MAX_DETOUR_DEPTH:
        del turn.stack[1:]
    child = Frame.new(turn.dialogs[dialog], args)
    child.detour = len(turn.stack) > 1
    turn.stack.append(child)
    entered = await _enter(turn)
    if entered is not None:
        await apply(turn, entered)


async def _enter(turn: TurnState) -> Transition | None:
    """A dialog has just started: its initial step's ``enter`` hook acts on the arguments
    (a prompt only reads, so it cannot), then the prompt shows unless it went elsewhere."""
    ctx = turn.ctx
    _dialog, _state, step = turn.activate_top()
    if step.enter is not None:
        try:
            entered = await step.enter(ctx)
        except DomainError as error:
            ctx.say(describe_error(ctx, error))
        else:
            if entered is not None:
                return entered
    await prompt(turn)
    return None
