"""Dates and times as each locale's speakers write them, where CLDR's data would read wrong."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from babel import Locale

from bot.wording.i18n import LOCALES, OWN_MONTHS, OWN_WEEKDAYS, translator

# A Wednesday in March, 14:30 UTC: 9:30 in New York (EST).
MOMENT = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
NEW_YORK = "America/New_York"


def _french_names() -> set[str]:
    french = Locale.parse("fr")
    names = set()
    for width in ("wide", "abbreviated"):
        names |= {str(n).strip(".") for n in french.months["format"][width].values()}
        names |= {str(n).strip(".") for n in french.days["format"][width].values()}
    return names - {"avril"}  # the same word in both languages


def test_haitian_creole_dates_use_haitian_creole_months_and_weekdays() -> None:
    t = translator("ht")
    assert t.date(date(2026, 3, 4), "full") == "mèkredi 4 mas 2026"
    assert t.datetime_in(MOMENT, NEW_YORK) == "mèkredi 4 mas 2026, 09:30 (EST)"
    french = _french_names()
    for month in range(1, 13):
        for fmt in ("full", "long", "medium"):
            shown = t.date(date(2026, month, 10), fmt)
            assert OWN_MONTHS["ht"][month - 1] in shown, shown
            assert not french & set(shown.replace(".", " ").split()), shown
    monday = date(2026, 3, 2)
    for offset, name in enumerate(OWN_WEEKDAYS["ht"]):
        assert t.date(monday + timedelta(days=offset), "full").startswith(f"{name} ")


def test_french_keeps_its_own_names() -> None:
    t = translator("fr")
    assert t.date(date(2026, 3, 4), "full") == "mercredi 4 mars 2026"
    assert "(HNE)" in t.datetime_in(MOMENT, NEW_YORK)


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
