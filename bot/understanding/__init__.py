"""Free-text understanding: which flow a message asks for, any receipt number in it, and the
language it is written in, for all eleven languages, with no model file and no dependency.

``intents`` puts the parts together (``understand``); ``text`` folds and cuts what people type,
``cues`` and ``fuzzy`` find the words that signal an intent even misspelled, ``classifier`` is
a naive Bayes over character n-grams, ``language`` tells the language, and ``data`` holds one
module of phrases per language. It imports nothing of casebot but itself: the engine, the
menu and ``casebot understand`` ask it, never the other way round.
"""

from __future__ import annotations

from bot.understanding.intents import (
    INTENTS,
    Understanding,
    account_help_topic,
    load_model,
    understand,
)

__all__ = ["INTENTS", "Understanding", "account_help_topic", "load_model", "understand"]
