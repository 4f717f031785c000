"""Global actions: button values that the engine answers at any step, whatever the dialog; and
the two dialogs the engine knows by name (the menu at the root, the language picker).

A dialog offers one by giving a button one of these values (the menu's "Language" and "Help"
buttons, the language picker's choices); the engine also reads the command words of each
language ("menu", "atrás", "帮助") as these actions.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "GLOBAL_PREFIX",
    "G_AGENT",
    "G_BACK",
    "G_HELP",
    "G_LANG",
    "G_MENU",
    "G_RESTART",
    "G_SETLANG",
    "G_STAY",
    "G_SWITCH",
    "LANGUAGE",
    "ROOT",
    "set_language",
]

ROOT: Final = "menu"
LANGUAGE: Final = "language"

GLOBAL_PREFIX: Final = "g:"
G_MENU: Final = "g:menu"
G_HELP: Final = "g:help"
G_BACK: Final = "g:back"
G_LANG: Final = "g:lang"
G_RESTART: Final = "g:restart"
G_SWITCH: Final = "g:switch"
G_STAY: Final = "g:stay"
G_SETLANG: Final = "g:setlang:"
G_AGENT: Final = "g:agent"  # "talk to a person": how to reach one


def set_language(locale: str) -> str:
    """The value of a button that switches the conversation to ``locale``."""
    return f"{G_SETLANG}{locale}"
