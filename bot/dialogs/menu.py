"""The menu: what the assistant can do, in a few words, with buttons; and free text at the top."""

from __future__ import annotations

import enum
from collections.abc import Collection

from bot.dialogs.base import Choice, Dialog, Prompt, Start, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.understanding import account_help_topic, understand
from bot.wording.i18n import N_
from core.accounts.links import unlink_chat

__all__ = ["menu_dialog"]

INTENT_TO_DIALOG = {
    "case_status": "case_status",
    "link_account": "link_account",
    "appointment": "appointments",
    "password_reset": "account_help",
}


# Every flow the menu may open, by button or by free text.
_STARTS = frozenset(
    {*INTENT_TO_DIALOG.values(), "my_cases", "forgot_password", "lost_device", "create_account"}
)
LANGUAGE = "language"  # the language picker: always there, beside the flows


class Menu(enum.Enum):
    MAIN = "main"


def menu_dialog(available: Collection[str]) -> Dialog[Menu]:
    """The menu, offering the flows that exist in ``available``."""

    async def prompt(ctx: Context) -> Prompt:
        signed_in = await ctx.account_id() is not None
        entries = [
            ("case_status", ctx._("Check a case status")),
            ("my_cases", ctx._("My cases")),
            ("appointments", ctx._("Appointments")),
            ("link_account", None if signed_in else ctx._("Sign in")),
            ("account_help", ctx._("Password and sign-in help")),
        ]
        choices = [Choice(label, name) for name, label in entries if label and name in available]
        if signed_in:
            choices.append(Choice(ctx._("Sign out"), "sign_out"))
        choices.append(Choice(ctx._("Language"), "g:lang"))
        choices.append(Choice(ctx._("Help"), "g:help"))
        text = ctx._("Hello! I can help you with your immigration case: check its status, "
                     "book an appointment, or get back into your account. What would you like "
                     "to do?")  # fmt: skip
        return Prompt(text, choices)

    def parse(ctx: Context, text: str) -> str:
        understood = understand(text, ctx.locale)
        target = INTENT_TO_DIALOG.get(understood.intent)
        if target == "account_help":
            # "I forgot my password" goes straight there, not to a list that asks it again.
            topic = account_help_topic(text)
            target = topic if topic in available else target
        if target in available:
            return f"{target}|{understood.receipt_number or ''}"
        if understood.intent == "language":
            return "g:lang"
        if understood.intent in ("greeting", "cancel"):
            return "greeting"
        raise ValueError(ctx._("Sorry, I did not understand. Please choose from the menu."))

    async def handle(ctx: Context, value: str) -> Transition:
        name, _, receipt = value.partition("|")
        if name == "sign_out":
            if await unlink_chat(ctx.uow, ctx.channel, ctx.chat_id):
                ctx.forget_account()
                ctx.say(ctx._("You are signed out. Your account is no longer linked to this chat."))
            return Stay()
        if name == "greeting":
            return Stay()
        if name == "g:lang":  # typed, not pressed: "change language", "en español"
            return Start(LANGUAGE)
        if name in available:
            return Start(name, {"receipt_number": receipt} if receipt else {})
        return Stay()

    return Dialog(
        name="menu",
        states=Menu,
        initial=Menu.MAIN,
        steps={
            Menu.MAIN: Step(
                prompt=prompt,
                parse=parse,
                handle=handle,
                starts=(*sorted(set(available) & _STARTS), LANGUAGE),
                help=N_(
                    "The menu lists everything I can do. Choose a button or type what you need, "
                    'for example "check my case" or a receipt number.'
                ),
            )
        },
    )
