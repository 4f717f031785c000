"""Misspelled words: find the known word a typed one was meant to be, in microseconds.

A symmetric-delete index (the SymSpell idea): every known word is stored under each string it
becomes with one (or, for long words, two) letters deleted; a typed word's own deletions are
looked up there, and each candidate is confirmed with the optimal string alignment distance
(Levenshtein plus transpositions, so "apointment", "appointmnet" and "pasword" are one edit
away). No candidate list is ever scanned in full, so a lookup costs a few dozen dictionary
probes whatever the vocabulary's size.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import combinations
from typing import Final

__all__ = ["FuzzyIndex", "allowed_edits", "osa_distance"]

SHORTEST_FUZZY: Final = 4  # shorter words must be typed right: too many are one edit apart
LONG_WORD: Final = 9  # from this length two edits are allowed
# Longer "words" are not looked up: no word is that long, and a 2,000-letter one would cost
# two million deletions.
LONGEST_FUZZY: Final = 30


def allowed_edits(length: int) -> int:
    """How many edits a word of this length may carry and still be recognised."""
    if length < SHORTEST_FUZZY:
        return 0
    return 2 if length >= LONG_WORD else 1


def osa_distance(a: str, b: str, limit: int) -> int:
    """The optimal string alignment distance of two words, or ``limit + 1`` when it exceeds
    ``limit`` (computation stops early)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def _deletions(word: str, depth: int) -> set[str]:
    found = {word}
    for n in range(1, min(depth, len(word) - 1) + 1):
        for positions in combinations(range(len(word)), n):
            found.add("".join(c for i, c in enumerate(word) if i not in positions))
    return found


class FuzzyIndex:
    """Known words, looked up with their misspellings."""

    def __init__(self, words: Iterable[str]) -> None:
        self._words = frozenset(words)
        self._by_deletion: dict[str, set[str]] = {}
        for word in self._words:
            for key in _deletions(word, allowed_edits(len(word))):
                self._by_deletion.setdefault(key, set()).add(word)

    def __contains__(self, word: object) -> bool:
        return word in self._words

    def lookup(self, typed: str) -> list[str]:
        """The known words closest to ``typed`` (itself when known; none when nothing is
        close enough for its length)."""
        if typed in self._words:
            return [typed]
        limit = allowed_edits(len(typed))
        if limit == 0 or len(typed) > LONGEST_FUZZY:
            return []
        candidates: set[str] = set()
        for key in _deletions(typed, limit):
            candidates |= self._by_deletion.get(key, set())
        best = limit + 1
        found: list[str] = []
        for word in candidates:
            bound = min(limit, allowed_edits(len(word)))
            distance = osa_distance(typed, word, bound)
            if distance > bound:
                continue
            if distance < best:
                best, found = distance, [word]
            elif distance == best:
                found.append(word)
        return sorted(found)
