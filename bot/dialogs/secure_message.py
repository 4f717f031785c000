"""Writing a secure message to staff, offered when no agent can take the chat: the person
writes what they need, and the answer comes back in this chat later (and by email to a
signed-in person). A password or a code typed here is never kept (the engine withholds it,
``bot.engine.handoff``)."""

from __future__ import annotations

import enum

from bot.dialogs.actions import SECURE_MESSAGE
from bot.dialogs.base import Dialog, End, Prompt, Step, Transition
from bot.dialogs.context import Context
from core.handoff.secure import MAX_SECURE_MESSAGE, send_secure_message

__all__ = ["secure_message_dialog"]


class Write(enum.Enum):
    TEXT = "text"


async def _prompt(ctx: Context) -> Prompt:
    if await ctx.account_id() is not None:
        where = ctx._("We will answer in this chat and by email.")
    else:
        where = ctx._("We will answer in this chat.")
    text = ctx._("Write your message in one text: what you need, and your receipt number if "
                 "you have one. Never write a password or a code.")  # fmt: skip
    return Prompt(f"{text}\n{where}")


def _parse(ctx: Context, text: str) -> str:
    if len(text) > MAX_SECURE_MESSAGE:
        raise ValueError(ctx._("That message is too long. Please send a shorter one."))
    return text


async def _handle(ctx: Context, text: str) -> Transition:
    frames_topic = ctx.data.get("topic")
    await send_secure_message(
        ctx.uow,
        channel=ctx.channel,
        chat_id=ctx.chat_id,
        locale=ctx.locale,
        text=text,
        account_id=await ctx.account_id(),
        topic=frames_topic if isinstance(frames_topic, str) else None,
    )
    ctx.say(ctx._("Thank you. Your message was sent. We will answer you here."))
    return End()


secure_message_dialog: Dialog[Write] = Dialog(
    name=SECURE_MESSAGE,
    states=Write,
    initial=Write.TEXT,
    steps={Write.TEXT: Step(prompt=_prompt, parse=_parse, handle=_handle)},
)
