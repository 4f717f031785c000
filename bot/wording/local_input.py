"""What people type, read in their own language: yes and no, digits of any script, weekday
and month names, the locale's date order and its ways of writing a time.

The words come from CLDR through Babel wherever CLDR has them (weekdays, months, the order of
a short date, AM/PM markers), so they match what the assistant itself shows in that language;
the few tables here hold what CLDR does not carry (yes/no words, Haitian Creole names, the
hour markers people type such as "9h30" or "上午9点"). Matching is case- and accent-blind:
"si" is "sí", "mercredi" is "Mercredi", "có" is "co".

Plain functions with no session and no translation: each raises ``ValueError`` (from
:mod:`bot.dialogs.appointments.inputs`) or returns None, and the dialogs word the reason.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date, time
from functools import lru_cache
from typing import Final, Literal

from babel import Locale

from bot.dialogs.appointments.inputs import (
    ENGLISH_MONTHS,
    ENGLISH_WEEKDAYS,
    parse_day,
    parse_time,
)
from bot.wording.i18n import LOCALES, OWN_MONTHS, OWN_WEEKDAYS, dates_locale

__all__ = [
    "NO",
    "NO_WORDS",
    "YES",
    "YES_WORDS",
    "ascii_digits",
    "date_order",
    "fold",
    "local_day",
    "local_time",
    "month_names",
    "weekday_name",
    "weekday_names",
    "yes_no",
]

YES: Final = "yes"
NO: Final = "no"
Order = Literal["mdy", "dmy", "ymd"]

# Folded forms (see fold(): lower case, no accents), so "sí", "Si" and "SÍ" are all "si".
# Every language's words are understood in every conversation: a person who chose English
# may still answer "sí"; no word is yes in one language and no in another (a test holds it).
_YES_WORDS: Final = {
    "en": ("yes", "y", "yeah", "yep", "yup", "ok", "okay", "sure", "correct", "right"),
    "es": ("si", "claro", "vale", "de acuerdo", "correcto", "por supuesto", "dale"),
    "zh": ("是", "是的", "对", "对的", "好", "好的", "嗯", "行", "可以", "确认", "對", "確認"),
    "vi": ("co", "vang", "da", "u", "dong y", "duoc", "phai", "dung", "dung roi", "xac nhan"),
    "tl": ("oo", "opo", "oho", "sige", "tama", "sige po", "oo naman"),
    "ko": ("네", "예", "응", "그래", "좋아요", "좋아", "맞아요", "맞아", "확인"),
    "ar": ("نعم", "اجل", "ايوه", "ايوا", "اكيد", "موافق", "حسنا", "تمام", "بلي"),
    "fr": ("oui", "ouais", "d'accord", "dac", "bien sur", "exact", "confirmer"),
    "ht": ("wi", "wi wi", "dako", "se sa"),
    "pt": ("sim", "claro", "certo", "pode", "isso", "com certeza", "confirmar"),
    "ru": ("да", "ага", "угу", "конечно", "хорошо", "верно", "подтверждаю", "da"),
}
_NO_WORDS: Final = {
    "en": ("no", "n", "nope", "nah", "not now"),
    "es": ("no", "ahora no", "todavia no"),
    "zh": ("不", "不是", "不要", "不用", "否", "没有", "不对", "不行", "不了"),
    "vi": ("khong", "ko", "khong phai", "chua"),
    "tl": ("hindi", "hindi po", "ayaw", "ayoko", "huwag", "wag"),
    "ko": ("아니요", "아니오", "아니", "아뇨", "싫어요", "안돼요"),
    "ar": ("لا", "كلا", "لأ"),
    "fr": ("non", "pas maintenant", "non merci"),
    "ht": ("non", "pa kounye a", "non mesi"),
    "pt": ("nao", "agora nao", "nao obrigado"),
    "ru": ("нет", "не", "неа", "не надо", "net"),
}
# Said with a yes or a no without changing it ("yes please", "sí, gracias", "네 감사합니다").
_POLITE_WORDS: Final = (
    "please", "thanks", "thank", "you", "por", "favor", "gracias", "谢谢", "请", "ạ", "vui",
    "long", "cam", "on", "po", "salamat", "감사합니다", "요", "شكرا", "من", "فضلك", "merci",
    "s'il", "vous", "plait", "mesi", "tanpri", "obrigado", "obrigada", "спасибо", "пожалуйста",
)  # fmt: skip

# Names people type that CLDR lacks: Haitian Creole's own (its dates are Haiti's French, whose
# names are read too), Vietnamese weekday numbers, Portuguese short weekdays, "礼拜三".
_EXTRA_WEEKDAYS: Final[Mapping[str, tuple[str, ...]]] = {
    **OWN_WEEKDAYS,  # Haitian Creole's, as bot/i18n.py shows them
    "vi": ("thứ 2", "thứ 3", "thứ 4", "thứ 5", "thứ 6", "thứ 7", "chủ nhật"),
    # Portuguese speakers drop "-feira" ("quarta"); CLDR has only the long names.
    "pt": ("segunda", "terça", "quarta", "quinta", "sexta", "sábado", "domingo"),
    "zh": ("礼拜一", "礼拜二", "礼拜三", "礼拜四", "礼拜五", "礼拜六", "礼拜天"),
}
_EXTRA_MONTHS: Final[Mapping[str, tuple[str, ...]]] = OWN_MONTHS

_ARABIC_LETTERS: Final = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ـ": None})
_PUNCTUATION: Final = " \t\r\n.,!?¿¡;:，。！？、،؟…\"'«»“”()"


def ascii_digits(text: str) -> str:
    """Every decimal digit of any script as its ASCII digit: Arabic-Indic ``٣``, Persian
    ``۳``, full-width ``３``, Devanagari ``३`` ... all become ``3``."""
    return "".join(
        str(unicodedata.decimal(ch)) if not ch.isascii() and ch.isdecimal() else ch for ch in text
    )


def fold(text: str) -> str:
    """Text as it is compared: compatibility forms unified (full-width letters, narrow
    spaces), ASCII digits, lower case, accents and Arabic vowel marks dropped, one space
    between words. Hangul and CJK stay whole (they carry no combining marks)."""
    text = ascii_digits(unicodedata.normalize("NFKC", text)).casefold()
    text = text.replace("’", "'").translate(_ARABIC_LETTERS)
    stripped = "".join(
        ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
    )
    # "đ" has no combining form: Vietnamese "được" and "đúng" are typed both ways.
    stripped = stripped.replace("đ", "d")
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def _words(groups: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(fold(word) for words in groups.values() for word in words)


YES_WORDS: Final = _words(_YES_WORDS)
_POLITE: Final = frozenset(fold(word) for word in _POLITE_WORDS)
NO_WORDS: Final = _words(_NO_WORDS)


def yes_no(text: str) -> str | None:
    """:data:`YES` or :data:`NO` when the text is a yes or a no in any of the languages
    (with or without accents, with a "please" or "thanks"), else None."""
    folded = fold(text).strip(_PUNCTUATION)
    if not folded:
        return None
    for meaning, words in ((YES, YES_WORDS), (NO, NO_WORDS)):
        if folded in words:
            return meaning
    # "yes please", "sí, gracias", "no thanks": one yes/no word, the rest politeness.
    tokens = [t.strip(_PUNCTUATION) for t in folded.split()]
    tokens = [t for t in tokens if t]
    kinds = {YES if t in YES_WORDS else NO if t in NO_WORDS else None for t in tokens}
    kinds.discard(None)
    if len(kinds) == 1 and all(t in YES_WORDS or t in NO_WORDS or t in _POLITE for t in tokens):
        return kinds.pop()
    return None


@lru_cache(maxsize=len(LOCALES))
def _babel(locale: str) -> Locale:
    # The data the assistant's own dates are shown with, so a date is read as it is shown.
    return dates_locale(locale)


def _table(groups: Iterable[Mapping[int, str] | Iterable[str]], start: int) -> dict[str, int]:
    table: dict[str, int] = {}
    for group in groups:
        items = group.items() if isinstance(group, Mapping) else enumerate(group, start)
        for index, name in items:
            key = fold(str(name)).strip(".")
            if key:
                table.setdefault(key, int(index))
    return table


@lru_cache(maxsize=len(LOCALES))
def weekday_names(locale: str) -> dict[str, int]:
    """Folded weekday names (wide, abbreviated, short; CLDR's, then English) -> 0-6.

    Only CLDR's "format" context is read: Babel 2.18 resolves the "stand-alone" aliases of
    one locale into another's data once several locales are loaded.
    """
    days = _babel(locale).days["format"]
    groups: list[Mapping[int, str] | Iterable[str]] = [
        days["wide"],
        days["abbreviated"],
        days["short"],
        _EXTRA_WEEKDAYS.get(locale, ()),
    ]
    return {**ENGLISH_WEEKDAYS, **_table(groups, 0)}


def weekday_name(locale: str, day: date) -> str:
    """The weekday of a day as the assistant writes it in the locale (and reads it back)."""
    own = OWN_WEEKDAYS.get(locale)
    if own is not None:
        return own[day.weekday()]
    return str(_babel(locale).days["format"]["wide"][day.weekday()])


@lru_cache(maxsize=len(LOCALES))
def month_names(locale: str) -> dict[str, int]:
    """Folded month names (CLDR's wide and abbreviated, then English) -> 1-12; Russian's are
    the genitive of dates ("4 марта")."""
    months = _babel(locale).months["format"]
    groups: list[Mapping[int, str] | Iterable[str]] = [
        months["wide"],
        months["abbreviated"],
        _EXTRA_MONTHS.get(locale, ()),
    ]
    return {**ENGLISH_MONTHS, **_table(groups, 1)}


@lru_cache(maxsize=len(LOCALES))
def date_order(locale: str) -> Order:
    """The order of day, month and year in the short date the assistant shows in the locale
    (CLDR's, Haiti's French for Haitian Creole): ``mdy`` (en, tl), ``dmy`` (es, fr, pt, ru, vi,
    ar, ht) or ``ymd`` (zh, ko)."""
    pattern = _babel(locale).date_formats["short"].pattern
    positions = {field: pattern.find(field) for field in "dMy"}
    ordered = "".join(sorted("dMy", key=lambda field: positions[field])).lower()
    return ordered if ordered in ("mdy", "dmy", "ymd") else "mdy"  # type: ignore[return-value]


_YEAR_MARK: Final = re.compile(r"\s*(?:年|년)\s*")
_MONTH_MARK: Final = re.compile(r"\s*(?:月|월)\s*")
_DAY_MARK: Final = re.compile(r"\s*(?:日|号|號|일)")
_NUMERIC: Final = re.compile(r"(\d{1,4})\s*[/.\-]\s*(\d{1,2})(?:\s*[/.\-]\s*(\d{1,4}))?\.?")
_FILLERS: Final = re.compile(r"(?<!\w)(?:de|del|le|the|of|ngay|nam|ika|ng|sa|г|года|al)(?!\w)")
_ORDINAL: Final = re.compile(r"(\d)(?:st|nd|rd|th|er|eme|e|º|ª)(?!\w)")


def local_day(
    text: str, today: date, locale: str, *, relative: Mapping[str, int] | None = None
) -> date:
    """A typed day read the locale's way: its short-date order ("4/3" is March 4 in Spanish,
    April 3 in English; a reading that cannot be a date in that order, such as "13/3" in
    English, is read the other way round), its month and weekday names ("4 de marzo",
    "4 mars", "4 марта", "ngày 4 tháng 3", "mercredi"), CJK dates ("3月4日", "2026年3月4日",
    "3월 4일") and the words of ``relative`` ({"mañana": 1}). See :func:`parse_day`.

    Raises:
        ValueError: as :func:`parse_day` ("not a date", "no such date", "past", "too far").
    """
    # Right-to-left marks of CLDR's Arabic dates come along when one is copied.
    folded = fold(text.replace("\u200f", "").replace("\u200e", "")).strip(" ,!?")
    weekdays, months = weekday_names(locale), month_names(locale)
    folded_relative = {fold(word): days for word, days in (relative or {}).items()}
    if _MONTH_MARK.search(folded) and not re.search(r"[a-z]", folded):
        for name in sorted(weekday_names_any(), key=len, reverse=True):
            if len(name) > 1 and not name.isascii():  # not Korean's one-letter 월 and 일
                folded = folded.replace(name, " ")
        cjk = _DAY_MARK.sub("", _MONTH_MARK.sub("/", _YEAR_MARK.sub("/", folded)))
        return _numeric(cjk.strip("/ ,"), today, "ymd")
    if _NUMERIC.fullmatch(folded) is not None:
        return _numeric(folded, today, date_order(locale))
    if folded.strip(".") in weekdays or folded in folded_relative:
        return parse_day(folded, today, weekdays=weekdays, relative=folded_relative)
    named = _named_date(folded, months)
    if named is not None:
        return parse_day(named, today)
    return parse_day(folded, today, weekdays=weekdays, months=months, relative=folded_relative)


def _numeric(text: str, today: date, order: Order) -> date:
    match = _NUMERIC.fullmatch(text)
    if match is None:
        raise ValueError("not a date")
    first, second, third = match[1], match[2], match[3]
    if len(first) == 4 or (order == "ymd" and third is not None):
        if third is None:  # "2026/3" names no day
            raise ValueError("not a date")
        if len(first) == 4:
            return parse_day(f"{first}-{second}-{third}", today)
        return parse_day(f"{second}/{third}/{first}", today)
    if order == "dmy":
        day, month = first, second
    else:  # mdy, and a ymd locale's "3/4" (month first, as in "3月4日")
        month, day = first, second
    if int(month) > 12 >= int(day):  # no month 13: the person used the other order
        month, day = day, month
    return parse_day(f"{month}/{day}" + (f"/{third}" if third is not None else ""), today)


def _named_date(folded: str, months: Mapping[str, int]) -> str | None:
    """ "4 de marzo", "marzo 4, 2026", "ngày 4 tháng 3", "4 марта 2026 г." -> "3/4[/2026]";
    None when the text names no month, or holds more than a day, a year and a weekday."""
    names = sorted((name for name in months if not name.isdigit()), key=len, reverse=True)
    for name in names:
        found = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", folded)
        if found is None:
            continue
        rest = folded[: found.start()] + " " + folded[found.end() :]
        rest = _ORDINAL.sub(r"\1", _FILLERS.sub(" ", rest))
        numbers = re.findall(r"\d+", rest)
        leftover = re.sub(r"[\d\s,./\-]+", " ", rest).split()
        if any(word.strip(".") not in weekday_names_any() for word in leftover):
            return None
        days = [n for n in numbers if len(n) <= 2]
        years = [n for n in numbers if len(n) == 4]
        if len(days) != 1 or len(years) > 1 or len(days) + len(years) != len(numbers):
            return None
        return f"{months[name]}/{days[0]}" + (f"/{years[0]}" if years else "")
    return None


@lru_cache(maxsize=1)
def weekday_names_any() -> frozenset[str]:
    """Every locale's folded weekday names (a date may be typed after its weekday)."""
    return frozenset(name for locale in LOCALES for name in weekday_names(locale))


# Morning and afternoon words, folded: CLDR's abbreviated AM/PM of every locale (上午, ص, SA,
# CH ...) and what people type. A single "a" or "p" counts only at the end ("9a"): in front it
# is a preposition ("à 9h", "a las 9").
_AM: Final = (
    "am",
    "a.m.",
    "上午",
    "早上",
    "凌晨",
    "오전",
    "ص",
    "صباحا",
    "sa",
    "sang",
    "du matin",
    "de la manana",
    "da manha",
    "утра",
    "sa umaga",
    "nan maten",
)
_PM: Final = ("pm", "p.m.", "下午", "晚上", "中午", "오후", "م", "مساء", "ch", "chieu", "toi",
              "de l'apres-midi", "du soir", "de la tarde", "de la noche", "da tarde", "da noite",
              "дня", "вечера", "sa hapon", "sa gabi", "nan apremidi", "diswa")  # fmt: skip
_PERIODS: Final = sorted(
    [(fold(w), "am") for w in _AM] + [(fold(w), "pm") for w in _PM], key=lambda p: -len(p[0])
)
_LEADING: Final = re.compile(r"^(?:a las|a la|a|at|as|vers|vao luc|luc|в|alas|bandang|nan)\s+")
_HOUR_MARK: Final = re.compile(
    r"\s*(?:点钟|點鐘|点|點|时|時|시|gio|heures?|hrs?|h|часов|часа|час|ч\.?)\s*"
)
_MINUTE_MARK: Final = re.compile(r"\s*(?:分钟|分|분|phut|minutes?|min|мин\.?)$")
_HALF: Final = re.compile(r"^(\d{1,2})\s*:?\s*(?:半|반|ruoi|et demie|y media|e meia)$")


def local_time(text: str) -> time:
    """A typed time, in any of the languages: "9:30", "9h30", "14h", "9 giờ 30", "上午9点",
    "下午2点半", "오전 9시", "오후 2시 30분", "9:30 م", "2 pm", with full-width or
    Arabic-Indic digits. Without a morning/afternoon word, 1 to 6 is the afternoon (see
    :func:`parse_time`).

    Raises:
        ValueError: not a time of day.
    """
    folded = _LEADING.sub("", fold(text).strip(" ,!?"))
    period: str | None = None
    for word, meaning in _PERIODS:
        # The word stands alone or touches the digits ("上午9点", "9:30م"), never inside a word.
        pattern = rf"(?:^|(?<=[\s\d])){re.escape(word)}(?=$|[\s\d])"
        if re.search(pattern, folded):
            folded, period = re.sub(pattern, " ", folded, count=1), meaning
            break
    folded = _MINUTE_MARK.sub("", " ".join(folded.split()))
    folded = _HOUR_MARK.sub(":", folded).strip(": ")
    folded = _HALF.sub(r"\1:30", folded)
    folded = re.sub(r"^(\d{1,2})\s*:?\s+(\d{2})$", r"\1:\2", folded)  # "9 giờ 30" -> "9:30"
    return parse_time(folded if period is None else f"{folded} {period}")
