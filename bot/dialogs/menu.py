"""The menu: what the assistant can do, in a few words, with buttons; and free text at the top.

It is built from the registered flows (``bot.dialogs.registry``): a button for each flow with a
title, in their order, and free text that opens the flow of the intent it asks for.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from bot.dialogs.actions import G_AGENT, G_HELP, G_LANG, LANGUAGE, ROOT, set_language
from bot.dialogs.base import Button, Dialog, Prompt, Start, Stay, Step, Transition
from bot.dialogs.context import Context
from bot.understanding import understand
from bot.wording.i18n import N_
from core.accounts.links import unlink_chat

__all__ = ["menu_dialog"]


class Menu(enum.Enum):
    MAIN = "main"


def menu_dialog(flows: Sequence[Dialog[Any]]) -> Dialog[Menu]:
    """The menu, offering these flows (on its buttons, and to free text by their intent)."""
    available = {flow.name for flow in flows}
    by_intent = {flow.intent: flow for flow in flows if flow.intent is not None}

    async def prompt(ctx: Context) -> Prompt:
        signed_in = await ctx.account_id() is not None
        # Signed in, "Sign out" takes the place of "Sign in": every other choice keeps its
        # place, so the numbers the terminal shows do not change under a person who learned them.
        # Any other signed-out-only choice ("Create an account") comes last, after Help and
        # "Talk to a person", so that its going away once signed in moves no number either.
        sign_out = Button(ctx._("Sign out"), "sign_out")
        choices: list[Button] = []
        last: list[Button] = []
        slot_taken = False
        for flow in flows:
            if flow.title is None or flow.signed_in_only:
                continue
            if flow.signed_out_only:
                if not slot_taken:
                    slot_taken = True
                    choices.append(sign_out if signed_in else Button(ctx._(flow.title), flow.name))
                elif not signed_in:
                    last.append(Button(ctx._(flow.title), flow.name))
                continue
            choices.append(Button(ctx._(flow.title), flow.name))
        if signed_in and sign_out not in choices:
            choices.append(sign_out)
        choices.append(Button(ctx._("Language"), G_LANG))
        choices.append(Button(ctx._("Help"), G_HELP))
        choices.append(Button(ctx._("Talk to a person"), G_AGENT))
        choices += last
        if signed_in:  # after everything, so that no other button changes its number
            choices += [
                Button(ctx._(f.title), f.name) for f in flows if f.signed_in_only and f.title
            ]
        if ctx.greeted:  # said once; after a finished task, a sign-in: the short question
            return Prompt(ctx._("What else can I help with?"), choices)
        ctx.greeted = True
        text = ctx._("Hello! I can help you with your immigration case: check its status, "
                     "book an appointment, or get back into your account. What would you like "
                     "to do?")  # fmt: skip
        return Prompt(text, choices)

    def parse(ctx: Context, text: str) -> str:
        understood = understand(text, ctx.locale)
        flow = by_intent.get(understood.intent)
        if flow is not None:
            # "I forgot my password" goes straight there, not to a list that asks it again.
            refined = flow.refine(text) if flow.refine is not None else None
            target = refined if refined in available else flow.name
            return f"{target}|{understood.receipt_number or ''}"
        if understood.intent == "language":
            # "en español" switches at once (the engine carries out a set-language value);
            # "change language" shows the list.
            requested = understood.requested_language
            return set_language(requested) if requested else G_LANG
        if understood.intent == "agent":  # the engine says how to reach a person
            return G_AGENT
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
        if name == G_LANG:  # typed, not pressed: "change language", "en español"
            return Start(LANGUAGE)
        if name in available:
            return Start(name, {"receipt_number": receipt} if receipt else {})
        return Stay()

    return Dialog(
        name=ROOT,
        states=Menu,
        initial=Menu.MAIN,
        steps={
            Menu.MAIN: Step(
                prompt=prompt,
                parse=parse,
                handle=handle,
                starts=(*sorted(available), LANGUAGE),
                help=N_(
                    "The menu lists everything I can do. Choose a button or type what you need, "
                    'for example "check my case" or a receipt number.'
                ),
            )
        },
    )
