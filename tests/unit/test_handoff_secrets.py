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


@pytest.mark.parametrize(
    "text",
    [
        "555-1234",
        "call me at 5551234",
        "Call me at 555-1234, please",
        "my number is 555 1234",
        "llámeme al 555-1234",  # es
        "appelez-moi au 5551234",  # fr
        "me ligue no 555-1234",  # pt
        "rele m nan 555-1234",  # ht
        "tawagan mo ako sa 5551234",  # tl
        "gọi cho tôi số 555-1234",  # vi
        "请打我的电话号码 555-1234",  # zh: 号码 is no code word
        "제 전화번호는 555-1234 입니다",  # ko
        "اتصل بي على 5551234",  # ar
        "позвоните мне 555-1234",  # ru
        "My ZIP code is 10278, phone 555-1234",  # the code word is far from the number
    ],
)
def test_a_local_phone_number_goes_through(text: str) -> None:
    assert not looks_like_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        "5551234",  # 6 to 8 digits alone
        "49320178",
        "1234 5678",
        "my code is 555-1234",  # a code word before it: a code, whatever its shape
        "the code: 5551234",
        "mi código es 555-1234",  # es
        "o código é 5551234",  # pt
        "mon code est 555 1234",  # fr
        "kòd la se 5551234",  # ht
        "ang code ko ay 555-1234",  # tl
        "mã xác nhận là 5551234",  # vi
        "验证码是5551234",  # zh
        "인증번호 555-1234",  # ko
        "رمز التحقق هو 5551234",  # ar
        "мой код 555-1234",  # ru
    ],
)
def test_a_code_alone_or_named_as_one_is_withheld(text: str) -> None:
    assert looks_like_secret(text)
