"""Dates and times as each locale's speakers write them, where CLDR's data would read wrong."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import get_timezone_name

from bot.wording.i18n import LOCALES, OWN_MONTHS, OWN_WEEKDAYS, translator

# A Wednesday in March, 14:30 UTC: 9:30 in New York (EST).
MOMENT = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
NEW_YORK = "America/New_York"


def _words(shown: str) -> list[str]:
    return shown.replace(",", " ").split()


@pytest.mark.parametrize("month", range(1, 13))
def test_haitian_creole_shows_day_before_month_in_haitian_creole_words(month: int) -> None:
    t = translator("ht")
    day = date(2026, month, 24)  # 24 can be no month
    creole_month = OWN_MONTHS["ht"][month - 1]
    for fmt in ("full", "long", "medium"):
        words = _words(t.date(day, fmt))
        # Nothing but the day, the Creole month, the year and (in full) the Creole weekday: no
        # French, English or CLDR placeholder ("M03") word.
        assert set(words) - {"24", creole_month, "2026"} <= set(OWN_WEEKDAYS["ht"]), words
        assert words.index("24") < words.index(creole_month) < words.index("2026"), words
    numbers = [int(n) for n in re.findall(r"\d+", t.date(day, "short"))]
    assert numbers[:2] == [24, month], t.date(day, "short")


def test_haitian_creole_full_dates_start_with_the_creole_weekday() -> None:
    t = translator("ht")
    monday = date(2026, 3, 2)
    for offset, name in enumerate(OWN_WEEKDAYS["ht"]):
        assert _words(t.date(monday + timedelta(days=offset), "full"))[0] == name


def test_haitian_creole_times_use_a_24_hour_clock_and_the_us_zone_abbreviations() -> None:
    t = translator("ht")
    afternoon = MOMENT.replace(hour=19)  # 14:30 in New York
    assert t.time_in(afternoon, NEW_YORK) == "14:30"
    shown = t.datetime_in(MOMENT, NEW_YORK)
    assert shown.startswith(t.date(MOMENT.date(), "full"))
    assert t.time_in(MOMENT, NEW_YORK) in shown
    assert shown.endswith("(EST)")
    summer = MOMENT.replace(month=7)
    assert t.datetime_in(summer, NEW_YORK).endswith("(EDT)")


def test_french_shows_french_dates_day_before_month() -> None:
    t = translator("fr")
    words = _words(t.date(date(2026, 3, 4), "full"))
    assert words[0] == "mercredi"
    assert words.index("4") < words.index("mars") < words.index("2026"), words
    numbers = [int(n) for n in re.findall(r"\d+", t.date(date(2026, 3, 24), "short"))]
    assert numbers[:2] == [24, 3]


@pytest.mark.parametrize("month", [3, 7])  # standard and daylight time
def test_the_short_zone_name_of_french_is_north_american_frenchs_own(month: int) -> None:
    moment = MOMENT.replace(month=month)
    shown = translator("fr").zone_name(moment, NEW_YORK)
    local = moment.astimezone(ZoneInfo(NEW_YORK))
    assert shown == get_timezone_name(local, width="short", locale=Locale.parse("fr_CA"))
    # An abbreviation ("HNE"), neither a long name, an offset nor English's "EST".
    assert shown.isalpha(), shown
    assert shown.isupper(), shown
    assert shown != translator("en").zone_name(moment, NEW_YORK)
    assert translator("fr").datetime_in(moment, NEW_YORK).endswith(f"({shown})")


@pytest.mark.parametrize(
    ("utc_hour", "shown"), [(14, "오전 9:30"), (19, "오후 2:30"), (4, "오후 11:30")]
)
def test_korean_times_say_ojeon_and_ohu_not_am_and_pm(utc_hour: int, shown: str) -> None:
    t = translator("ko")
    moment = MOMENT.replace(hour=utc_hour)
    assert t.time_in(moment, NEW_YORK) == shown
    assert "AM" not in t.datetime_in(moment, NEW_YORK)
    assert "PM" not in t.datetime_in(moment, NEW_YORK)


@pytest.mark.parametrize("locale", LOCALES)
def test_no_locale_but_english_and_tagalog_shows_latin_am_or_pm(locale: str) -> None:
    t = translator(locale)
    shown = t.time_in(MOMENT.replace(hour=19), NEW_YORK) + t.datetime_in(MOMENT, NEW_YORK)
    if locale in ("en", "tl"):
        assert "PM" in shown
    else:
        assert "AM" not in shown
        assert "PM" not in shown


# 14:30 in New York (19:30 UTC), and 9:05 in the morning: each locale's clock, as the README's
# design notes decide it from CLDR's US time data (12-hour where the language writes it with its
# own day periods; 24-hour for Russian, French, Portuguese and Haitian Creole).
CLOCKS = {
    "en": ("2:30\u202fPM", "9:05\u202fAM"),
    "es": ("2:30\u202fp.m.", "9:05\u202fa.m."),
    "zh": ("下午2:30", "上午9:05"),
    "vi": ("2:30\u202fCH", "9:05\u202fSA"),
    "tl": ("2:30\u202fPM", "9:05\u202fAM"),
    "ko": ("오후 2:30", "오전 9:05"),
    "ar": ("2:30 م", "9:05 ص"),
    "fr": ("14:30", "09:05"),
    "ht": ("14:30", "09:05"),
    "pt": ("14:30", "09:05"),
    "ru": ("14:30", "09:05"),
}


def test_every_locale_has_its_clock_decided() -> None:
    assert set(CLOCKS) == set(LOCALES)


@pytest.mark.parametrize("locale", sorted(CLOCKS))
def test_each_locale_shows_the_time_on_its_decided_clock(locale: str) -> None:
    t = translator(locale)
    afternoon, morning = CLOCKS[locale]
    assert t.time_in(datetime(2026, 3, 4, 19, 30, tzinfo=UTC), NEW_YORK) == afternoon
    assert t.time_in(datetime(2026, 3, 4, 14, 5, tzinfo=UTC), NEW_YORK) == morning
    assert afternoon in t.datetime_in(datetime(2026, 3, 4, 19, 30, tzinfo=UTC), NEW_YORK)
