"""The person's side of a live chat with an agent (``core.handoff``), in every channel.

"Talk to a person" (the menu, help, the way out after three failed tries, or asking in words)
puts the chat in the queue of its language when the agent desk can take it, with the place
and an estimated wait; the assistant goes on answering meanwhile, so a case lookup does not
lose the place. Once an agent claims the chat (the person is told through the outbox), what
the person types goes to the agent instead of the dialogs, until "end chat" (or its button)
brings them back to the step they were at. A password or a code typed to the agent is
withheld from the agent and from the transcript, with a reminder that no one will ever ask
for it. When no agent can take the chat: when agents are available, and a secure message.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from functools import lru_cache
from typing import Final

from bot.dialogs.actions import G_END_CHAT, G_SECURE, ROOT, SECURE_MESSAGE
from bot.dialogs.base import Button
from bot.dialogs.context import Context
from bot.dialogs.model import Incoming
from bot.engine.matching import likely_secret, match_choice
from bot.engine.render import prompt
from bot.engine.stack import TurnState
from bot.engine.transitions import detour
from bot.understanding.text import fold
from bot.wording.errors import minutes_text
from bot.wording.i18n import Translator
from core.errors import HandoffNotOpen
from core.handoff.desk import AgentDesk
from core.handoff.models import HandoffStatus
from core.handoff.service import (
    HandoffView,
    end_by_person,
    handoff_view,
    place_in_queue,
    post_person_message,
    request_agent,
)

__all__ = [
    "ask_for_agent",
    "end_chat_button",
    "in_handoff",
    "in_live_chat",
    "keep_way_out",
    "live_turn",
    "looks_like_secret",
    "write_secure",
]

# A one-time code: 6 to 8 digits, maybe split by a space or a dash, not part of a longer
# number or word (a receipt number, an A-Number, a full phone number).
_CODE: Final = re.compile(r"(?<![\dA-Za-z-])\d{3,4}[\s.-]?\d{3,4}(?![\dA-Za-z-])")
# The shape of a local phone number ("555-1234", "555 1234"): a code only when named one.
_PHONE: Final = re.compile(r"\d{3}[\s.-]\d{4}")
# Words that name a code, folded (``fold``), in every language the chat speaks; a number
# within a few characters after one of them is a code whatever its shape ("my code is
# 555-1234", "验证码是5551234"). Latin and Cyrillic words must stand alone; the others are
# found inside words (Chinese and Korean write no spaces).
_CODE_WORDS: Final = re.compile(
    r"(?:(?<![a-z])(?:code|codes|codigo|kod|kodigo|koda|otp|pin|passcode"
    r"|ma xac|ma so|ma otp|ma bao mat)(?![a-z])"
    r"|(?<![а-я])код[а-я]{0,2}(?![а-я])"
    r"|验证码|代码|动态码|校验码|认证码|코드|인증번호|인증 번호|رمز|كود)"
)
# At most this many characters, none a digit, between the word and the number ("code is ").
_NEAR: Final = 15
_EDGES: Final = ".,;:!?¿¡()\"'«»“”"


def _named_code(folded: str, start: int) -> bool:
    """Whether a word that names a code ends shortly before ``start`` in ``folded``."""
    before = folded[max(0, start - _NEAR - 12) : start]
    for word in _CODE_WORDS.finditer(before):
        gap = before[word.end() :]
        if len(gap) <= _NEAR and not any(c.isdigit() for c in gap):
            return True
    return False


def looks_like_secret(text: str) -> bool:
    """A message that holds something that looks like a password (a word of it) or a
    one-time code: 6 to 8 digits alone, or after a word that names a code ("the code is
    493201"). A local phone number ("call me at 555-1234", or "555-1234" alone) is no code."""
    words = [word.strip(_EDGES) for word in text.split()]
    # With a digit: a word such as "A-Number" or "Follow-up" mixes kinds of character too.
    if any(likely_secret(word) and any(c.isdigit() for c in word) for word in words):
        return True
    alone = text.strip().strip(_EDGES).strip()
    if _CODE.fullmatch(alone) and not _PHONE.fullmatch(alone):
        return True
    folded = fold(text)
    return any(_named_code(folded, found.start()) for found in _CODE.finditer(folded))


def end_chat_button(ctx: Context) -> Button:
    return Button(ctx._("End chat"), G_END_CHAT)


def _leave_line_button(ctx: Context) -> Button:
    return Button(ctx._("Leave the line"), G_END_CHAT)


@lru_cache(maxsize=16)
def _end_words(t: Translator) -> frozenset[str]:
    # Translators: words that end a chat with an agent, separated by commas.
    words = t._("end chat, leave chat, stop chat") + ",end chat,leave chat,stop chat"
    return frozenset(fold(word) for word in words.split(",") if word.strip())


def _is_end(turn: TurnState, incoming: Incoming, handoff: HandoffView, *, secret: bool) -> bool:
    """A press of "End chat" or "Leave the line" (any prompt's: the chat is left whatever was
    shown since), an end word typed, or the label of the button on screen typed; its number
    too while waiting in line (with an agent, a number is a message to them)."""
    if incoming.payload is not None:
        return incoming.payload.partition(":")[2] == G_END_CHAT
    text = incoming.text or ""
    if fold(text) in _end_words(turn.ctx.translator):
        return True
    numbers = handoff.status != HandoffStatus.CLAIMED and not secret
    return match_choice(text, turn.shown, numbers=numbers) == G_END_CHAT


async def _open_handoff(turn: TurnState) -> HandoffView | None:
    """The chat's handoff while it is open; a closed one is forgotten."""
    if turn.handoff is None:
        return None
    handoff = await handoff_view(turn.ctx.uow, turn.handoff)
    if handoff is None or not handoff.open:
        turn.handoff = None
        return None
    return handoff


async def in_handoff(turn: TurnState) -> bool:
    """Whether the chat is in a handoff now: waiting in line, or with an agent."""
    return turn.handoff is not None and await _open_handoff(turn) is not None


async def in_live_chat(turn: TurnState) -> bool:
    """Whether an agent has the chat now (what is typed goes to them)."""
    if turn.handoff is None:
        return False
    handoff = await _open_handoff(turn)
    return handoff is not None and handoff.status == HandoffStatus.CLAIMED


async def live_turn(turn: TurnState, incoming: Incoming, *, secret: bool = False) -> bool:
    """Handle a message of a chat in a handoff: leaving it, and everything typed while an
    agent has the chat. False when the assistant answers as usual (no handoff, or waiting).
    ``secret``: the step at the top asks for a secret (no button is chosen by number)."""
    ctx = turn.ctx
    handoff = await _open_handoff(turn)
    if handoff is None:
        if turn.stack[-1].dialog == SECURE_MESSAGE and incoming.text is not None:
            return await _withheld_secret(turn, incoming.text, to_agent=False)
        return False
    if _is_end(turn, incoming, handoff, secret=secret):
        # As it is now (locked): an agent may have claimed it since it was read.
        turn.handoff = None
        try:
            ended = await end_by_person(ctx.uow, handoff.id)
        except HandoffNotOpen:  # the agent ended it a moment ago
            ctx.say(ctx._("The chat with our team has ended."))
            await prompt(turn)
            return True
        if ended.status == HandoffStatus.CLOSED:
            ctx.say(ctx._("The chat with {name} has ended. You are back with the assistant.")
                    .format(name=ended.agent_name))  # fmt: skip
        else:
            ctx.say(ctx._("You left the line. You are back with the assistant."))
        await prompt(turn)
        return True
    if handoff.status != HandoffStatus.CLAIMED:
        return False  # waiting: the assistant goes on answering
    text = (incoming.text or "").strip()
    if incoming.payload is not None or not text:
        ctx.say(_chatting_with(ctx, handoff), choices=[end_chat_button(ctx)])
        return True
    if await _withheld_secret(turn, text, to_agent=True, handoff=handoff):
        return True
    try:
        await post_person_message(ctx.uow, handoff.id, text)
    except HandoffNotOpen:  # the agent ended it a moment ago (their notice is on its way)
        turn.handoff = None
        ctx.say(ctx._("The chat with our team has ended."))
        await prompt(turn)
        return True
    turn.only_reshown = True  # no answer: the buttons on screen stay good
    return True


async def keep_way_out(turn: TurnState) -> None:
    """While the chat is in a handoff, the newest message of an answer carries the way out of
    it: "Leave the line" while waiting (under the menu or whatever step the assistant shows
    meanwhile), "End chat" with an agent. A channel may show only the newest message's buttons
    (the web widget's quick replies), and the person must be able to leave at any time. A turn
    that answers nothing leaves the buttons on screen as they are."""
    replies = turn.ctx.replies
    if not replies or turn.handoff is None:
        return
    handoff = await _open_handoff(turn)
    if handoff is None:
        return
    newest = replies[-1]
    if any(button.payload == G_END_CHAT for button in newest.buttons):
        return
    ctx = turn.ctx
    way_out = (
        end_chat_button(ctx) if handoff.status == HandoffStatus.CLAIMED else _leave_line_button(ctx)
    )
    replies[-1] = replace(newest, buttons=(*newest.buttons, way_out))


def _chatting_with(ctx: Context, handoff: HandoffView) -> str:
    return ctx._('You are chatting with {name}. Type "end chat" to go back to the assistant.'
                 ).format(name=handoff.agent_name)  # fmt: skip


async def _withheld_secret(
    turn: TurnState, text: str, *, to_agent: bool, handoff: HandoffView | None = None
) -> bool:
    """A password or a code typed to a person: withheld (masked like any secret), with the
    reminder that nobody will ever ask for it. False when the text holds none."""
    if not looks_like_secret(text):
        return False
    ctx = turn.ctx
    turn.secret_input = True
    if handoff is not None:
        await post_person_message(ctx.uow, handoff.id, "", withheld=True)
    ctx.say(
        ctx._(
            "That looked like a password or a code, so it was not sent. Never share them: "
            "no one from USCIS will ever ask for your password or a code."
        )
        + ("" if to_agent else "\n" + ctx._("Please write your message again without it."))
    )
    if not to_agent:
        await prompt(turn)
    return True


async def ask_for_agent(turn: TurnState, desk: AgentDesk) -> None:
    """Talk to a person: join the queue (or say where the chat is in it), or, when no agent
    can take it, say when agents are available and offer a secure message."""
    ctx = turn.ctx
    handoff = await _open_handoff(turn)
    if handoff is None:
        if not await desk.can_take(ctx.locale):
            _no_agent(turn, desk)
            await prompt(turn)
            return
        created = await request_agent(
            ctx.uow,
            channel=ctx.channel,
            chat_id=ctx.chat_id,
            language=ctx.locale,
            topic=_topic(turn),
            account_id=await ctx.account_id(),
        )
        turn.handoff = created.id
        handoff = await _open_handoff(turn)
        assert handoff is not None
    if handoff.status == HandoffStatus.CLAIMED:
        ctx.say(_chatting_with(ctx, handoff), choices=[end_chat_button(ctx)])
        return
    place = await place_in_queue(ctx.uow, handoff.id)
    minutes = max(1, math.ceil(place.wait.total_seconds() / 60))
    ctx.say(
        "\n".join(
            [
                ctx._(
                    "You are number {n} in the line for a person. Estimated wait: about {time}."
                ).format(n=place.position, time=minutes_text(ctx, minutes)),
                ctx._(
                    "You can keep using the assistant while you wait. We will tell you "
                    "here when an agent joins."
                ),
            ]
        )
    )
    await prompt(turn)  # under which the way out of the line is shown (``keep_way_out``)


def _topic(turn: TurnState) -> str | None:
    """What the person asked about last (a knowledge-base topic or an intent), else the
    intent of the flow they are in; None when neither says."""
    if turn.topic is not None:
        return turn.topic
    top = turn.dialogs.get(turn.stack[-1].dialog)
    return top.intent if top is not None else None


def _no_agent(turn: TurnState, desk: AgentDesk) -> None:
    ctx = turn.ctx
    now = ctx.now()
    opening = desk.next_opening(now)
    if opening <= now:
        first = ctx._("Sorry, no agent who speaks your language is free right now.")
    else:
        when = ctx.t.datetime_in(opening, ctx.services.agent_time_zone)
        first = ctx._("Our agents are not available now. They are back on {when}.").format(
            when=when
        )
    offer = ctx._("You can write us a secure message, and we will answer you later.")
    phone = ctx._("Or call the USCIS Contact Center at {phone} (TTY {tty}).").format(
        phone=ctx.services.contact_phone, tty=ctx.services.contact_tty
    )
    ctx.say(f"{first}\n\n{offer} {phone}", choices=[Button(ctx._("Write a message"), G_SECURE)])


async def write_secure(turn: TurnState) -> None:
    """Start writing a secure message, on top of the step the person is at."""
    top = turn.stack[-1].dialog
    await detour(turn, SECURE_MESSAGE, {"topic": top} if top != ROOT else {})
