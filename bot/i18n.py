"""Translations (gettext catalogs under ``locales/``) and locale-aware formatting (Babel).

Every user-visible string is a msgid marked with ``_()`` (or ``ngettext``) on a Translator, so
Babel's extractor finds it; the conversation's language picks the catalog at render time.
"""

from __future__ import annotations

import gettext
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
    "Translator",
    "normalize_locale",
    "translator",
]

LOCALES_DIR: Final = Path(__file__).resolve().parent.parent / "locales"
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
            found = self._dates[key] = format_date(value, format=fmt, locale=self.babel_locale)
        return found

    def datetime_in(self, value: datetime, zone: str, fmt: str = "full") -> str:
        """A UTC moment as local time in ``zone``, with the zone named."""
        tz = ZoneInfo(zone)
        if fmt == "full":
            day = format_date(value.astimezone(tz), format="full", locale=self.babel_locale)
            hour = format_time(value, format="short", tzinfo=tz, locale=self.babel_locale)
            # The locale's own glue of a date and a time ("{1}, {0}"; "{1} {0}" in Chinese,
            # "{0} {1}" in Vietnamese, an Arabic comma in Arabic).
            glue = str(self.babel_locale.datetime_formats.get("full", "{1}, {0}"))
            when = glue.replace("{1}", day).replace("{0}", hour).replace("'", "")
            return f"{when} ({self.zone_name(value, zone)})"
        return format_datetime(value, format=fmt, tzinfo=tz, locale=self.babel_locale)

    def zone_name(self, value: datetime, zone: str) -> str:
        """The zone's name at that moment: "EST" where the locale has an abbreviation, else
        its long name ("hora estándar del este")."""
        local = value.astimezone(ZoneInfo(zone))
        short = get_timezone_name(local, width="short", locale=self.babel_locale)
        if short[:1] in "+-" or short.startswith(("GMT", "UTC")):
            return get_timezone_name(local, width="long", locale=self.babel_locale)
        return short

    def time_in(self, value: datetime, zone: str) -> str:
        return format_time(value, format="short", tzinfo=ZoneInfo(zone), locale=self.babel_locale)


@lru_cache(maxsize=len(LOCALES))
def translator(locale: str) -> Translator:
    """The (cached) translator of a supported locale; English for anything else."""
    return Translator(normalize_locale(locale) or DEFAULT_LOCALE)
