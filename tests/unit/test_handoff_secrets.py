"""What is withheld from an agent: a password or a one-time code, and nothing a person needs
to tell them (a receipt number, an A-Number, a phone number, a date)."""

from __future__ import annotations

import pytest

from bot.engine.handoff import looks_like_secret


@pytest.mark.parametrize(
    "text",
    [
        "Sunflower-42!",
        "my password is sunflower42",
        "the code is 493201",
        "code: 493 201",
        "493-201",
        "٤٩٣٢٠١",  # Arabic-Indic digits
        "7K3Q-9WXM-2PLD",  # a backup code
    ],
)
def test_a_password_or_a_code_is_withheld(text: str) -> None:
    assert looks_like_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        "Where is my card? IOE0912345678",
        "My A-Number is A123456789",
        "Call me at 555-123-4567",
        "I filed on 03/04/2026",
        "My ZIP code is 10278",
        "I cannot sign in",
    ],
)
def test_what_a_person_needs_to_say_goes_through(text: str) -> None:
    assert not looks_like_secret(text)


def test_words_that_mix_cases_and_dashes_are_no_password() -> None:
    assert not looks_like_secret("I need a Follow-up on my I-485")
