"""Questions told apart from commands, and matched to the knowledge base's topics."""

from __future__ import annotations

import pytest

from bot.knowledge.base import build_knowledge, knowledge_base
from bot.knowledge.matching import TopicMatcher, is_question, matcher, read


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("where do I find my USCIS online account number", "account_number"),
        ("is the account number the same as my A-number", "account_number"),
        ("what is my infopass number", "infopass"),
        ("someone called asking for my password, is that USCIS?", "scam_call"),
        ("how long does an I-765 take", "processing_times"),
        ("where do i find my receipt number", "receipt_number"),
        ("¿dónde encuentro mi número de recibo?", "receipt_number"),
        ("me llamaron y dicen que me deportan si no pago", "deportation_threat"),
    ],
)
def test_the_questions_of_the_issue_get_their_topic(text: str, topic: str) -> None:
    assert read(text).topic == topic


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("check my case", "case_status"),
        ("I forgot my password", "password_reset"),
        ("book an appointment", "appointment"),
        ("ver mi caso", "case_status"),
        ("olvidé mi contraseña", "password_reset"),
        ("IOE0912345678", "case_status"),
        ("can you check my case IOE0912345678?", "case_status"),
        ("password", "password_reset"),
        ("biometrics", "appointment"),
    ],
)
def test_commands_start_their_flow_and_get_no_topic(text: str, intent: str) -> None:
    reading = read(text)
    assert reading.topic is None
    assert not reading.question
    assert reading.understanding.intent == intent


def test_a_scam_warning_wins_over_the_flow_its_words_name() -> None:
    reading = read("some guy on the phone wants my password and code, says hes uscis")
    assert reading.understanding.intent == "password_reset"
    assert reading.topic == "scam_call"


def test_help_and_greetings_with_a_question_mark_are_no_unanswered_questions() -> None:
    for text in ("help?", "hello?", "ayuda?"):
        assert not read(text).question, text


def test_asking_for_a_person_is_no_scam() -> None:
    assert read("talk to a person").topic not in {"scam_call", "scam_payment", "deportation_threat"}
    assert read("scam").topic == "scam_call"


def test_a_question_no_topic_fits_is_a_question_with_the_closest_topics() -> None:
    nothing = read("what is the capital of mongolia?")
    assert nothing.topic is None
    assert nothing.question


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("where is it", True),
        ("my card, it came?", True),
        ("ok ba ito", True),
        ("多久能批下来", True),
        ("언제 나와요", True),
        ("هل هذا احتيال", True),
        ("check my case", False),
        ("I forgot my password", False),
        ("hola", False),
    ],
)
def test_questions_are_told_by_their_words_or_their_mark(text: str, question: bool) -> None:
    assert is_question(text) is question


def test_the_matcher_is_built_once_and_never_raises_on_odd_text() -> None:
    assert matcher() is matcher()
    for text in ("", "   ", "?", "x" * 5000, "🙂🙂", "\x00", "a " * 3000):
        reading = read(text)
        assert reading.topic is None or reading.topic in knowledge_base().topics


def test_a_topic_an_editor_adds_is_matched_without_code() -> None:
    english = {
        "t": {"title": "Parking", "answer": "Park on the street.", "asks": [
            "where do i park", "is there parking", "parking at the office", "can i park",
            "where is the car park", "parking lot"]},
    }  # fmt: skip
    base = build_knowledge(
        {"t": {"area": "help", "source": "https://www.uscis.gov/"}}, {"en": english}
    )
    assert TopicMatcher(base).scores("where can i park my car").get("t", 0.0) > 0.5


def test_question_words_people_type_and_statements_that_only_look_like_questions() -> None:
    # Colloquial question words: Taglish "pano", Creole "kijan", spoken Arabic "وين", "شو".
    for text in ("pano ko malalaman ang receipt ko", "kijan m ka jwenn nimewo a", "وين الرقم"):
        assert is_question(text), text
    # Vietnamese "không" asks only at the end; a polite Korean statement ends in 어요 too.
    assert is_question("đổi lịch hẹn được không")
    for text in ("không nhận được mã", "비밀번호 까먹었어요"):
        assert not is_question(text), text


def test_asking_to_speak_a_language_is_no_question_to_answer() -> None:
    for text, language in (("can you speak french", "en"), ("¿puedes hablar en inglés?", "es")):
        reading = read(text, language)
        assert reading.understanding.requested_language is not None, text
        assert reading.topic is None, text


def test_a_question_that_only_seems_to_name_a_language_keeps_its_topic() -> None:
    # "mandaron" is one letter from "mandarin": the question is about a text message.
    text = "me mandaron un texto pidiendo mi codigo de verificacion es uscis?"
    assert read(text, "es").topic == "scam_call"
