"""A multinomial naive Bayes classifier over character n-grams and words.

Trained in a few milliseconds from the phrases of ``bot.understanding.data`` when the model is
first used. Character n-grams carry what the cues miss: inflections, compounds, words split or
glued differently ("magpaschedule", "예약할래요"), and the feel of a language in words it has
never seen.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Final

from bot.understanding.text import is_compact_script

__all__ = ["NaiveBayes", "features"]

SMOOTHING: Final = 0.2


def features(words: Sequence[str], *, ngrams: tuple[int, ...] = (3, 4)) -> list[str]:
    """The features of a folded message: each word, and the character n-grams of each word
    padded with a space on both sides; Chinese and Korean words give their characters and
    character pairs instead (they carry no dependable word boundaries)."""
    found: list[str] = []
    for word in words:
        if any(is_compact_script(c) for c in word):
            found.extend(word)
            found.extend(word[i : i + 2] for i in range(len(word) - 1))
            continue
        found.append(f"w:{word}")
        padded = f" {word} "
        for n in ngrams:
            found.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return found


class NaiveBayes:
    """Classes from bags of features, with add-``SMOOTHING`` smoothing and equal priors."""

    def __init__(self, examples: Iterable[tuple[str, Sequence[str]]]) -> None:
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for label, feats in examples:
            counts[label].update(feats)
        self.labels: tuple[str, ...] = tuple(sorted(counts))
        self.vocabulary: frozenset[str] = frozenset(f for c in counts.values() for f in c)
        size = len(self.vocabulary) + 1
        self._log_prob: dict[str, dict[str, float]] = {}
        self._unseen: dict[str, float] = {}
        for label, counter in counts.items():
            total = sum(counter.values()) + SMOOTHING * size
            self._log_prob[label] = {
                f: math.log((n + SMOOTHING) / total) for f, n in counter.items()
            }
            self._unseen[label] = math.log(SMOOTHING / total)

    def log_likelihoods(self, feats: Sequence[str]) -> dict[str, float]:
        """The log-likelihood of the features under each class (unknown features skipped)."""
        known = [f for f in feats if f in self.vocabulary]
        return {
            label: sum(self._log_prob[label].get(f, self._unseen[label]) for f in known)
            for label in self.labels
        }

    def posterior(self, feats: Sequence[str]) -> dict[str, float]:
        """The probability of each class given the features (uniform when none is known)."""
        scores = self.log_likelihoods(feats)
        top = max(scores.values())
        exp = {label: math.exp(s - top) for label, s in scores.items()}
        total = sum(exp.values())
        return {label: v / total for label, v in exp.items()}

    def coverage(self, feats: Sequence[str]) -> float:
        """The share of the features the classifier has seen in training."""
        return sum(f in self.vocabulary for f in feats) / len(feats) if feats else 0.0
