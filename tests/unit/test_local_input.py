"""Typed answers read in the person's language: yes/no, digits of any script, weekday and month
names from CLDR, the locale's date order, local ways of writing a time."""

from __future__ import annotations

from datetime import date, time
from types import SimpleNamespace

import pytest

from bot.dialogs.appointments.booking import typed_day
from bot.wording.i18n import LOCALES, translator
from bot.wording.local_input import (
    NO,
    NO_WORDS,
    YES,
    YES_WORDS,
    ascii_digits,
    date_order,
    fold,
    local_day,
    local_time,
    weekday_name,
    weekday_names,
    yes_no,
)
from core.appointments.geography import normalize_zip
from core.cases.receipt import ReceiptNumber

MONDAY = date(2026, 3, 2)
MARCH_4 = date(2026, 3, 4)
APRIL_3 = date(2026, 4, 3)


@pytest.mark.parametrize(
    "word",
    ["yes", "Y", "ok", "si", "sí", "SÍ!", "oui", "Ouais", "wi", "sim", "да", "네", "예", "是",
     "好的", "có", "vâng", "oo", "opo", "sige", "نعم", "أجل", "yes please", "Sí, gracias",
     "oui merci", "네 감사합니다", "да, спасибо"],
)  # fmt: skip
def test_understands_yes_in_every_language(word: str) -> None:
    assert yes_no(word) == YES


@pytest.mark.parametrize(
    "word",
    ["no", "N", "nope", "non", "não", "nao", "нет", "아니요", "아니", "不", "不是", "không",
     "khong", "hindi", "لا", "no thanks", "non merci", "Not now"],
)  # fmt: skip
def test_understands_no_in_every_language(word: str) -> None:
    assert yes_no(word) == NO


@pytest.mark.parametrize("text", ["", "maybe", "yes no", "sí pero no", "WAC2212345678", "?"])
def test_neither_yes_nor_no_is_not_guessed(text: str) -> None:
    assert yes_no(text) is None


def test_no_word_is_yes_in_one_language_and_no_in_another() -> None:
    assert not YES_WORDS & NO_WORDS


def test_digits_of_every_script_are_read_as_ascii() -> None:
    assert ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"  # Arabic-Indic
    assert ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"  # Persian
    assert ascii_digits("０１２３") == "0123"  # full-width
    assert fold("ÉCOLE  Ｍercredi") == "ecole mercredi"


def test_receipt_numbers_and_zip_codes_take_any_scripts_digits() -> None:
    assert str(ReceiptNumber.parse("WAC٢٢١٢٣٤٥٦٧٨")) == "WAC2212345678"
    assert str(ReceiptNumber.parse("WAC۲۲۱۲۳۴۵۶۷۸")) == "WAC2212345678"
    assert normalize_zip("٨٥٠٠٤") == "85004"
    assert normalize_zip("８５００４") == "85004"


@pytest.mark.parametrize(
    ("locale", "order"),
    [("en", "mdy"), ("tl", "mdy"), ("es", "dmy"), ("fr", "dmy"), ("pt", "dmy"), ("ru", "dmy"),
     ("vi", "dmy"), ("ar", "dmy"), ("ht", "dmy"), ("zh", "ymd"), ("ko", "ymd")],
)  # fmt: skip
def test_the_date_order_is_the_one_the_locale_shows(locale: str, order: str) -> None:
    assert date_order(locale) == order


@pytest.mark.parametrize("locale", LOCALES)
def test_reads_back_the_short_dates_the_assistant_shows_in_each_locale(locale: str) -> None:
    # March 4 and April 3 both exist: only the order the date is shown in reads it right.
    t = translator(locale)
    for day in (MARCH_4, APRIL_3):
        shown = t.date(day, "short")
        assert local_day(shown, MONDAY, locale) == day, shown


# The same ambiguous "4/3" is March 4 where the day comes first and April 3 in US order.
@pytest.mark.parametrize(
    ("locale", "text", "expected"),
    [
        ("en", "4/3", APRIL_3), ("en", "3/4/2026", MARCH_4), ("en", "3/4/26", MARCH_4),
        ("tl", "3/4", MARCH_4), ("es", "4/3", MARCH_4), ("es", "4/3/2026", MARCH_4),
        ("fr", "04/03/2026", MARCH_4), ("fr", "04/03", MARCH_4), ("ht", "04/03/2026", MARCH_4),
        ("pt", "04/03/2026", MARCH_4), ("ru", "04.03.2026", MARCH_4), ("ru", "4.3", MARCH_4),
        ("vi", "4/3/2026", MARCH_4), ("ar", "4/3/2026", MARCH_4), ("ar", "٤/٣/٢٠٢٦", MARCH_4),
        ("ar", "4\u200f/3\u200f/2026", MARCH_4), ("zh", "2026/3/4", MARCH_4),
        ("zh", "3/4", MARCH_4), ("ko", "26. 3. 4.", MARCH_4), ("ko", "2026. 3. 4.", MARCH_4),
        ("en", "2026-03-04", MARCH_4), ("fr", "2026-03-04", MARCH_4), ("en", "３/４", MARCH_4),
    ],
)  # fmt: skip
def test_reads_numeric_dates_in_the_locales_order(locale: str, text: str, expected: date) -> None:
    assert local_day(text, MONDAY, locale) == expected


