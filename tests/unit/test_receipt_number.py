from __future__ import annotations

import contextlib
import dataclasses

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.cases.receipt import PREFIXES, ReceiptNumber, ServiceCenter, find_receipt_number
from core.errors import InvalidReceiptNumber


def parse_error(text: str) -> InvalidReceiptNumber:
    with pytest.raises(InvalidReceiptNumber) as caught:
        ReceiptNumber.parse(text)
    return caught.value


# --- parsing what people type ----------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "IOE0912345678",
        "ioe0912345678",
        "IOE-0912345678",
        "IOE 0912 345 678",
        "  IOE0912345678\n",
        "#IOE0912345678",
        "IOE.091.234.5678",
        "IOE–0912345678",  # an en dash, as phones type it
        "ＩＯＥ０９１２３４５６７８",  # full-width, as Chinese and Japanese keyboards type it
        "IOEO9I2345678",  # letter O for zero, letter I for one
        "ioeo9l2345678",  # lower-case o and l
    ],
)
def test_normalises_what_people_type(typed: str) -> None:
    assert str(ReceiptNumber.parse(typed)) == "IOE0912345678"


def test_str_gives_the_thirteen_characters() -> None:
    receipt = ReceiptNumber.parse("eac 21 900 12345")
    assert str(receipt) == "EAC2190012345"
    assert len(str(receipt)) == 13


def test_parse_accepts_a_receipt_number_as_is() -> None:
    receipt = ReceiptNumber.parse("IOE0912345678")
    assert ReceiptNumber.parse(receipt) is receipt


def test_repairs_letter_slips_only_in_the_digit_part() -> None:
    # In the prefix a zero is not read as the letter O: "I0E" is refused, not guessed.
    assert parse_error("I0E0912345678").reason == "shape"
    assert parse_error("1OE0912345678").reason == "shape"


def test_refuses_other_letters_among_the_digits() -> None:
    assert parse_error("IOE09123456S8").reason == "shape"


@pytest.mark.parametrize("prefix", sorted(PREFIXES))
def test_accepts_every_known_prefix(prefix: str) -> None:
    assert ReceiptNumber.parse(f"{prefix}2190012345").prefix == prefix


def test_refuses_an_unknown_prefix() -> None:
    error = parse_error("XYZ1234567890")
    assert error.reason == "prefix"
    assert error.looks_like is None


@pytest.mark.parametrize("typed", ["", "   ", " - # . "])
def test_refuses_empty_text(typed: str) -> None:
    assert parse_error(typed).reason == "empty"


@pytest.mark.parametrize("typed", ["IOE091234567", "IOE09123456789", "IOE"])
def test_refuses_a_wrong_length(typed: str) -> None:
    error = parse_error(typed)
    assert error.reason == "length"
    assert error.looks_like is None


@pytest.mark.parametrize(
    ("typed", "prefix", "digits"),
    [("wac 22 123 4567", "WAC", 9), ("IOE09123456789", "IOE", 11), ("lin-239-OOO-123", "LIN", 9)],
)
def test_counts_the_digits_after_a_known_prefix(typed: str, prefix: str, digits: int) -> None:
    error = parse_error(typed)
    assert (error.reason, error.prefix, error.digits) == ("length", prefix, digits)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("I0E0912345678", "IOE"),
        ("1OE0912345678", "IOE"),
        ("L1N2390001234", "LIN"),
        ("E4C0000000000", None),
    ],
)
def test_names_the_prefix_a_digit_typed_for_a_letter_hides(typed: str, meant: str | None) -> None:
    assert parse_error(typed).meant == meant


# --- recognising the numbers people confuse with it ------------------------------------------


@pytest.mark.parametrize(
    "typed", ["A123456789", "A12345678", "a-123-456-789", "A 123 456 789", "A#12345678"]
)
def test_recognises_an_a_number(typed: str) -> None:
    error = parse_error(typed)
    assert error.looks_like == "a_number"
    assert error.reason == "length"


@pytest.mark.parametrize("typed", ["123456789012", "1234-5678-9012"])
def test_recognises_an_online_account_number(typed: str) -> None:
    assert parse_error(typed).looks_like == "online_account_number"


@pytest.mark.parametrize("typed", ["AB12CD34EF56", "ab12-cd34-ef56"])
def test_recognises_an_online_access_code(typed: str) -> None:
    assert parse_error(typed).looks_like == "access_code"


def test_a_receipt_number_missing_a_digit_is_not_taken_for_an_access_code() -> None:
    assert parse_error("EAC219001234").looks_like is None


@pytest.mark.parametrize("typed", ["ABCDEFGHIJKL", "A1234567", "A1234567890", "12345678901"])
def test_does_not_guess_what_a_number_is_when_it_fits_nothing(typed: str) -> None:
    assert parse_error(typed).looks_like is None


# --- what the number tells ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "center"),
    [
        ("EAC2190012345", ServiceCenter.VERMONT),
        ("VSC2190012345", ServiceCenter.VERMONT),
        ("WAC2212345678", ServiceCenter.CALIFORNIA),
        ("LIN2390001234", ServiceCenter.NEBRASKA),
        ("SRC2390001234", ServiceCenter.TEXAS),
        ("MSC2091234567", ServiceCenter.NATIONAL_BENEFITS),
        ("YSC2390001234", ServiceCenter.POTOMAC),
        ("IOE0912345678", ServiceCenter.ELIS),
    ],
)
def test_names_the_service_center_by_code(text: str, center: ServiceCenter) -> None:
    assert ReceiptNumber.parse(text).service_center == center


