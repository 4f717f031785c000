"""The knowledge base's files are complete in every language: each topic of ``topics.toml``
with a title, an answer, 6 to 40 ways to ask it and a button when it has an action; each
language with an evaluation set that does not copy its own asks.

Every one of the eleven languages is required: a language whose file is missing fails here
(not skipped), so a language cannot be left out unnoticed.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

import bot.knowledge
from bot.cli import main
from bot.knowledge.base import (
    ACTIONS,
    LANGUAGES,
    SOURCE_PREFIXES,
    KnowledgeError,
    build_knowledge,
    knowledge_base,
)
from bot.understanding.text import fold
from bot.wording.i18n import LOCALES
from tests.eval.topic_questions import COMMAND, load_questions

MIN_QUESTIONS = 20
MIN_TOPICS_ASKED = 15
MAX_ENGLISH_WORDS = 90


def _file(name: str) -> dict[str, Any]:
    text = resources.files("bot.knowledge").joinpath(name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def _topics() -> dict[str, Any]:
    return _file("topics.toml")


def test_the_knowledge_base_speaks_every_language_casebot_speaks() -> None:
    assert sorted(LANGUAGES) == sorted(LOCALES)


def test_topics_have_an_area_an_official_https_source_and_a_known_action() -> None:
    topics = _topics()
    assert len(topics) >= 30
    for topic_id, table in topics.items():
        assert table["source"].startswith(SOURCE_PREFIXES), topic_id
        assert table.get("action") is None or table["action"] in ACTIONS, topic_id
        assert isinstance(table.get("safety"), bool), topic_id
    safety = {t for t, table in topics.items() if table["safety"]}
    assert safety == {"scam_call", "scam_payment", "deportation_threat"}


# ALL ELEVEN LANGUAGES ARE REQUIRED: a language without its file fails these tests.
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_file_has_every_topic_complete(language: str) -> None:
    wordings = _file(f"{language}.toml")
    topics = _topics()
    assert sorted(wordings) == sorted(topics)
    for topic_id, wording in wordings.items():
        assert wording["title"].strip(), topic_id
        assert len(wording["title"]) <= 40, topic_id
        assert wording["answer"].strip(), topic_id
        asks = wording["asks"]
        assert 6 <= len(asks) <= 40, topic_id
        assert all(a.strip() for a in asks), topic_id
        assert len({fold(a) for a in asks}) == len(asks), f"{topic_id}: an ask twice"
        if topics[topic_id].get("action"):
            assert wording.get("button", "").strip(), f"{topic_id}: no button label"
        else:
            assert "button" not in wording, f"{topic_id}: a button without an action"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_shipped_knowledge_base_loads_each_language(language: str) -> None:
    assert language in knowledge_base().wordings


def test_english_answers_are_short() -> None:
    for topic_id, wording in _file("en.toml").items():
        assert len(wording["answer"].split()) <= MAX_ENGLISH_WORDS, topic_id


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_an_evaluation_set_that_does_not_copy_its_asks(language: str) -> None:
    questions = load_questions(language)
    topics = _topics()
    asked = [q for q in questions if q.topic != COMMAND]
    assert len(asked) >= MIN_QUESTIONS
    assert len({q.topic for q in asked}) >= MIN_TOPICS_ASKED
    assert any(q.topic == COMMAND for q in questions)
    assert all(q.topic in topics for q in asked), [q.topic for q in asked if q.topic not in topics]
    asks = {fold(a).strip(" ?¿!.") for w in _file(f"{language}.toml").values() for a in w["asks"]}
    copied = [q.text for q in questions if fold(q.text).strip(" ?¿!.") in asks]
    assert not copied


def test_a_malformed_file_is_refused_when_the_base_is_built() -> None:
    topics = _topics()
    english = _file("en.toml")
    broken = {**english, "receipt_number": {**english["receipt_number"], "asks": ["one"]}}
    with pytest.raises(KnowledgeError, match="receipt_number"):
        build_knowledge(topics, {"en": broken})
    without = {k: v for k, v in english.items() if k != "fees"}
    with pytest.raises(KnowledgeError, match="fees"):
        build_knowledge(topics, {"en": without})
    with pytest.raises(KnowledgeError, match="source"):
        build_knowledge({**topics, "x": {"area": "help", "source": "http://example.com/"}}, {})


def test_a_broken_knowledge_base_stops_the_chat_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CASEBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'kb.sqlite3'}")

    def broken() -> None:
        raise KnowledgeError("es.toml [fees]: 'answer' must be a non-empty text")

    monkeypatch.setattr(bot.knowledge, "knowledge_base", broken)
    assert main(["chat"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "es.toml [fees]" in line
    assert "knowledge base" in line
