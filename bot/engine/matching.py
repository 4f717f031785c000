"""Reading typed text as the engine does before any dialog sees it: command words in every
language, a button's label or number, a yes or a no; and cleaning what cannot be encoded."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

from bot.dialogs.actions import G_BACK, G_HELP, G_LANG, G_MENU, G_RESTART
from bot.dialogs.base import Button
from bot.dialogs.model import Incoming
from bot.wording.i18n import LOCALES, Translator
from bot.wording.local_input import yes_no

__all__ = ["command", "likely_secret", "match_choice", "valid_unicode", "yes_no_choice"]

_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def valid_unicode(incoming: Incoming) -> Incoming:
    """The message with any lone surrogate (JSON allows ``"\\ud800"``; a terminal hands over
    undecodable bytes as surrogates) replaced by U+FFFD: no text can be encoded with one, so
    a password, an email or a code holding one would fail deep inside a flow."""
    text, payload = incoming.text, incoming.payload
    if (text is None or text.isascii()) and (payload is None or payload.isascii()):
        return incoming
    if text is not None:
        text = _LONE_SURROGATE.sub("\ufffd", text)
    if payload is not None:
        payload = _LONE_SURROGATE.sub("\ufffd", payload)
    return dataclasses.replace(incoming, text=text, payload=payload)


MIN_SECRET_LENGTH: Final = 8
MAX_SECRET_LENGTH: Final = 128


def likely_secret(text: str) -> bool:
    """Text that looks like a password typed at a step that does not ask for one (after a
    switch, or a step ago): one word of 8 to 128 characters, no email address, mixing three
    kinds of character (lower case, upper case, digits, others), or lower-case letters
    (at least 4) with digits. A receipt number (3 letters and digits), an A-Number, a phone
    number or a plain word does not."""
    if not MIN_SECRET_LENGTH <= len(text) <= MAX_SECRET_LENGTH:
        return False
    if any(char.isspace() for char in text) or "@" in text:
        return False
    digits = sum(char.isdigit() for char in text)
    if text[:3].isalpha() and digits >= MIN_SECRET_LENGTH:
        return False  # a receipt number with a slip in it ("IOE09123x5678")
    lower = sum(char.islower() for char in text)
    kinds = [
        lower > 0,
        any(char.isupper() for char in text),
        digits > 0,
        any(not char.isalnum() for char in text),
    ]
    return sum(kinds) >= 3 or (lower >= 4 and digits > 0)


@lru_cache(maxsize=len(LOCALES))
def _command_words(t: Translator) -> dict[str, str]:
    """Every command word of a language and of English, to its action (the first action that
    lists a word has it); made once per language, not on every message."""
    table = {
        G_MENU: (t._("menu, cancel, stop, quit, exit"), "menu, cancel, stop, quit, exit"),
        G_HELP: (t._("help, ?"), "help, ?"),
        G_BACK: (t._("back"), "back"),
        G_LANG: (t._("language, lang"), "language, lang"),
        G_RESTART: (t._("start, start over, restart"), "start, start over, restart"),
    }
    words: dict[str, str] = {}
    for action, (translated, english) in table.items():
        for w in f"{translated},{english}".split(","):
            words.setdefault(w.strip().casefold(), action)
    return words


def command(t: Translator, text: str) -> str | None:
    """The global action a typed command word stands for ("menu", "atrás", "/help"), or None."""
    word = text.casefold().strip(" .!?¿¡").lstrip("/")
    action = _command_words(t).get(word)
    if text.strip() == "?" and action != G_MENU:
        return G_HELP
    return action


def _label_key(text: str) -> str:
    # NFKC folds the narrow no-break space of CLDR times ("9:30\u202fAM") into a space.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().strip(" .").split())


# Button labels only (translations, office names, times), never what was typed: that may be
# a password, which must not stay in a cache.
_button_key = lru_cache(maxsize=4096)(_label_key)


def match_choice(text: str, choices: Iterable[Button], *, numbers: bool = True) -> str | None:
    """A typed label (any case, any spacing) or number stands for its button.

    ``numbers`` is off at a secret step: a code or PIN is never read as a button's number.
    """
    wanted = _label_key(text)
    options = list(choices)
    number = _option_number(wanted) if numbers else None
    if number is not None and 1 <= number <= len(options):
        return str(options[number - 1].payload)
    for choice in options:
        if _button_key(choice.label) == wanted:
            return str(choice.payload)
    return None


def yes_no_choice(text: str, choices: Iterable[Button]) -> str | None:
    """A typed yes or no, in any language, stands for the one button that means it."""
    options = list(choices)
    if not any(choice.means for choice in options):
        return None  # no button means yes or no: nothing to read the text for
    meaning = yes_no(text)
    if meaning is None:
        return None
    matching = [choice for choice in options if choice.means == meaning]
    return str(matching[0].payload) if len(matching) == 1 else None


def _option_number(wanted: str) -> int | None:
    """A typed option number in the digits of any script (``3``, ``٣``, ``३``), else None;
    ``²`` and other characters ``str.isdigit`` accepts but ``int`` does not are no number."""
    if not 0 < len(wanted) <= 4:
        return None
    digits = [unicodedata.decimal(char, None) for char in wanted]
    if any(digit is None for digit in digits):
        return None
    return int("".join(str(digit) for digit in digits))