@pytest.mark.parametrize(("locale", "text"), [("en", "13/3"), ("es", "3/13")])
def test_a_date_impossible_in_the_locales_order_is_read_the_other_way(
    locale: str, text: str
) -> None:
    assert local_day(text, MONDAY, locale) == date(2026, 3, 13)


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "March 4"), ("en", "4 March"), ("en", "March 4th"), ("es", "4 de marzo"),
        ("es", "miércoles 4 de marzo"), ("fr", "4 mars"), ("fr", "le 4 mars 2026"),
        ("pt", "4 de março"), ("pt", "4 de marco"), ("ru", "4 марта"),
        ("ru", "4 марта 2026 г."), ("vi", "ngày 4 tháng 3"), ("vi", "4 tháng 3, 2026"),
        ("tl", "Marso 4"), ("tl", "ika-4 ng Marso"), ("ht", "4 mas"), ("ar", "4 مارس"),
        ("zh", "3月4日"), ("zh", "2026年3月4日"), ("zh", "３月４日"), ("ko", "3월 4일"),
        ("ko", "2026년 3월 4일"), ("ko", "3월 4일 수요일"),
    ],
)  # fmt: skip
def test_reads_dates_with_the_locales_month_names(locale: str, text: str) -> None:
    assert local_day(text, MONDAY, locale) == MARCH_4


@pytest.mark.parametrize("locale", LOCALES)
def test_reads_every_cldr_weekday_name_of_the_locale_wide_and_abbreviated(locale: str) -> None:
    babel = translator(locale).babel_locale
    for width in ("wide", "abbreviated"):
        name = str(babel.days["format"][width][2])  # Wednesday
        for typed in (name, name.upper(), name.lower()):
            assert local_day(typed, MONDAY, locale) == MARCH_4, (width, typed)


@pytest.mark.parametrize(
    ("locale", "text"),
    [("es", "miercoles"), ("es", "MIÉRCOLES"), ("fr", "mer."), ("pt", "quarta"),
     ("vi", "thứ tư"), ("vi", "thu 4"), ("ht", "mèkredi"), ("ht", "mekredi"), ("zh", "周三"),
     ("zh", "礼拜三"), ("ar", "الاربعاء"), ("ko", "수요일"), ("en", "wed"), ("ru", "Wednesday")],
)  # fmt: skip
def test_reads_weekdays_without_accents_and_in_english_too(locale: str, text: str) -> None:
    assert local_day(text, MONDAY, locale) == MARCH_4


def test_weekday_tables_of_different_locales_stay_apart() -> None:
    # Babel resolves CLDR aliases into shared data: one locale must not leak into another.
    assert "mercredi" not in weekday_names("ko")
    assert "수요일" not in weekday_names("fr")


def test_relative_words_come_in_the_persons_language() -> None:
    assert local_day("Mañana", MONDAY, "es", relative={"mañana": 1}) == date(2026, 3, 3)


@pytest.mark.parametrize(
    ("locale", "text", "reason"),
    [("fr", "01/03/2026", "past"), ("en", "2/30/2026", "no such date"),
     ("fr", "31/02", "no such date"), ("es", "algún día", "not a date"),
     ("zh", "2026/3", "not a date"), ("en", "2026-12-01", "too far")],
)  # fmt: skip
def test_refuses_what_is_no_day_to_book(locale: str, text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        local_day(text, MONDAY, locale)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9:30", time(9, 30)), ("9h30", time(9, 30)), ("14h", time(14, 0)),
        ("à 14h", time(14, 0)), ("9 heures et demie", time(9, 30)), ("a las 9", time(9, 0)),
        ("9 giờ 30", time(9, 30)), ("9:30 SA", time(9, 30)), ("2:00 CH", time(14, 0)),
        ("上午9点", time(9, 0)), ("下午2点半", time(14, 30)), ("9点30分", time(9, 30)),
        ("오전 9시", time(9, 0)), ("오후 2시 30분", time(14, 30)), ("오전 9:30", time(9, 30)),
        ("9:30 م", time(21, 30)), ("٩:٣٠ ص", time(9, 30)), ("9 утра", time(9, 0)),
        ("2 часа дня", time(14, 0)), ("１４：３０", time(14, 30)), ("9:30 AM", time(9, 30)),
        ("9:30\u202fAM", time(9, 30)), ("2 pm", time(14, 0)), ("9a", time(9, 0)),
        ("3", time(15, 0)),
    ],
)  # fmt: skip
def test_reads_local_ways_of_writing_a_time(text: str, expected: time) -> None:
    assert local_time(text) == expected


@pytest.mark.parametrize("locale", LOCALES)
def test_reads_back_the_times_the_assistant_shows_in_each_locale(locale: str) -> None:
    from datetime import UTC, datetime

    t = translator(locale)
    for hour, minute in ((9, 30), (14, 0)):
        shown = t.time_in(datetime(2026, 3, 4, hour + 7, minute, tzinfo=UTC), "America/Phoenix")
        assert local_time(shown) == time(hour, minute), shown


@pytest.mark.parametrize("text", ["soon", "25:00", "9:75", "13 pm", "下午", "midi et quart"])
def test_refuses_what_is_no_time(text: str) -> None:
    with pytest.raises(ValueError, match="not a time"):
        local_time(text)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_day_examples_the_booking_shows_are_understood(locale: str) -> None:
    """The day step's example is a day with free times, written as the person may type it:
    its date and its weekday read back as that day."""
    person = SimpleNamespace(locale=locale)
    assert local_day(typed_day(person, MARCH_4), MONDAY, locale) == MARCH_4  # type: ignore[arg-type]
    assert local_day(weekday_name(locale, MARCH_4), MONDAY, locale) == MARCH_4
    assert local_time(translator(locale)._("9:30 AM")) == time(9, 30)