def test_the_center_is_a_code_not_prose() -> None:
    assert ReceiptNumber.parse("EAC2190012345").service_center == "VSC"


def test_knows_a_number_filed_online() -> None:
    assert ReceiptNumber.parse("IOE0912345678").is_electronic
    assert not ReceiptNumber.parse("EAC2190012345").is_electronic


def test_reads_year_workday_and_sequence_of_a_legacy_number() -> None:
    receipt = ReceiptNumber.parse("WAC2212345678")
    assert (receipt.fiscal_year, receipt.workday, receipt.sequence) == (2022, 123, 45678)


def test_the_900_series_carries_no_workday() -> None:
    receipt = ReceiptNumber.parse("EAC2190012345")
    assert receipt.fiscal_year == 2021
    assert receipt.workday is None
    assert receipt.sequence == 12345


def test_reads_a_number_of_the_nineties() -> None:
    assert ReceiptNumber.parse("EAC9812345678").fiscal_year == 1998


def test_an_online_number_carries_no_legacy_structure() -> None:
    receipt = ReceiptNumber.parse("IOE0912345678")
    assert (receipt.fiscal_year, receipt.workday, receipt.sequence) == (None, None, None)


def test_masks_all_but_the_prefix_and_last_three_digits_for_logs() -> None:
    assert ReceiptNumber.parse("IOE0912345678").masked() == "IOE*******678"


def test_is_a_frozen_value() -> None:
    receipt = ReceiptNumber.parse("IOE0912345678")
    assert receipt == ReceiptNumber.parse("ioe-0912345678")
    assert hash(receipt) == hash(ReceiptNumber("IOE0912345678"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.value = "EAC2190012345"  # type: ignore[misc]


def test_refuses_a_non_canonical_value_built_directly() -> None:
    with pytest.raises(InvalidReceiptNumber):
        ReceiptNumber("ioe0912345678")


# --- finding one in a sentence ---------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "what is the status of IOE0912345678?",
        "my receipt number is ioe 0912 345 678 thanks",
        "¿Cuál es el estado de mi caso IOE-0912-345-678?",
        "我的收据号是IOE0912345678。",
        "Số biên nhận của tôi: ioe0912345678",
        "رقم الإيصال IOE0912345678 من فضلك",
        "case #IOE0912345678, please",
        "check IOEO9I2345678 for me",
    ],
)
def test_finds_a_receipt_number_inside_a_sentence(sentence: str) -> None:
    assert find_receipt_number(sentence) == ReceiptNumber("IOE0912345678")


def test_finds_a_legacy_number_with_spaces_after_the_prefix() -> None:
    assert str(find_receipt_number("it's eac 21 900 12345 I think")) == "EAC2190012345"


@pytest.mark.parametrize(
    "sentence",
    [
        "my A-number is A-123-456-789",
        "A123456789",
        "call me at +1 (800) 375-5283 or 1-800-767-1833",
        "my account number is 1234 5678 9012",
        "the code is AB12CD34EF56",
        "hello, I want to check my case",
        "EAC21900123456",  # 14 characters: not a receipt number, not a guess
        "peace2190012345",  # the prefix inside a word
        "the NSC lol oil ill illo",
        "",
    ],
)
def test_finds_nothing_where_there_is_no_receipt_number(sentence: str) -> None:
    assert find_receipt_number(sentence) is None


def test_finds_the_first_of_two_numbers() -> None:
    assert str(find_receipt_number("WAC2212345678 and IOE0912345678")) == "WAC2212345678"


# --- fuzzing ---------------------------------------------------------------------------------


@given(st.text())
@example("\ud800")  # a lone surrogate
@example("ﬃ" * 20)  # ligatures that NFKC turns into several letters
@example("A" * 10_000)
def test_parse_raises_nothing_but_invalid_receipt_number(text: str) -> None:
    error: InvalidReceiptNumber | None = None
    try:
        receipt = ReceiptNumber.parse(text)
    except InvalidReceiptNumber as raised:
        error = raised
    if error is None:
        assert ReceiptNumber.parse(str(receipt)) == receipt
    else:
        assert error.reason in {"empty", "length", "shape", "prefix"}
        assert error.looks_like in {None, "a_number", "online_account_number", "access_code"}


@given(st.text(alphabet=st.sampled_from("IOEACLNSW0123456789oil -#.")))
def test_parse_raises_nothing_else_on_receipt_like_noise(text: str) -> None:
    with contextlib.suppress(InvalidReceiptNumber):
        ReceiptNumber.parse(text)


@given(st.text())
def test_find_never_raises(text: str) -> None:
    found = find_receipt_number(text)
    assert found is None or isinstance(found, ReceiptNumber)


@given(st.sampled_from(sorted(PREFIXES)), st.from_regex(r"[0-9]{10}", fullmatch=True), st.text())
def test_find_recovers_a_number_after_any_words(prefix: str, digits: str, words: str) -> None:
    sentence = f"{words} {prefix.lower()}{digits} "
    found = find_receipt_number(sentence)
    assert found is not None
