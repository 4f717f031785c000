"""Translations (gettext catalogs under ``locales/``) and locale-aware formatting (Babel).

Every user-visible string is a msgid marked with ``_()`` (or ``ngettext``) on a Translator, so
Babel's extractor finds it; the conversation's language picks the catalog at render time.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_timezone_name

__all__ = [
    "DEFAULT_LOCALE",
    "LANGUAGE_NAMES",
    "LOCALES",
    "LOCALES_DIR",
    "N_",
    "OWN_MONTHS",
    "OWN_WEEKDAYS",
    "Translator",
    "normalize_locale",
    "translator",
]

LOCALES_DIR: Final = Path(__file__).resolve().parents[2] / "locales"
DOMAIN: Final = "casebot"
DEFAULT_LOCALE: Final = "en"
# English, Spanish, Simplified Chinese, Vietnamese, Tagalog, Korean, Arabic, French, Haitian
# Creole, Portuguese, Russian.
LOCALES: Final = ("en", "es", "zh", "vi", "tl", "ko", "ar", "fr", "ht", "pt", "ru")
LANGUAGE_NAMES: Final = {
    "en": "English",
    "es": "Español",
    "zh": "中文",
    "vi": "Tiếng Việt",
    "tl": "Tagalog",
    "ko": "한국어",
    "ar": "العربية",
    "fr": "Français",
    "ht": "Kreyòl ayisyen",
    "pt": "Português",
    "ru": "Русский",
}
_ALIASES: Final = {"fil": "tl", "zh-hans": "zh", "zh-cn": "zh", "zh-sg": "zh", "pt-br": "pt"}
BABEL_LOCALE: Final = {"zh": "zh_Hans", "tl": "fil"}  # CLDR has no "tl" data; Filipino is it
# Where CLDR's data reads wrong to a locale's speakers, our own words replace it:
# - Babel's "ht" data is French's: its months and weekdays ("mercredi 4 mars") are replaced by
#   Haitian Creole's in every formatted date (and read in typed dates, bot/wording/local_input.py);
OWN_MONTHS: Final[Mapping[str, tuple[str, ...]]] = {
    "ht": ("janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm",
           "oktòb", "novanm", "desanm"),
}  # fmt: skip
OWN_WEEKDAYS: Final[Mapping[str, tuple[str, ...]]] = {  # Monday first, as CLDR's indexes
    "ht": ("lendi", "madi", "mèkredi", "jedi", "vandredi", "samdi", "dimanch"),
}
# - its time zone names too ("HNE"): Haitian Creole readers in the US get the US abbreviations
#   ("EST"), as on every notice they receive;
_ZONE_NAMES_FROM: Final = {"ht": "en"}
# - CLDR's short Korean time has the abbreviated day period ("AM 9:30"); Korean writes the wide
#   one ("오전 9:30"), as the catalog's own examples do.
_SHORT_TIME: Final = {"ko": "aaaa h:mm"}
RTL_LOCALES: Final = frozenset({"ar"})
MAX_KEPT_DATES: Final = 4096


def N_(message: str) -> str:
    """Mark a msgid for extraction without translating it now."""
    return message


def normalize_locale(tag: str | None) -> str | None:
    """The supported locale for a language tag (``es-MX`` -> ``es``), or None."""
    if not tag:
        return None
    tag = tag.strip().replace("_", "-").lower()
    if tag in _ALIASES:
        return _ALIASES[tag]
    base = tag.split("-")[0]
    base = _ALIASES.get(base, base)
    return base if base in LOCALES else None


class Translator:
    """Translations and formatting for one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._catalog = gettext.translation(
            DOMAIN, localedir=LOCALES_DIR, languages=[self.locale], fallback=True
        )
        self.babel_locale = Locale.parse(BABEL_LOCALE.get(self.locale, self.locale))
        self.rtl = self.locale in RTL_LOCALES
        self._zone_locale = Locale.parse(_ZONE_NAMES_FROM.get(self.locale, self.babel_locale))
        self._short_time = _SHORT_TIME.get(self.locale, "short")
        self._own_names = _own_names(self.locale, self.babel_locale)
        # Formatted days, kept: every case shown formats its few dates again, and Babel's
        # formatting costs more than the rest of the text.
        self._dates: dict[tuple[date, str], str] = {}

    def _(self, message: str) -> str:
        """The translation of a msgid."""
        return self._catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog.ngettext(singular, plural, n)

    def date(self, value: date, fmt: str = "long") -> str:
        key = (value, fmt)
        found = self._dates.get(key)
        if found is None:
            if len(self._dates) >= MAX_KEPT_DATES:
                self._dates.clear()
            found = format_date(value, format=fmt, locale=self.babel_locale)
            found = self._dates[key] = self._named(found)
        return found

    def datetime_in(self, value: datetime, zone: str, fmt: str = "full") -> str:
        """A UTC moment as local time in ``zone``, with the zone named."""
        tz = ZoneInfo(zone)
        if fmt == "full":
            day = self.date(value.astimezone(tz).date(), "full")
            hour = self.time_in(value, zone)
            # The locale's own glue of a date and a time ("{1}, {0}"; "{1} {0}" in Chinese,
            # "{0} {1}" in Vietnamese, an Arabic comma in Arabic).
            glue = str(self.babel_locale.datetime_formats.get("full", "{1}, {0}"))
            when = glue.replace("{1}", day).replace("{0}", hour).replace("'", "")
            return f"{when} ({self.zone_name(value, zone)})"
        return self._named(format_datetime(value, format=fmt, tzinfo=tz, locale=self.babel_locale))

    def zone_name(self, value: datetime, zone: str) -> str:
        """The zone's name at that moment: "EST" where the locale has an abbreviation, else
        its long name ("hora estándar del este")."""
        local = value.astimezone(ZoneInfo(zone))
        short = get_timezone_name(local, width="short", locale=self._zone_locale)
        if short[:1] in "+-" or short.startswith(("GMT", "UTC")):
            return get_timezone_name(local, width="long", locale=self._zone_locale)
        return short

    def time_in(self, value: datetime, zone: str) -> str:
        """The local time of day, short ("9:30 AM", "09:30", "오전 9:30")."""
        tz = ZoneInfo(zone)
        return format_time(value, format=self._short_time, tzinfo=tz, locale=self.babel_locale)

    def _named(self, formatted: str) -> str:
        """A formatted date with the locale's own month and weekday names, where it has them."""
        if self._own_names is None:
            return formatted
        pattern, names = self._own_names
        return pattern.sub(lambda match: names[match.group(0)], formatted)


def _own_names(locale: str, babel: Locale) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """CLDR's month and weekday names (wide and abbreviated) -> the locale's own, and a pattern
    that finds them as whole words; None where CLDR's are the locale's."""
    months, weekdays = OWN_MONTHS.get(locale), OWN_WEEKDAYS.get(locale)
    if months is None and weekdays is None:
        return None
    names: dict[str, str] = {}
    for width in ("wide", "abbreviated"):
        if months is not None:
            for number, name in babel.months["format"][width].items():
                names[str(name)] = months[number - 1]
        if weekdays is not None:
            for index, name in babel.days["format"][width].items():
                names[str(name)] = weekdays[index]
    words = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)"), names


@lru_cache(maxsize=len(LOCALES))
def translator(locale: str) -> Translator:
    """The (cached) translator of a supported locale; English for anything else."""
    return Translator(normalize_locale(locale) or DEFAULT_LOCALE)
