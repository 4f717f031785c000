"""Choosing the language: the engine applies the choice and shows the step again in it."""

from __future__ import annotations

import enum

from bot.dialogs.actions import LANGUAGE, set_language
from bot.dialogs.base import Button, Dialog, Prompt, Step
from bot.dialogs.context import Context
from bot.wording.i18n import LANGUAGE_NAMES, LOCALES

__all__ = ["language_dialog"]


class Language(enum.Enum):
    CHOOSE = "choose"


def _prompt(ctx: Context) -> Prompt:
    choices = [Button(LANGUAGE_NAMES[code], set_language(code)) for code in LOCALES]
    return Prompt(ctx._("Choose your language:"), choices)


language_dialog: Dialog[Language] = Dialog(
    name=LANGUAGE,
    states=Language,
    initial=Language.CHOOSE,
    steps={Language.CHOOSE: Step(prompt=_prompt)},
)
