"""Questions answered from the knowledge base (``bot.knowledge``), at any step.

A question gets its topic's short answer in the person's language, the official page it comes
from, and the flow that helps as a button; then the step the person was at is shown again, so
a flow (a booking half done) goes on where it was. A question no topic fits gets a plain "I
don't know", the two closest topics and the way to a person, never a flow.

Where a step waits for a password or a code, what is typed is that secret unless it is clearly
a question (question words and a topic that fits); a secret is never read as a question, and an
answer never repeats what was typed.
"""

from __future__ import annotations

import re
from typing import Any, Final

from bot.dialogs.actions import G_MENU, ROOT
from bot.dialogs.base import Button, Start, Step
from bot.engine.render import prompt
from bot.engine.stack import TurnState
from bot.engine.transitions import apply
from bot.knowledge import knowledge_base
from bot.knowledge.matching import Reading, is_question, read
from core.processing_times import processing_times_for

__all__ = ["KNOWLEDGE_PREFIX", "answer_button", "answer_question"]

KNOWLEDGE_PREFIX: Final = "k:"
_TOPIC: Final = "k:t:"  # a button that shows a topic's answer
_ACTION: Final = "k:a:"  # a button that starts a topic's flow
CONTACT_TOPIC: Final = "contact_center"
PROCESSING_TOPIC: Final = "processing_times"
_FORM_RE: Final = re.compile(
    r"(?<![a-z0-9])(?P<letter>[ikn])\s?-?\s?(?P<number>\d{3}[a-z]?)(?![0-9])", re.I
)
# A question typed where a secret is expected has at least this many words.
MIN_SECRET_STEP_QUESTION_WORDS: Final = 3


async def answer_question(
    turn: TurnState, step: Step[Any], text: str, *, refused: bool = False
) -> bool:
    """Answer ``text`` from the knowledge base when it is a question this step should not
    take as its answer. False when it is not (the step reads it as usual).

    Args:
        turn: the turn.
        step: the step at the top of the stack.
        text: what the person typed.
        refused: the step's parser already refused the text (so it is no answer to it).
    """
    at_menu = turn.stack[-1].dialog == ROOT
    if step.secret:
        if not _clearly_a_question(text):
            return False
    elif not (at_menu or refused or step.parse is None):
        return False  # the step's parser reads it first: "monday?" may be its answer
    elif refused and _looks_like_data(text):
        return False  # a mistyped answer ("sam@mail.invalid"), not a question: say why
    reading = read(text, turn.ctx.locale)
    if step.secret and reading.topic is None:
        return False
    if reading.topic is not None:
        await _say_topic(turn, reading.topic, at_menu=at_menu, text=text)
    elif at_menu and reading.question:
        _say_no_topic(turn, reading)
    else:
        return False
    if not at_menu:
        await prompt(turn)
    return True


async def answer_button(turn: TurnState, value: str) -> None:
    """A pressed button of an answer: show another topic, or start the topic's flow."""
    base = knowledge_base()
    at_menu = turn.stack[-1].dialog == ROOT
    if value.startswith(_TOPIC) and value[len(_TOPIC) :] in base.topics:
        await _say_topic(turn, value[len(_TOPIC) :], at_menu=at_menu)
        if not at_menu:
            await prompt(turn)
        return
    topic = base.topics.get(value[len(_ACTION) :]) if value.startswith(_ACTION) else None
    dialog = _dialog_for(turn, topic.action) if topic is not None else None
    if dialog is None:
        await prompt(turn)
        return
    # The person chose this flow: it replaces any flow they were in, as a switch does.
    turn.exit_reason = turn.exit_reason or "switched"
    turn.offer = None
    del turn.stack[1:]
    turn.activate_top()
    await apply(turn, Start(dialog))


def _dialog_for(turn: TurnState, action: str | None) -> str | None:
    """The registered flow a topic's action starts (each flow declares its ``topic_action``)."""
    if action is None:
        return None
    return next((d.name for d in turn.dialogs.values() if d.topic_action == action), None)


def _looks_like_data(text: str) -> bool:
    """One token with an ``@`` or a digit: an address, a number or a code typed wrong."""
    token = text.strip()
    return (
        bool(token)
        and not any(c.isspace() for c in token)
        and ("@" in token or any(c.isdigit() for c in token))
    )


def _clearly_a_question(text: str) -> bool:
    return len(text.split()) >= MIN_SECRET_STEP_QUESTION_WORDS and is_question(text)


async def _say_topic(turn: TurnState, topic_id: str, *, at_menu: bool, text: str = "") -> None:
    ctx = turn.ctx
    base = knowledge_base()
    topic = base.topics[topic_id]
    turn.topic = topic_id
    wording = base.wording(topic_id, ctx.locale)
    shown = wording.answer
    if topic_id == PROCESSING_TOPIC:
        shown = await _loaded_times(turn, text) or shown
    shown += "\n\n" + ctx._("Official page: {url}").format(url=topic.source)
    choices = []
    button = _action_button(turn, topic_id)
    if button is not None:
        choices.append(button)
    if at_menu:
        choices.append(Button(ctx._("Menu"), G_MENU))
    ctx.say(shown, choices=choices)


async def _loaded_times(turn: TurnState, text: str) -> str | None:
    """The processing times an operator loaded for the form the question names, with their
    date; None when it names none or none is loaded for it."""
    form = _FORM_RE.search(text)
    if form is None:
        return None
    ctx = turn.ctx
    times = await processing_times_for(ctx.uow, f"{form['letter']}-{form['number']}")
    if not times:
        return None
    lines = [
        ctx._("Processing times for {form}, as published on {date}:").format(
            form=times[0].form_type, date=ctx.t.date(max(t.as_of for t in times))
        )
    ]
    lines += [f"• {t.office}: {t.time_range}" for t in times]
    return "\n".join(lines)


def _action_button(turn: TurnState, topic_id: str) -> Button | None:
    base = knowledge_base()
    topic = base.topics[topic_id]
    wording = base.wording(topic_id, turn.ctx.locale)
    if topic.action is None or wording.button is None:
        return None
    if _dialog_for(turn, topic.action) is not None:
        return Button(wording.button, _ACTION + topic_id)
    if topic.action == "agent" and topic_id != CONTACT_TOPIC:
        # No live agents here: the button shows how to reach the Contact Center.
        return Button(wording.button, _TOPIC + CONTACT_TOPIC)
    return None


def _say_no_topic(turn: TurnState, reading: Reading) -> None:
    ctx = turn.ctx
    base = knowledge_base()
    shown = [t for t in reading.closest if t != CONTACT_TOPIC][:2]
    choices = [Button(base.wording(t, ctx.locale).title, _TOPIC + t) for t in shown]
    choices.append(Button(base.wording(CONTACT_TOPIC, ctx.locale).title, _TOPIC + CONTACT_TOPIC))
    choices.append(Button(ctx._("Menu"), G_MENU))
    if shown:
        text = ctx._("Sorry, I don't have an answer to that question. Is it one of these? "
                     "You can also reach a person at USCIS.")  # fmt: skip
    else:
        text = ctx._("Sorry, I don't have an answer to that question. You can reach a person "
                     "at USCIS.")  # fmt: skip
    ctx.say(text, choices=choices)
