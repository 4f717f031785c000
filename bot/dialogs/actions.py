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
    "G_END_CHAT",
    "G_HELP",
    "G_LANG",
    "G_MENU",
    "G_RESTART",
    "G_SECURE",
    "G_SETLANG",
    "G_STAY",
    "G_SWITCH",
    "LANGUAGE",
    "ROOT",
    "SECURE_MESSAGE",
    "set_language",
]

ROOT: Final = "menu"
LANGUAGE: Final = "language"
SECURE_MESSAGE: Final = "secure_message"  # writing to staff when no agent can take the chat

GLOBAL_PREFIX: Final = "g:"
G_MENU: Final = "g:menu"
G_HELP: Final = "g:help"
G_BACK: Final = "g:back"
G_LANG: Final = "g:lang"
G_RESTART: Final = "g:restart"
G_SWITCH: Final = "g:switch"
G_STAY: Final = "g:stay"
G_SETLANG: Final = "g:setlang:"
G_AGENT: Final = "g:agent"  # "talk to a person": the queue for an agent, or how to reach one
G_END_CHAT: Final = "g:endchat"  # leave the queue, or end the chat with the agent
G_SECURE: Final = "g:secure"  # write a secure message (no agent can take the chat)


def set_language(locale: str) -> str:
    """The value of a button that switches the conversation to ``locale``."""
    return f"{G_SETLANG}{locale}"
