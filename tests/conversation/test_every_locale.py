"""One whole conversation in each of the 11 languages, with the real catalogs.

For each locale a person whose phone speaks it (Telegram's language_code) looks up a case,
signs in, and books biometrics by typing the way people of that language do: the date in the
locale's CLDR short format, the time as the assistant shows it, the sign-in code (in Arabic
with Arabic-Indic digits) and their own word for "yes". Every reply must come from that
locale's catalog: no text or button is an English msgid that the catalog translates
differently, key strings are there translated, and dates are formatted for the locale.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache

import pytest
from babel.dates import format_date
from babel.messages.pofile import read_po
from icalendar import Calendar
from sqlalchemy import select

from bot.engine import Engine
from bot.wording.i18n import BABEL_LOCALE, DEFAULT_LOCALE, DOMAIN, LOCALES, LOCALES_DIR, translator
from core.accounts.otp import totp
from core.appointments.models import Appointment
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")

READY = "IOE0912345679"  # Fingerprint Fee Was Received: biometrics can be booked
WEDNESDAY = date(2026, 3, 4)
PHX_0730_WED = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)  # 7:30 in Phoenix (MST all year)
# Each language's everyday "yes", as a person types it.
YES_WORD = {
    "en": "yes", "es": "sí", "zh": "是", "vi": "có", "tl": "oo", "ko": "네", "ar": "نعم",
    "fr": "oui", "ht": "wi", "pt": "sim", "ru": "да",
}  # fmt: skip
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Whole messages of the conversation that must be translated (they differ from English).
KEY_MSGIDS = (
    "Check a case status",
    "Case Was Approved",
    "Appointments",
    "Book an appointment",
    "Your appointment is booked.",
    "USCIS biometrics appointment",
)


@lru_cache(maxsize=len(LOCALES))
def translated(locale: str) -> dict[str, str]:
    """The catalog's translations that differ from their English msgid (singular, done)."""
    path = LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=BABEL_LOCALE.get(locale, locale))
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy and m.string != m.id
    }


def english_pieces(msgid: str) -> list[str]:
    """The literal runs of a msgid between its placeholders that are long enough to show
    that it was left in English (short runs such as "Case: " also occur in other words)."""
    return [run for run in re.split(r"\{[^}]*\}", msgid) if len(run.strip()) >= 16]


def assert_no_english(chat: FakeChat, locale: str) -> None:
    if locale == DEFAULT_LOCALE:
        return
    table = translated(locale)
    # English the translators kept on purpose (Tagalog keeps "Confirmation code") is no sign.
    kept = "\n".join(table.values())
    pieces = {piece for msgid in table for piece in english_pieces(msgid) if piece not in kept}
    for turn in chat.turns:
        for reply in turn.replies:
            for button in reply.buttons:
                assert button.label not in table, (locale, button.label)
            for piece in pieces:
                assert piece not in reply.text, (locale, piece, reply.text)


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_whole_conversation_in_each_language_comes_from_its_catalog(
    locale: str, engine: Engine, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    t = translator(locale)
    if locale != DEFAULT_LOCALE:
        for msgid in KEY_MSGIDS:
            assert msgid in translated(locale), f"{locale} does not translate {msgid!r}"
    chat = FakeChat(engine, chat_id=f"every-locale-{locale}", locale_hint=locale)

    # A case status lookup.
    await chat.send("")
    assert chat.turn.locale == locale
    await chat.press(t._("Check a case status"))
    await chat.send("WAC2212345678")
    assert t._("Case Was Approved") in chat.text

    # Sign in on the way to a booking.
    menu_word = t._("menu, cancel, stop, quit, exit").split(",")[0].strip()
    await chat.send(menu_word)
    await chat.press(t._("Appointments"))  # asks to sign in first
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    assert chat.asks_secret
    code = totp(DEMO_TOTP_SECRET, clock.now())
    await chat.send(code.translate(ARABIC_INDIC) if locale == "ar" else code)
    # Biometrics for the ready case, at Phoenix.
    await chat.press(t._("Book an appointment"))
    await chat.press(t._("Biometrics (fingerprints and photo)"))
    await chat.press(READY)
    await chat.press("Phoenix Field Office")
    assert t.date(WEDNESDAY, "full") in chat.buttons  # dates in the locale's CLDR form

    # The day in the locale's short date format, the time as it is shown, and "yes".
    babel = t.babel_locale
    await chat.send(format_date(WEDNESDAY, "short", locale=babel))
    assert t.date(WEDNESDAY, "full") in chat.text
    shown_time = t.time_in(PHX_0730_WED, "America/Phoenix")
    assert shown_time in chat.buttons
    await chat.send(shown_time)
    assert t.datetime_in(PHX_0730_WED, "America/Phoenix") in chat.text
    await chat.send(YES_WORD[locale])

    async with uow_factory() as uow:
        booked = list(await uow.session.scalars(select(Appointment)))
    assert [a.starts_at for a in booked] == [PHX_0730_WED]
    assert t._("Your appointment is booked.") in chat.text
    assert t.datetime_in(PHX_0730_WED, "America/Phoenix") in chat.text
    [ics] = [a for r in chat.replies for a in r.attachments]
    event = next(iter(Calendar.from_ical(ics.data).walk("VEVENT")))
    assert str(event["SUMMARY"]) == t._("USCIS biometrics appointment")
    assert_no_english(chat, locale)
