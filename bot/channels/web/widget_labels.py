"""The web widget's own labels (launcher, header, input field, status lines), from the gettext
catalogs like every other text, handed to ``widget.js`` when it is served.

The server writes the table of every locale into the script itself, in place of the marker
``/*casebot:labels*/ null`` (see :func:`widget_script`): the language picker switches the labels
at once with no second request, and there is no build step. A label without a translation yet
is its English msgid.
"""

from __future__ import annotations

import json
from typing import Final

from bot.wording.i18n import LANGUAGE_NAMES, LOCALES, N_, RTL_LOCALES, translator

__all__ = [
    "LABEL_MARKER",
    "WIDGET_LABELS",
    "label_table",
    "widget_catalog",
    "widget_script",
]

# One msgid per control of the widget, keyed as widget.js reads them.
WIDGET_LABELS: Final[dict[str, str]] = {
    # Translators: the web chat's round button that opens the chat panel (read aloud).
    "open": N_("Open chat"),
    "close": N_("Close chat"),
    # Translators: the title of the web chat panel; "casebot" is the assistant's name.
    "title": N_("casebot: immigration help"),
    "language": N_("Language"),
    # Translators: the list of messages in the web chat, for screen readers.
    "log": N_("Conversation"),
    # Translators: the label of the field where the person types a message.
    "message": N_("Message"),
    # Translators: the same field while it takes a password (it is masked).
    "password": N_("Password"),
    # Translators: the same field while it takes a code (from an app, an email or a letter).
    "code": N_("Code"),
    # Translators: the same field while it takes the answer to a security question.
    "answer": N_("Answer"),
    # Translators: the grey hint inside the empty message field.
    "type_message": N_("Type a message…"),
    "type_password": N_("Type your password"),
    "type_code": N_("Type the code"),
    "type_answer": N_("Type your answer"),
    # Translators: a button beside the password field that shows the password typed.
    "show": N_("Show password"),
    # Translators: the same button once the password is shown: it hides it again.
    "hide": N_("Hide password"),
    # Translators: under a message of the person that did not reach the server.
    "not_sent": N_("Not sent."),
    # Translators: the button that sends a message that did not go, once more.
    "retry": N_("Retry"),
    "send": N_("Send"),
    "typing": N_("casebot is typing…"),
    # Translators: the group of buttons under the last message, for screen readers.
    "replies": N_("Suggested replies"),
    "reconnecting": N_("Connection lost. Reconnecting…"),
    "failed": N_("Could not send. Please try again."),
    # Translators: the chat refused a message because too many came from this chat in the
    # last minute (HTTP 429); the wait is at most a minute.
    "limited": N_("Too many messages in a short time. Please wait a minute, then try again."),
    # The same words as the chat's own answer when the records cannot be reached (HTTP 503).
    "unavailable": N_(
        "Sorry, we cannot reach our records right now. Please try again in a few minutes."
    ),
    # Translators: a link under a message that saves a file (a calendar file).
    "download": N_("Download"),
    # Translators: for screen readers, who said a message: the person.
    "you": N_("You"),
    # Translators: for screen readers, who said a message: the assistant (its name).
    "bot": N_("casebot"),
}
# Where widget.js declares its catalog: ``var CATALOG = /*casebot:labels*/ null;``.
LABEL_MARKER: Final = "/*casebot:labels*/ null"


def label_table() -> dict[str, dict[str, str]]:
    """Every locale's widget labels: ``{"es": {"open": "Abrir chat", ...}, ...}`` (an
    untranslated label is its English msgid)."""
    return {
        locale: {key: translator(locale)._(msgid) for key, msgid in WIDGET_LABELS.items()}
        for locale in LOCALES
    }


def widget_catalog() -> dict[str, object]:
    """What the widget is handed: the labels, each language's own name for the picker, and
    the right-to-left locales."""
    return {
        "locales": list(LOCALES),
        "names": dict(LANGUAGE_NAMES),
        "rtl": sorted(RTL_LOCALES),
        "labels": label_table(),
    }


def widget_script(source: str) -> str:
    """``widget.js`` with :func:`widget_catalog` written in at the marker.

    Raises:
        ValueError: the script has no marker (a widget.js that does not fit this server).
    """
    if LABEL_MARKER not in source:
        raise ValueError("widget.js has no label marker")
    catalog = json.dumps(widget_catalog(), ensure_ascii=False, separators=(",", ":"))
    # "</" would end a <script> element if a page inlines the widget.
    return source.replace(LABEL_MARKER, catalog.replace("</", "<\\/"), 1)
