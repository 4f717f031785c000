"""Which language a message is written in, or None when the text does not say.

Arabic, Korean, Chinese and Russian are told by their script. Vietnamese is told by its letters
when it is typed with its marks. The Latin-script languages (English, Spanish, French,
Portuguese, Haitian Creole, Tagalog, and Vietnamese typed without marks) are told word by word:
each word votes for the languages whose training text uses it, in proportion to how often each
does; a word no language knows votes through a character n-gram classifier, at half weight;
letters only some languages write (ñ, ã, ç, ò, è) add their votes. Words every language types
("ok", "hi", "password", "case status") vote for none, and English votes count less, since the
domain's English words are borrowed into every other language ("quiero check my case" is
Spanish). A word no language knows may be a drawn-out or misspelled known one ("holaa").
The answer is given only when the votes are enough and clearly ahead.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Final

from bot.understanding.classifier import NaiveBayes, features
from bot.understanding.cues import undrawn
from bot.understanding.fuzzy import FuzzyIndex
from bot.understanding.text import Message, script_counts, vietnamese_marks

__all__ = ["LanguageIdentifier"]

SCRIPT_LANGUAGES: Final = frozenset({"ar", "ko", "zh", "ru"})
ENGLISH_WEIGHT: Final = 0.7
UNKNOWN_WORD_WEIGHT: Final = 0.5
MISSPELLED_WEIGHT: Final = 0.7
VIETNAMESE_MARK_WEIGHT: Final = 2.0
MIN_VOTES: Final = 0.9  # about one word that only one language uses
MIN_LEAD: Final = 1.4  # the winner needs this many times the runner-up's votes
HINT_SHARE: Final = 0.6  # the conversation's language wins when it has this share of the top

# Letters that some of the Latin-script languages write and others do not.
_LETTER_VOTES: Final[dict[str, dict[str, float]]] = {
    "ñ": {"es": 1.0},
    "¿": {"es": 1.0},
    "¡": {"es": 1.0},
    "ã": {"pt": 1.0},
    "õ": {"pt": 1.0},
    "ç": {"fr": 0.5, "pt": 0.5},
    "œ": {"fr": 1.0},
    "ò": {"ht": 1.0},
    "è": {"ht": 0.5, "fr": 0.5},
    "ê": {"fr": 0.4, "pt": 0.4},
    "â": {"fr": 0.4, "pt": 0.4},
    "ô": {"fr": 0.4, "pt": 0.4},
    "à": {"fr": 0.4, "pt": 0.2, "ht": 0.2},
    "é": {"fr": 0.3, "es": 0.2, "pt": 0.2},
    "í": {"es": 0.3, "pt": 0.2},
    "ó": {"es": 0.3, "pt": 0.2},
    "á": {"es": 0.3, "pt": 0.2},
    "ú": {"es": 0.3, "pt": 0.2},
}


class LanguageIdentifier:
    """Built once from each language's training words."""

    def __init__(self, words: Mapping[str, Iterable[str]], neutral: frozenset[str]) -> None:
        """Args:
        words: per Latin-script language, its training text as folded words (repeats
            count: a frequent word votes more surely).
        neutral: words that tell no language.
        """
        self.neutral = neutral
        self._frequency: dict[str, dict[str, float]] = defaultdict(dict)
        examples: list[tuple[str, list[str]]] = []
        for language, language_words in words.items():
            counts = Counter(w for w in language_words if w not in neutral)
            total = sum(counts.values())
            for word, n in counts.items():
                self._frequency[word][language] = n / total
            examples.extend((language, features([w], ngrams=(1, 2, 3))) for w in counts)
        self.languages = tuple(words)
        self._known = FuzzyIndex(self._frequency)
        self._letters = NaiveBayes(examples)

    def known(self, word: str) -> bool:
        """Whether some language's training text uses this (folded) word."""
        return word in self._frequency

    def votes(self, message: Message) -> dict[str, float]:
        """The votes of the Latin-script languages for a message."""
        totals: dict[str, float] = defaultdict(float)
        for raw, word in zip(message.raw_words, message.words, strict=True):
            if word in self.neutral:
                continue
            if vietnamese_marks(raw):
                totals["vi"] += VIETNAMESE_MARK_WEIGHT
                continue
            for char in set(raw):
                for language, weight in _LETTER_VOTES.get(char, {}).items():
                    totals[language] += weight
            frequency = self._frequency.get(word)
            weight = 1.0
            if not frequency:
                frequency, weight = self._near(word)
            if frequency:
                share = sum(frequency.values())
                for language, f in frequency.items():
                    totals[language] += weight * f / share
            elif len(word) >= 4:
                guess = self._letters.posterior(features([word], ngrams=(1, 2, 3)))
                for language, p in guess.items():
                    totals[language] += UNKNOWN_WORD_WEIGHT * p
        if "en" in totals and max((v for k, v in totals.items() if k != "en"), default=0) >= 0.5:
            totals["en"] *= ENGLISH_WEIGHT
        return dict(totals)

    def _near(self, word: str) -> tuple[dict[str, float], float]:
        """The languages of the known words a word is a drawn-out or misspelled form of."""
        for variant in undrawn(word):
            if variant in self._frequency:
                return self._frequency[variant], 1.0
        merged: dict[str, float] = defaultdict(float)
        for near in self._known.lookup(word):
            for language, f in self._frequency[near].items():
                merged[language] += f
        return dict(merged), MISSPELLED_WEIGHT

    def identify(self, text: str, message: Message, hint: str | None = None) -> str | None:
        """The language of a message, or None when unsure.

        Args:
            text: the message as typed (its script tells four languages).
            message: the same, prepared (``understanding_text.prepare``).
            hint: the conversation's language, preferred when the text fits it nearly as well.
        """
        scripts = script_counts(text)
        if scripts:
            if "ja" in scripts:
                return None
            return max(scripts, key=lambda s: scripts[s])
        votes = self.votes(message)
        if not votes:
            return None
        ranked = sorted(votes.items(), key=lambda kv: kv[1], reverse=True)
        best, top = ranked[0]
        if top < MIN_VOTES:
            return None
        if hint in votes and votes[hint] >= HINT_SHARE * top:
            return hint
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        return best if top >= MIN_LEAD * runner_up else None
