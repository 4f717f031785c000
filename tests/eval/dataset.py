"""The evaluation set of free-text understanding: what people type, per language.

One file per language, ``<locale>.txt``; each line reads
``intent | receipt number | language | text`` with ``-`` for none (a bare receipt number has
no language). Written the way people type in chat: short, informal, misspelled, without
accents, mixed with English. None of it may be training data (``bot.understanding.data``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.understanding.data import LANGUAGE_NAMES, MODULES, SHARED_CUES
from bot.understanding.text import prepare

__all__ = [
    "EVAL_DIR",
    "Example",
    "folded_key",
    "lexicon_entries",
    "load_examples",
    "training_phrases",
]

EVAL_DIR: Final = Path(__file__).resolve().parent


@dataclass(frozen=True, slots=True)
class Example:
    file_language: str
    line: int
    intent: str
    receipt_number: str | None
    language: str | None
    text: str


def _none(field: str) -> str | None:
    return None if field == "-" else field


def load_examples(directory: Path = EVAL_DIR) -> list[Example]:
    """Every example of every language file, in file order.

    Raises:
        ValueError: a line is not ``intent | receipt | language | text``.
    """
    examples = []
    for path in sorted(directory.glob("*.txt")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            fields = [f.strip() for f in line.split(" | ", 3)]
            if len(fields) != 4 or not fields[3]:
                raise ValueError(
                    f"{path.name}:{number}: expected 'intent | receipt | language | text'"
                )
            intent, receipt, language, text = fields
            examples.append(
                Example(path.stem, number, intent, _none(receipt), _none(language), text)
            )
    return examples


def folded_key(text: str) -> str:
    """A message as the model sees it: folded words, no receipt numbers, no punctuation."""
    return " ".join(prepare(text).words)


def training_phrases() -> dict[str, str]:
    """Every training phrase, folded, with where it comes from."""
    return {
        folded_key(phrase): f"{language}.PHRASES[{intent}]"
        for language, module in MODULES.items()
        for intent, phrases in module.PHRASES.items()
        for phrase in phrases
    }


def lexicon_entries() -> set[str]:
    """Every cue of the lexicon (words and short phrases), folded."""
    tables = [SHARED_CUES, LANGUAGE_NAMES]
    for module in MODULES.values():
        tables += [module.CUES, module.TOPICS]
    return {
        folded_key((entry.strip().rpartition(":")[0] or entry.strip()).replace("*", ""))
        for table in tables
        for spec in table.values()
        for entry in spec.split("|")
    }
