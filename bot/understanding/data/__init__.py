"""Training data of the free-text understanding model, one module per language.

Each language module holds:

- ``CUES``: per intent, the words and phrases that signal it, as one string of entries separated
  by ``|``. An entry is one or more words (a phrase matches in order, with up to two other words
  in between); a final ``*`` makes the last word a stem (``запис*`` matches ``записаться``); a
  ``:N`` suffix gives its weight (default 2; 3 for an unmistakable phrase, 1 for a hint that
  another intent may outweigh: "cancel" in "cancel my appointment"). Chinese and Korean entries
  match anywhere in the text, spaces ignored.
- ``PHRASES``: per intent, whole messages as people send them, for the character n-gram
  classifier and the language model.
- ``TOPICS``: cues of the three account-help topics (``forgot_password``, ``lost_device``,
  ``create_account``), same syntax as ``CUES``.
- ``WORDS``: common words of the language (function words, chat spellings), for telling the
  Latin-script languages apart.

Nothing here is the evaluation set (``tests/eval/``): a test checks that they share no message.
This is input data, not user-visible text, so it is not translated.
"""

from __future__ import annotations

from types import ModuleType
from typing import Final

from bot.understanding.data import ar, en, es, fr, ht, ko, pt, ru, tl, vi, zh
from bot.understanding.data.common import LANGUAGE_NAMES, NEUTRAL_WORDS, SHARED_CUES

__all__ = ["LANGUAGES", "LANGUAGE_NAMES", "MODULES", "NEUTRAL_WORDS", "SHARED_CUES"]

MODULES: Final[dict[str, ModuleType]] = {
    "en": en,
    "es": es,
    "zh": zh,
    "vi": vi,
    "tl": tl,
    "ko": ko,
    "ar": ar,
    "fr": fr,
    "ht": ht,
    "pt": pt,
    "ru": ru,
}
LANGUAGES: Final = tuple(MODULES)
