"""The words of a text as the knowledge base's matcher compares them.

Folded and cut as ``bot.understanding`` does it; Chinese and Korean runs as their character
pairs; Vietnamese syllables also two by two; the A-Number, however written, as one word;
English contractions without their apostrophe. And the cores of an Arabic word: what remains
without its clitics, its verb's person or its plural's ending.
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import pairwise
from typing import Final

from bot.knowledge.questions import prepared
from bot.understanding.cues import arabic_variants
from bot.understanding.text import is_compact_script

__all__ = [
    "ARABIC_STEM",
    "A_NUMBER_WORD",
    "PAIRED_LANGUAGES",
    "arabic_cores",
    "is_arabic",
    "tokens",
]

PAIRED_LANGUAGES: Final = frozenset({"vi"})  # syllables, also matched two by two
ARABIC_STEM: Final = 3  # the core of an Arabic word is matched from this length


def is_arabic(token: str) -> bool:
    return "\u0600" <= token[0] <= "\u06ff"


# A verb's person ("يستعجلون", "بيسالني") and a plural's ending, beyond the clitics that
# ``arabic_variants`` takes off.
_AR_PERSON: Final = ("بي", "بت", "بن", "ي", "ت", "ن", "ا")
_AR_ENDINGS: Final = ("ون", "ين", "وا", "ان", "ني")


@lru_cache(maxsize=4096)
def arabic_cores(token: str) -> frozenset[str]:
    """What remains of an Arabic word without its clitics, its verb's person or its plural's
    ending: each way of taking them off that leaves three letters or more."""
    cores = set(arabic_variants(token))
    for form in list(cores):
        for prefix in ("", *_AR_PERSON):
            if not form.startswith(prefix):
                continue
            stem = form[len(prefix) :]
            cores.add(stem)
            cores.update(stem[: -len(e)] for e in _AR_ENDINGS if stem.endswith(e))
    return frozenset(c for c in cores if len(c) >= ARABIC_STEM)


# The A-Number, however it is written ("A-Number", "a#", "my a number", "número A", "номер А",
# "رقم A", "A号"), is one word: "a" alone is a common word and "number" names every number.
_LETTER_A: Final = r"(?<![^\W\d_])[aа](?![^\W\d_])"
_A_NUMBER: Final = re.compile(
    rf"{_LETTER_A}\s?[-#№]|(?<![^\W\d_])[aа]\s?(?:号|번호)"
    rf"|(?<![^\W\d_])(?:numero|número|numéro|номер|رقم)\s(?:de\s)?{_LETTER_A}"
    rf"|(?<![^\W\d_])(?:my|the|an|your|his|her|their|our|as|vs|versus|or|and)\s{_LETTER_A}\s?(?=num)",
    re.IGNORECASE,
)
A_NUMBER_WORD: Final = " anumber "


# English contractions are one word, as most people type them: "what's" is "whats", "i'm"
# "im" (a lone "s" or "m" would be a rare word, and weigh as one). French elisions ("l'adresse",
# "j'ai") keep their words apart.
_CONTRACTION: Final = re.compile(r"(?<=[a-z])['’ʼ](?=(?:s|m|ve|d|ll|re|t)\b)", re.IGNORECASE)


def _runs(word: str) -> list[str]:
    """A word cut where it passes from Chinese or Korean to another script and back."""
    runs: list[str] = []
    for char in word:
        if runs and is_compact_script(char) == is_compact_script(runs[-1][-1]):
            runs[-1] += char
        else:
            runs.append(char)
    return runs


def tokens(text: str, language: str | None = None) -> list[str]:
    """The words of a text, folded; Chinese and Korean runs as their character pairs; and
    in Vietnamese, whose words are syllables, each two syllables in a row as well ("van
    phong", an office; "cho o", where one lives)."""
    message = prepared(_CONTRACTION.sub("", _A_NUMBER.sub(A_NUMBER_WORD, text)))
    words = message.words
    # Most messages hold no Chinese or Korean: then every word is a token as it is.
    tokens: list[str] = [] if message.compact else list(words)
    for word in words if message.compact else ():
        if not any(is_compact_script(c) for c in word):
            tokens.append(word)
            continue
        # A word that mixes scripts ("个access", "code是") is its runs: the Latin one a word,
        # the Chinese or Korean one its character pairs.
        for run in _runs(word):
            if not is_compact_script(run[0]):
                tokens.append(run)
                continue
            if len(run) == 1:
                tokens.append(run)
            else:
                tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    if language in PAIRED_LANGUAGES:
        tokens.extend(f"{a} {b}" for a, b in pairwise(words))
    return tokens
