"""Cues: the words and phrases that signal an intent (or a help topic, or a language), found
in a message even when misspelled, inflected or split by other words.

Syntax of a cue list (see ``bot.understanding.data``): entries separated by ``|``; an entry
is words in order, the last one a stem when it ends in ``*``, with an optional ``:weight``.
Chinese and Korean entries match anywhere in the message's Chinese and Korean text.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from bot.understanding.fuzzy import FuzzyIndex
from bot.understanding.text import Message, fold, is_compact_script

__all__ = ["Cue", "CueIndex", "parse_cues"]

DEFAULT_WEIGHT: Final = 2.0
MAX_GAP: Final = 2  # words allowed between two words of a phrase ("cancel MY appointment")
STEM: Final = "*"
# A cue found through a misspelling is less sure, a short one more so ("cuesta" is no
# misspelled "cuenta").
MISSPELLED_SHARE: Final = 0.5
MISSPELLED_LONG_SHARE: Final = 0.8
LONG_CUE: Final = 7
ANY_LANGUAGE: Final = frozenset({"*"})
_DRAWN_RE: Final = re.compile(r"(\w)\1{2,}")
_REPEATS_RE: Final = re.compile(r"(\w)\1+")

# Arabic clitics: conjunctions, prepositions and the article before a word, possessive
# pronouns after it ("وبطلبي" = "and in my application" -> "طلب").
_AR_PREFIXES: Final = ("وال", "بال", "فال", "كال", "لل", "ال", "و", "ف", "ب", "ل", "ك")
_AR_SUFFIXES: Final = ("هما", "كما", "هم", "كم", "هن", "نا", "ها", "ه", "ك", "ي", "ات")


@dataclass(frozen=True, slots=True)
class Cue:
    """One entry of a cue list: ``words`` folded, the last one a stem if it ends in ``*``."""

    label: str
    words: tuple[str, ...]
    weight: float
    compact: bool  # Chinese or Korean: matched inside the text, not word by word
    languages: frozenset[str] = ANY_LANGUAGE  # whose lexicon it comes from


def parse_cues(label: str, spec: str, language: str = "*") -> list[Cue]:
    """The cues of one ``|``-separated list.

    Raises:
        ValueError: an entry is empty or its weight is not a number (a data error, found when
            the model is built).
    """
    cues = []
    for entry in spec.split("|"):
        text, colon, weight_text = entry.strip().rpartition(":")
        if not colon:
            text, weight_text = entry.strip(), ""
        try:
            weight = float(weight_text) if weight_text else DEFAULT_WEIGHT
        except ValueError:
            raise ValueError(f"bad cue {entry!r} for {label}") from None
        folded = fold(text)
        if any(is_compact_script(c) for c in folded):
            cues.append(Cue(label, ("".join(folded.split()),), weight, True, frozenset({language})))
            continue
        words = tuple(folded.replace("-", " ").replace("'", " ").split())
        if not words or weight <= 0:
            raise ValueError(f"bad cue {entry!r} for {label}")
        cues.append(Cue(label, words, weight, False, frozenset({language})))
    return cues


def arabic_variants(word: str) -> set[str]:
    """A word and what remains of it without its clitics (at least two letters)."""
    found = {word}
    for prefix in ("", *_AR_PREFIXES):
        if not word.startswith(prefix):
            continue
        stem = word[len(prefix) :]
        found.add(stem)
        for suffix in _AR_SUFFIXES:
            if stem.endswith(suffix) and len(stem) - len(suffix) >= 2:
                found.add(stem[: -len(suffix)])
    return {v for v in found if len(v) >= 2}


class CueIndex:
    """Every cue of a model, for finding them in messages."""

    def __init__(self, cues: Iterable[Cue]) -> None:
        self._compact: list[Cue] = []
        self._by_first: dict[str, list[Cue]] = defaultdict(list)
        words: set[str] = set()
        stems: set[str] = set()
        for cue in cues:
            if cue.compact:
                self._compact.append(cue)
                continue
            self._by_first[cue.words[0]].append(cue)
            for word in cue.words:
                (stems if word.endswith(STEM) else words).add(word.rstrip(STEM))
        self._words = FuzzyIndex(words)
        self._stems = FuzzyIndex(stems)
        self._stem_lengths = sorted({len(s) for s in stems})

    def keys(
        self, word: str, known: frozenset[str] = frozenset(), *, fuzzy: bool = True
    ) -> dict[str, bool]:
        """What a typed (folded) word can stand for in a cue, each with whether it is exact:
        itself, what it is with its clitics or drawn-out letters ("holaaa") removed, the stems
        it begins with (``stem*``), and (``fuzzy``, unless it is a word of some language in
        ``known``) the cue words it is a misspelling of."""
        found: dict[str, bool] = {}
        if _is_arabic(word):
            variants = arabic_variants(word)
        elif word in self._words or word in known:
            variants = {word}
        else:
            variants = {word, *undrawn(word)}
        for variant in variants:
            if variant in self._words:
                found[variant] = True
            for length in self._stem_lengths:
                if length > len(variant):
                    break
                if variant[:length] in self._stems:
                    found[variant[:length] + STEM] = True
        if not fuzzy or found or word in known:
            return found
        for variant in variants:
            for match in self._words.lookup(variant):
                found.setdefault(match, False)
            for length in self._stem_lengths:
                if length >= 5 and length <= len(variant):
                    for stem in self._stems.lookup(variant[:length]):
                        found.setdefault(stem + STEM, False)
        return found

    def match(
        self,
        message: Message,
        known: frozenset[str] = frozenset(),
        *,
        fuzzy: bool = True,
        languages: frozenset[str] | None = None,
    ) -> list[tuple[Cue, bool]]:
        """The cues found in a message, each once, with whether all its words were typed
        right. A cue found inside a longer one of the same label (``account`` inside ``my
        account``) is left out: the same words count once. With ``languages``, a misspelled
        cue counts only from those languages' lexicons (and the shared one): "dice" is a
        Spanish word, not a misspelled Vietnamese "dich"."""
        keys = [self.keys(word, known, fuzzy=fuzzy) for word in message.words]
        found: dict[int, tuple[Cue, frozenset[int], bool]] = {}
        for i, word_keys in enumerate(keys):
            for first in word_keys:
                for cue in self._by_first.get(first, ()):
                    if id(cue) in found:
                        continue
                    positions = _phrase_at(cue.words, keys, i)
                    if positions is None:
                        continue
                    exact = all(keys[p][w] for p, w in zip(positions, cue.words, strict=True))
                    if exact or languages is None or cue.languages & (languages | ANY_LANGUAGE):
                        found[id(cue)] = (cue, frozenset(positions), exact)
        kept = [
            (cue, exact)
            for cue, positions, exact in found.values()
            if not any(
                other.label == cue.label and positions < other_positions
                for other, other_positions, _ in found.values()
            )
        ]
        if message.compact:
            kept += [(c, True) for c in self._compact if c.words[0] in message.compact]
        return kept

    def scores(
        self,
        message: Message,
        known: frozenset[str] = frozenset(),
        *,
        fuzzy: bool = True,
        languages: frozenset[str] | None = None,
    ) -> dict[str, float]:
        """The summed weight of the cues found, per label; a misspelled cue counts less."""
        totals: dict[str, float] = defaultdict(float)
        for cue, exact in self.match(message, known, fuzzy=fuzzy, languages=languages):
            share = 1.0
            if not exact:
                long = min(len(w) for w in cue.words) >= LONG_CUE
                share = MISSPELLED_LONG_SHARE if long else MISSPELLED_SHARE
            totals[cue.label] += cue.weight * share
        return dict(totals)


def undrawn(word: str) -> list[str]:
    """A word with its drawn-out letters ("holaaa", "hiii", "pleeease") shortened to two and
    to one, when it has any (three or more of a letter, or a doubled last letter)."""
    if len(word) < 3 or not (word[-1] == word[-2] or _DRAWN_RE.search(word)):
        return []
    return [_DRAWN_RE.sub(r"\1\1", word), _REPEATS_RE.sub(r"\1", word)]


def _is_arabic(word: str) -> bool:
    return bool(word) and "\u0600" <= word[0] <= "\u06ff"


def _phrase_at(words: tuple[str, ...], keys: list[dict[str, bool]], start: int) -> list[int] | None:
    """Where the phrase's words are, when they follow from position ``start`` (its first
    word is there) with at most ``MAX_GAP`` other words between two of them."""
    positions = [start]
    for word in words[1:]:
        for ahead in range(positions[-1] + 1, min(positions[-1] + 2 + MAX_GAP, len(keys))):
            if word in keys[ahead]:
                positions.append(ahead)
                break
        else:
            return None
    return positions


def cue_labels(cues: Mapping[str, str], language: str = "*") -> list[Cue]:
    """Every cue of a ``{label: list}`` table (of one language's lexicon, or ``*``)."""
    return [cue for label, spec in cues.items() for cue in parse_cues(label, spec, language)]
