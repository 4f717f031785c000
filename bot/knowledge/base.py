"""The knowledge base's data: the topics (``topics.toml``) and their wording in each language
(``<language>.toml``), read from the package and checked when first used.

The files are plain data an editor changes without touching code; the README says how. A
language whose file is not there is answered in English.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

__all__ = [
    "ACTIONS",
    "AREAS",
    "LANGUAGES",
    "KnowledgeBase",
    "KnowledgeError",
    "Topic",
    "Wording",
    "build_knowledge",
    "knowledge_base",
]

LANGUAGES: Final = ("en", "es", "zh", "vi", "tl", "ko", "ar", "fr", "ht", "pt", "ru")
AREAS: Final = frozenset({"account", "case", "numbers", "appointments", "signin", "safety", "help"})
ACTIONS: Final = frozenset(
    {
        "case_status",
        "add_paper_case",
        "link_account",
        "appointment",
        "password_reset",
        "create_account",
        "lost_device",
        "agent",
    }
)
SOURCE_PREFIXES: Final = (
    "https://www.uscis.gov/",
    "https://egov.uscis.gov/",
    "https://my.uscis.gov/",
)
MIN_ASKS: Final = 6
MAX_ASKS: Final = 40
MAX_TITLE: Final = 40


class KnowledgeError(ValueError):
    """A knowledge-base file is malformed (a data error, found when the base is built)."""


@dataclass(frozen=True, slots=True)
class Topic:
    """The language-neutral facts of a topic.

    Attributes:
        id: its id, the same in every language.
        area: account, case, numbers, appointments, signin, safety or help.
        source: the official page its facts come from.
        action: the flow its button starts (one of ``ACTIONS``), if any.
        safety: a scam warning, answered before anything else.
    """

    id: str
    area: str
    source: str
    action: str | None
    safety: bool


@dataclass(frozen=True, slots=True)
class Wording:
    """A topic in one language: its title, its answer, how people ask it, its button."""

    title: str
    answer: str
    asks: tuple[str, ...]
    button: str | None


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    """Every topic, and its wording in each language that has a file."""

    topics: Mapping[str, Topic]
    wordings: Mapping[str, Mapping[str, Wording]]

    def wording(self, topic_id: str, locale: str | None) -> Wording:
        """The topic in this language, or in English when the language has no file.

        Raises:
            KeyError: no such topic.
        """
        by_topic = self.wordings.get(locale or "en") or self.wordings["en"]
        return by_topic[topic_id]


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise KnowledgeError(f"{where}: {key!r} must be a non-empty text")
    return value.strip()


def _topic(topic_id: str, table: Any) -> Topic:
    where = f"topics.toml [{topic_id}]"
    if not isinstance(table, dict):
        raise KnowledgeError(f"{where}: not a table")
    area = _text(table, "area", where)
    if area not in AREAS:
        raise KnowledgeError(f"{where}: area {area!r} is not one of {sorted(AREAS)}")
    source = _text(table, "source", where)
    if not source.startswith(SOURCE_PREFIXES):
        raise KnowledgeError(f"{where}: source {source!r} is not a uscis.gov https page")
    action = table.get("action")
    if action is not None and action not in ACTIONS:
        raise KnowledgeError(f"{where}: action {action!r} is not one of {sorted(ACTIONS)}")
    safety = table.get("safety", False)
    if not isinstance(safety, bool):
        raise KnowledgeError(f"{where}: safety must be true or false")
    return Topic(topic_id, area, source, action, safety)


def _wording(language: str, topic: Topic, table: Any) -> Wording:
    where = f"{language}.toml [{topic.id}]"
    if not isinstance(table, dict):
        raise KnowledgeError(f"{where}: missing or not a table")
    title = _text(table, "title", where)
    if len(title) > MAX_TITLE:
        raise KnowledgeError(f"{where}: title longer than {MAX_TITLE} characters")
    asks = table.get("asks")
    if (
        not isinstance(asks, list)
        or not MIN_ASKS <= len(asks) <= MAX_ASKS
        or not all(isinstance(a, str) and a.strip() for a in asks)
    ):
        raise KnowledgeError(f"{where}: asks must be {MIN_ASKS} to {MAX_ASKS} non-empty texts")
    button = table.get("button")
    if topic.action is not None:
        button = _text(table, "button", where)
    elif button is not None:
        raise KnowledgeError(f"{where}: a button, but topics.toml gives no action")
    return Wording(title, _text(table, "answer", where), tuple(a.strip() for a in asks), button)


def build_knowledge(
    topics: Mapping[str, Any], languages: Mapping[str, Mapping[str, Any]]
) -> KnowledgeBase:
    """A knowledge base from parsed TOML: ``topics`` (``topics.toml``) and the files of the
    languages present (``{"en": {...}, ...}``; English is required).

    Raises:
        KnowledgeError: a topic or a wording is malformed, a language file lacks a topic or
            has one ``topics.toml`` does not know, or English is missing.
    """
    parsed = {topic_id: _topic(topic_id, table) for topic_id, table in topics.items()}
    if "en" not in languages:
        raise KnowledgeError("en.toml is missing: English is the fallback of every language")
    wordings: dict[str, dict[str, Wording]] = {}
    for language, tables in languages.items():
        unknown = sorted(set(tables) - set(parsed))
        if unknown:
            raise KnowledgeError(f"{language}.toml: topics not in topics.toml: {unknown}")
        wordings[language] = {
            topic_id: _wording(language, topic, tables.get(topic_id))
            for topic_id, topic in parsed.items()
        }
    return KnowledgeBase(parsed, wordings)


def _read(name: str) -> dict[str, Any] | None:
    resource = resources.files("bot.knowledge").joinpath(name)
    if not resource.is_file():
        return None
    try:
        return tomllib.loads(resource.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise KnowledgeError(f"{name}: {error}") from None


@cache
def knowledge_base() -> KnowledgeBase:
    """The knowledge base shipped with casebot (read and checked once).

    Raises:
        KnowledgeError: a file is malformed (``build_knowledge``).
    """
    topics = _read("topics.toml")
    if topics is None:
        raise KnowledgeError("topics.toml is missing")
    languages = {}
    for language in LANGUAGES:
        tables = _read(f"{language}.toml")
        if tables is not None:
            languages[language] = tables
    return build_knowledge(topics, languages)
