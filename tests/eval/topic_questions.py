"""The evaluation set of the knowledge base: questions as people type them, per language.

One file per language, ``questions/<locale>.txt``; each line reads ``topic_id<TAB>question``,
or ``-<TAB>command`` for a message that is no question and must start a flow ("check my case",
"I forgot my password"). Lines starting with ``#`` and blank lines are skipped. None of it may
copy an ``asks`` line of the same language (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.knowledge.matching import Reading

__all__ = ["COMMAND", "QUESTIONS_DIR", "Question", "answered_topic", "load_questions"]

QUESTIONS_DIR: Final = Path(__file__).resolve().parent / "questions"
COMMAND: Final = "-"


@dataclass(frozen=True, slots=True)
class Question:
    line: int
    topic: str  # a topic id, or COMMAND
    text: str


def load_questions(language: str, directory: Path = QUESTIONS_DIR) -> list[Question]:
    """The questions of one language's file, in order.

    Raises:
        FileNotFoundError: the language has no file.
        ValueError: a line is not ``topic<TAB>question``.
    """
    path = directory / f"{language}.txt"
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        topic, tab, text = line.partition("\t")
        if not tab or not topic.strip() or not text.strip():
            raise ValueError(f"{path.name}:{number}: expected 'topic<TAB>question'")
        found.append(Question(number, topic.strip(), text.strip()))
    return found


def answered_topic(reading: Reading) -> str | None:
    """The topic a reading is answered with: its topic, or the Contact Center for a request
    for a person (the agent intent's answer is how to reach the Contact Center)."""
    if reading.topic is None and reading.understanding.intent == "agent":
        return "contact_center"
    return reading.topic
