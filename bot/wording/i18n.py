"""Translations (gettext catalogs under ``bot/locales/``) and locale-aware formatting (Babel).

Every user-visible string is a msgid marked with ``_()`` (or ``ngettext``) on a Translator, so
Babel's extractor finds it; the conversation's language picks the catalog at render time.

The catalogs travel inside the package: a wheel or sdist build compiles every ``.po`` into the
``.mo`` that gettext reads (``setup.py``), and ``make`` does the same in a source tree. A locale
whose compiled catalog is missing or unreadable is an error (``CatalogError``), never a silent
fall back to English: an applicant who chose Spanish must not be answered in English.
"""

from __future__ import annotations

import gettext
import re
import struct
from collections.abc import Mapping
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
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
    "CatalogError",
    "Translator",
    "check_catalogs",
    "dates_locale",
    "normalize_locale",
    "translator",
]

# Inside the ``bot`` package wherever this module sits in it, in a source tree and installed.
LOCALES_DIR: Final = Path(str(resources.files("bot"))) / "locales"
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
# Where CLDR's data reads wrong to a locale's speakers, our own choice replaces it:
# - CLDR's "ht" is a seed with no date data of its own: months "M03", English weekdays, dates
#   year first ("2026 M03 4, Wed"). Haitian Creole is written, in Haiti and by Haitians in the
#   US, with the dates of Haiti's French: day before month ("mèkredi 4 mas 2026", "04/03/2026",
#   as the catalog's own examples teach) and a 24-hour clock. So its dates and times take the
#   patterns of Haiti's French ("fr_HT"), the same order is read in typed dates
#   (bot/wording/local_input.py), and its months and weekdays are replaced by Haitian Creole's;
_DATES_FROM: Final = {"ht": "fr_HT"}
OWN_MONTHS: Final[Mapping[str, tuple[str, ...]]] = {
    "ht": ("janvye", "fevriye", "mas", "avril", "me", "jen", "jiyè", "out", "septanm",
           "oktòb", "novanm", "desanm"),
}  # fmt: skip
OWN_WEEKDAYS: Final[Mapping[str, tuple[str, ...]]] = {  # Monday first, as CLDR's indexes
    "ht": ("lendi", "madi", "mèkredi", "jedi", "vandredi", "samdi", "dimanch"),
}
# - Haitian Creole readers in the US get the US zone abbreviations ("EST"), as on every notice
#   they receive (CLDR's "ht" has only "-0500");
# - since Babel 2.19, CLDR's "fr" names the US zones only at length ("heure normale de l’Est
#   nord-américain"): French keeps the short French names it showed before ("HNE", "HAP"),
#   those of Canada's French, the French written on this continent, short as English's "EST";
_ZONE_NAMES_FROM: Final = {"ht": "en", "fr": "fr_CA"}
# - CLDR's short Korean time has the abbreviated day period ("AM 9:30"); Korean writes the wide
#   one ("오전 9:30"), as the catalog's own examples do.
_SHORT_TIME: Final = {"ko": "aaaa h:mm"}
# - The clock: CLDR's time data for the US region prefers the 12-hour clock ("h"; it allows
#   "H" too), and the appointment notices people compare with are in 12-hour time. Spanish
#   has a US locale in CLDR, es_US, whose short time is "h:mm a" ("2:30 p.m."): its times
#   come from there. Chinese and Vietnamese have none; their own CLDR data gives a 12-hour
#   form with their own day periods ("下午2:30", "2:30 CH"), used here. Korean, Filipino and
#   Arabic are 12-hour in CLDR already. Russian, French and Portuguese keep CLDR's 24-hour
#   time: their 12-hour forms carry English "AM"/"PM", and a 24-hour time cannot be misread;
#   Haitian Creole keeps Haiti's French clock (above).
_TIME_FROM: Final = {"es": "es_US"}
_TWELVE_HOUR: Final = frozenset({"zh", "vi"})
RTL_LOCALES: Final = frozenset({"ar"})
MAX_KEPT_DATES: Final = 4096


class CatalogError(RuntimeError):
    """A locale's compiled catalog is missing or unreadable.

    Attributes:
        locale: the locale whose catalog could not be read.
        path: where it was looked for.
    """

    def __init__(self, locale: str, path: Path, reason: str) -> None:
        super().__init__(
            f"the {LANGUAGE_NAMES.get(locale, locale)} ({locale}) catalog {path} is missing or "
            f"unreadable ({reason}): in a source tree run `make catalogs`; an installed casebot "
            "must be reinstalled from a wheel built with its catalogs"
        )
        self.locale = locale
        self.path = path


def catalog_path(locale: str) -> Path:
    """Where the compiled catalog of a locale is read from."""
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"


def _load_catalog(locale: str) -> gettext.GNUTranslations:
    path = catalog_path(locale)
    try:
        with path.open("rb") as f:
            return gettext.GNUTranslations(f)
    except FileNotFoundError:
        raise CatalogError(locale, path, "no such file") from None
    # gettext reports a bad file as OSError ("Bad magic number"), a cut one as struct.error,
    # bad headers or text as ValueError (UnicodeDecodeError among them) or LookupError.
    except (OSError, struct.error, ValueError, LookupError) as exc:
        raise CatalogError(locale, path, str(exc) or type(exc).__name__) from exc


def check_catalogs() -> None:
    """Read every locale's catalog once, as start-up does before serving anyone.

    Raises:
        CatalogError: for the first locale whose catalog is missing or unreadable.
    """
    for locale in LOCALES:
        translator(locale)


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


def dates_locale(locale: str) -> Locale:
    """The Babel locale whose patterns and names a supported locale's dates and times are
    shown with, and typed dates read with (Haiti's French for Haitian Creole, see above)."""
    code = locale if locale in LOCALES else DEFAULT_LOCALE
    return Locale.parse(_DATES_FROM.get(code, BABEL_LOCALE.get(code, code)))


class Translator:
    """Translations and formatting for one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self._catalog = _load_catalog(self.locale)
        self.babel_locale = dates_locale(self.locale)
        self.rtl = self.locale in RTL_LOCALES
        self._zone_locale = Locale.parse(_ZONE_NAMES_FROM.get(self.locale, self.babel_locale))
        self._time_locale = Locale.parse(_TIME_FROM.get(self.locale, self.babel_locale))
        self._short_time = _SHORT_TIME.get(self.locale) or (
            str(self.babel_locale.datetime_skeletons["hm"])
            if self.locale in _TWELVE_HOUR
            else "short"
        )
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
        """The local time of day, short ("9:30 AM", "9:30 a.m.", "上午9:30", "09:30")."""
        tz = ZoneInfo(zone)
        return format_time(value, format=self._short_time, tzinfo=tz, locale=self._time_locale)

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
