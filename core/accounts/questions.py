"""Password-reset questions: a fixed list of ids, and how an answer is compared.

Only the ids live here; the chat layer words each question in the user's language. Answers are
compared in a forgiving form (case, accents and spacing ignored) and stored as Argon2id hashes of
that form, because an answer is a low-entropy secret like a password.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Final

from core.errors import InvalidResetAnswer, UnknownResetQuestion

__all__ = [
    "MAX_ANSWER_LENGTH",
    "RESET_QUESTION_IDS",
    "check_question_id",
    "normalize_answer",
    "validate_answers",
]

RESET_QUESTION_IDS: Final = (
    "first_pet",
    "birth_city",
    "first_school",
    "childhood_street",
    "favorite_teacher",
)
MAX_ANSWER_LENGTH: Final = 100


def check_question_id(question_id: str) -> str:
    """Return the id if it is one of the fixed questions.

    Raises:
        UnknownResetQuestion: it is not.
    """
    if question_id not in RESET_QUESTION_IDS:
        raise UnknownResetQuestion(question_id=question_id)
    return question_id


def normalize_answer(answer: str) -> str:
    """The comparable form of an answer: accents stripped, case folded, spaces collapsed.

    "  São   Paulo " and "sao paulo" are the same answer.
    """
    decomposed = unicodedata.normalize("NFKD", answer)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def validate_answers(answers: Mapping[str, str]) -> dict[str, str]:
    """Check the answers given at registration and return them normalised, by question id.

    Raises:
        InvalidResetAnswer: no answer at all (``reason="missing"``), an answer that is empty
            once normalised (``"empty"``) or longer than 100 characters (``"too_long"``).
        UnknownResetQuestion: an id is not in the fixed list.
    """
    if not answers:
        raise InvalidResetAnswer(question_id=None, reason="missing")
    result: dict[str, str] = {}
    for question_id, answer in answers.items():
        check_question_id(question_id)
        normalized = normalize_answer(answer)
        if not normalized:
            raise InvalidResetAnswer(question_id=question_id, reason="empty")
        if len(normalized) > MAX_ANSWER_LENGTH:
            raise InvalidResetAnswer(question_id=question_id, reason="too_long")
        result[question_id] = normalized
    return result
