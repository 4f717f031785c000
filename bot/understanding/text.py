"""Text for the understanding model: folded, masked and cut into words, the same way for the
training data and for what people type.

Folding makes the spellings people use interchangeable: case, accents and tone marks
("contraseña" = "contrasena", "đặt lịch" = "dat lich"), full-width forms, the Arabic letter
variants (أ إ آ = ا, ة = ه, ى = ي) and diacritics. Hangul is kept whole (decomposing it would
turn syllables into letters). Receipt numbers and form numbers ("I-765") are masked first, so
their letters never count as words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from core.cases.receipt import PREFIXES

__all__ = [
    "FORM_WORD",
    "Message",
    "fold",
    "is_compact_script",
    "prepare",
    "script_counts",
    "vietnamese_marks",
]

# A form number ("I-765", "n400") becomes this word, which the shared cues know.
FORM_WORD: Final = "zzform"

_SEP: Final = "[\\s\\-\u2010-\u2015\u2212.#]"
_RECEIPT_RE: Final = re.compile(
    rf"(?<![a-z0-9])(?:{'|'.join(p.lower() for p in PREFIXES)}){_SEP}{{0,3}}"
    rf"[0-9oil](?:{_SEP}{{0,3}}[0-9oil]){{9}}(?![0-9])"
)
_FORM_RE: Final = re.compile(r"(?<![a-z0-9])[ikn]\s?-?\s?\d{3}[a-z]?(?![0-9])")
# "can't" -> "cant" (English writes it both ways); other apostrophes split ("j'ai" -> "j ai").
_NT_RE: Final = re.compile(r"n['’]t\b")
_WORD_RE: Final = re.compile(r"[^\W\d_]+")
# Arabic vowel marks and the dagger alef are no letters: left in, they would cut words apart.
_ARABIC_MARKS: Final = re.compile("[\u064b-\u065f\u0670]")

_ARABIC_LETTERS: Final = str.maketrans({"ى": "ي", "ة": "ه", "ک": "ك", "ی": "ي", "ـ": None})
_EXTRA_LATIN: Final = str.maketrans({"đ": "d", "ø": "o", "ł": "l", "ß": "ss", "æ": "ae"})
# Letters only Vietnamese uses (with the tone marks Vietnamese puts under or over them).
_VIETNAMESE_ONLY: Final = frozenset("ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")

_SCRIPTS: Final = (
    ("ko", ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F))),
    ("zh", ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0xF900, 0xFAFF))),
    ("ja", ((0x3040, 0x30FF),)),  # kana: Japanese, which casebot does not speak
    ("ar", ((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))),
    ("ru", ((0x0400, 0x04FF),)),
)


def _script_of(char: str) -> str | None:
    code = ord(char)
    if code < 0x0400:
        return None
    for name, ranges in _SCRIPTS:
        if any(low <= code <= high for low, high in ranges):
            return name
    return None


def is_compact_script(char: str) -> bool:
    """Chinese or Korean: written without reliable spaces, matched inside the text."""
    return _script_of(char) in ("zh", "ko")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if _script_of(char) in ("ko", "zh", "ja"):
        return char
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """Lower case, full-width forms, accents, tone marks and Arabic variants folded away."""
    lowered = unicodedata.normalize("NFKC", text).casefold().translate(_EXTRA_LATIN)
    return "".join(_fold_char(c) for c in lowered).translate(_ARABIC_LETTERS)


def script_counts(text: str) -> dict[str, int]:
    """How many letters of each non-Latin script the text holds (``ko``, ``zh``, ``ja``,
    ``ar``, ``ru``)."""
    counts: dict[str, int] = {}
    for char in text:
        name = _script_of(char)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return counts


def vietnamese_marks(word: str) -> bool:
    """Whether a word (as typed, lower case) holds a letter only Vietnamese writes."""
    return any(c in _VIETNAMESE_ONLY for c in word)


@dataclass(frozen=True, slots=True)
class Message:
    """A message ready for the model.

    Attributes:
        words: the folded words, in order (Chinese and Korean runs stay whole words).
        raw_words: the same words lower-cased but not folded (their accents tell languages
            apart).
        compact: the Chinese and Korean text without spaces, for cues that match inside it.
    """

    words: tuple[str, ...]
    raw_words: tuple[str, ...]
    compact: str


def prepare(text: str) -> Message:
    """Mask receipt and form numbers, fold, and cut a message into words."""
    lowered = _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", text).casefold())
    lowered = _RECEIPT_RE.sub(" ", lowered)
    lowered = _FORM_RE.sub(f" {FORM_WORD} ", lowered)
    lowered = _NT_RE.sub("nt", lowered)
    raw_words = tuple(_WORD_RE.findall(lowered))
    words = tuple(fold(w) for w in raw_words)
    compact = "".join(c for w in words for c in w if is_compact_script(c))
    return Message(words=words, raw_words=raw_words, compact=compact)
