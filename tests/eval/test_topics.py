"""The knowledge base's evaluation: questions as people type them, in every language, get
their topic; commands still start their flow; no question lands in a flow that asks for
personal data.

Parametrized over all eleven languages: a language whose evaluation file is missing fails.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from bot.knowledge import knowledge_base
from bot.knowledge.base import LANGUAGES
from bot.knowledge.matching import FLOW_INTENTS, HELPING, read
from tests.eval.dataset import load_examples
from tests.eval.topic_questions import COMMAND, answered_topic, load_questions

TOPIC_GOAL = 0.90
COMMAND_GOAL = 0.98  # over every language's flow requests
COMMAND_LANGUAGE_GOAL = 0.90  # in each language


@pytest.mark.parametrize("language", LANGUAGES)
def test_topic_accuracy_reaches_the_goal(language: str) -> None:
    questions = [q for q in load_questions(language) if q.topic != COMMAND]
    misses = []
    for question in questions:
        got = answered_topic(read(question.text, language))
        if got != question.topic:
            misses.append(
                f"  line {question.line}: {question.text!r} -> {got}, not {question.topic}"
            )
    accuracy = 1 - len(misses) / len(questions)
    assert accuracy >= TOPIC_GOAL, f"{language}: {accuracy:.0%}\n" + "\n".join(misses)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_question_is_taken_into_a_flow_that_asks_for_personal_data(language: str) -> None:
    taken = []
    for question in load_questions(language):
        if question.topic == COMMAND:
            continue
        reading = read(question.text, language)
        if reading.topic is None and reading.understanding.intent in FLOW_INTENTS:
            taken.append(f"  line {question.line}: {question.text!r} -> {reading.understanding}")
    assert not taken, "\n".join(taken)


@pytest.mark.parametrize("language", LANGUAGES)
def test_commands_start_their_flow(language: str) -> None:
    answered = []
    for question in load_questions(language):
        if question.topic != COMMAND:
            continue
        reading = read(question.text, language)
        if reading.topic is not None or reading.understanding.intent not in FLOW_INTENTS:
            answered.append(f"  line {question.line}: {question.text!r} -> {reading}")
    assert not answered, "\n".join(answered)


def test_the_command_evaluation_still_starts_flows() -> None:
    """The flow requests of the understanding's evaluation set (``tests/eval/<lang>.txt``)
    still start their flow: the right intent and no answer instead, or an answer whose
    button starts that very flow ("how do I create an account")."""
    topics = knowledge_base().topics
    totals: dict[str, int] = defaultdict(int)
    wrong: dict[str, list[str]] = defaultdict(list)
    for example in load_examples():
        if example.intent not in FLOW_INTENTS:
            continue
        totals[example.file_language] += 1
        reading = read(example.text)
        helps = reading.topic is None or topics[reading.topic].action in HELPING[example.intent]
        if reading.understanding.intent != example.intent or not helps:
            wrong[example.file_language].append(f"  {example.text!r} -> {reading}")
    below = {
        language: wrong[language]
        for language, total in totals.items()
        if 1 - len(wrong[language]) / total < COMMAND_LANGUAGE_GOAL
    }
    assert not below, below
    missed = sum(len(w) for w in wrong.values())
    assert 1 - missed / sum(totals.values()) >= COMMAND_GOAL, dict(wrong)
