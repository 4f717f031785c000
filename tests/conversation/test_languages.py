"""Which language a conversation speaks, switching it mid-flow, and answers typed the
person's way (their yes, their date order, their time format), through the whole engine.

Precedence: an explicit choice, then the stored conversation, then the channel's hint
(Telegram's language_code, the browser's), then the language of the text, then English.
The fake clock starts on Monday 2026-03-02 at 15:00 UTC (8:00 in Phoenix).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.engine import Engine
from bot.wording.i18n import LANGUAGE_NAMES, translator
from core.accounts.links import link_chat
from core.accounts.models import Account
from core.appointments.models import Appointment
from core.conversations import Conversation
from core.demo import DEMO_EMAIL
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat

READY = "IOE0912345679"  # Fingerprint Fee Was Received: biometrics can be booked
PHX_0730_WED = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)
WEDNESDAY = date(2026, 3, 4)


async def stored_locale(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> str | None:
    async with uow_factory() as uow:
        locale: str | None = await uow.session.scalar(
            select(Conversation.locale).where(
                Conversation.channel == chat.channel, Conversation.chat_id == chat.chat_id
            )
        )
    return locale


async def sign_in(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> None:
    async with uow_factory() as uow:
        account_id = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert account_id is not None
        await link_chat(uow, account_id, chat.channel, chat.chat_id)
        await uow.commit()


async def to_phoenix_days(chat: FakeChat, locale: str) -> None:
    """From the menu to the day step of a biometrics booking at Phoenix, pressing buttons
    by their labels in ``locale``."""
    t = translator(locale)
    await chat.send("")
    await chat.press(t._("Appointments"))
    await chat.press(t._("Book an appointment"))
    await chat.press(t._("Biometrics (fingerprints and photo)"))
    await chat.press(READY)
    await chat.press("Phoenix Field Office")


# --- precedence -------------------------------------------------------------------------------


async def test_an_explicit_choice_beats_the_stored_language(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="es")
    await chat.send("hola")
    assert await stored_locale(uow_factory, chat) == "es"
    await chat.send("language")
    await chat.press(LANGUAGE_NAMES["fr"])
    assert chat.turn.locale == "fr"
    await chat.send("menu")
    assert chat.turn.locale == "fr"
    # casebot chat --lang and a web session's locale go through set_locale.
    assert await engine.set_locale(chat.channel, chat.chat_id, "ko-KR") == "ko"
    await chat.send("menu")
    assert chat.turn.locale == "ko"


async def test_the_stored_language_beats_the_channels_hint(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="es")
    await chat.send("hi")
    chat.locale_hint = "fr"  # the person changed their Telegram app's language since
    await chat.send("menu")
    assert chat.turn.locale == "es"
    assert await stored_locale(uow_factory, chat) == "es"


async def test_the_channels_hint_beats_the_language_of_the_text(engine: Engine) -> None:
    chat = FakeChat(engine, locale_hint="fr")
    await chat.send("你好")
    assert chat.turn.locale == "fr"


async def test_the_language_of_the_text_beats_english(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("你好")
    assert chat.turn.locale == "zh"
    assert await stored_locale(uow_factory, chat) == "zh"


async def test_an_empty_opener_leaves_the_language_to_the_first_real_message(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("")  # the web widget and the terminal open with an empty message
    assert chat.turn.locale == "en"
    assert await stored_locale(uow_factory, chat) is None
    await chat.send("Привет")
    assert chat.turn.locale == "ru"
    assert await stored_locale(uow_factory, chat) == "ru"


async def test_the_first_message_decides_and_later_answers_are_not_read_for_their_language(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("sign in")  # no language of its own: English, kept
    assert await stored_locale(uow_factory, chat) == "en"
    await chat.send("ana.demo@example.com")
    await chat.send("contraseña-de-prueba-42")
    assert chat.turn.locale == "en"
    assert await stored_locale(uow_factory, chat) == "en"


async def test_a_hint_that_is_no_supported_language_falls_through_to_the_text(
    engine: Engine,
) -> None:
    chat = FakeChat(engine, locale_hint="de-DE")
    await chat.send("안녕하세요")
    assert chat.turn.locale == "ko"


# --- switching mid-flow -------------------------------------------------------------------------


async def test_switching_to_french_mid_booking_asks_the_same_question_in_french(
    engine: Engine, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await sign_in(uow_factory, chat)
    await to_phoenix_days(chat, "en")
    english_days = chat.buttons
    assert "Wednesday, March 4, 2026" in english_days
    await chat.send("language")
    await chat.press(LANGUAGE_NAMES["fr"])
    fr = translator("fr")
    assert chat.turn.locale == "fr"
    # The same step, the same days, now in French (Babel's dates, the catalog's words).
    assert "mercredi 4 mars 2026" in chat.buttons
    assert len([b for b in chat.buttons if "2026" in b]) == len(
        [b for b in english_days if "2026" in b]
    )
    assert fr._("Back") in chat.buttons
    asked = fr._(
        "Which day would you like at the {office}? These days have free times. You can "
        "also type a date, like {example}."
    ).format(office="Phoenix Field Office", example="{example}")
    assert asked.split("{example}")[0] in chat.text
    # And the flow goes on from there, in French, reading a French date order.
    await chat.send("04/03")
    assert "mercredi 4 mars 2026" in chat.text
    assert chat.buttons[0] == "07:30"


async def test_a_message_that_names_a_language_switches_to_it_from_the_menu(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await chat.send("hi")
    await chat.send("en español por favor")
    es = translator("es")
    assert chat.turn.locale == "es"
    assert await stored_locale(uow_factory, chat) == "es"
    # The menu again, in Spanish: not the list of languages.
    assert es._("Appointments") in chat.buttons
    assert LANGUAGE_NAMES["fr"] not in chat.buttons


async def test_a_message_that_names_a_language_switches_to_it_mid_flow(
    engine: Engine, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine)
    await sign_in(uow_factory, chat)
    await to_phoenix_days(chat, "en")
    await chat.send("can you speak french")
    assert chat.turn.locale == "fr"
    # The same step, now in French.
    assert "mercredi 4 mars 2026" in chat.buttons
    assert translator("fr")._("Back") in chat.buttons


async def test_asking_for_the_language_without_naming_one_still_shows_the_list(
    engine: Engine,
) -> None:
    chat = FakeChat(engine)
    await chat.send("hi")
    await chat.send("change language")
    assert LANGUAGE_NAMES["fr"] in chat.buttons


# --- typed answers ----------------------------------------------------------------------------


async def test_a_spanish_date_order_and_a_spanish_yes_book_the_appointment(
    engine: Engine, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="es")
    await sign_in(uow_factory, chat)
    await to_phoenix_days(chat, "es")
    await chat.send("4/3")  # March 4 in Spanish order (April 3 would be too far anyway)
    assert "miércoles, 4 de marzo de 2026" in chat.text
    await chat.send("7:30")
    assert "7:30" in chat.text
    await chat.send("Sí")
    async with uow_factory() as uow:
        booked = list(await uow.session.scalars(select(Appointment)))
    assert [a.starts_at for a in booked] == [PHX_0730_WED]


async def test_no_at_the_confirmation_goes_back_to_choosing_a_day(
    engine: Engine, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="ko")
    await sign_in(uow_factory, chat)
    await to_phoenix_days(chat, "ko")
    await chat.send("3월 4일")
    await chat.send("오전 7시 30분")
    await chat.send("아니요")
    async with uow_factory() as uow:
        assert list(await uow.session.scalars(select(Appointment))) == []
    assert "2026년 3월 4일 수요일" in chat.buttons  # the days again


async def test_a_yes_in_another_language_still_answers_and_an_unclear_word_is_reprompted(
    engine: Engine, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="en")
    await sign_in(uow_factory, chat)
    await to_phoenix_days(chat, "en")
    await chat.send("Wednesday")
    await chat.send("7:30 am")
    await chat.send("perhaps")
    assert "Please choose one of the options below." in chat.text
    assert "Confirm" in chat.buttons
    await chat.send("oui")
    assert "Your appointment is booked." in chat.text


async def test_a_date_the_person_cannot_mean_gets_a_localized_reprompt(
    engine: Engine, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="fr")
    await sign_in(uow_factory, chat)
    await to_phoenix_days(chat, "fr")
    fr = translator("fr")
    await chat.send("un jour")
    asked = fr._("Please type a date like {example}, or choose a day below.")
    assert asked.split("{example}")[0] in chat.text
    await chat.send("01/03/2026")
    assert fr._("That day has already passed.") in chat.text


async def test_a_language_switch_whose_prompt_number_the_sender_does_not_know_still_switches(
    chat: FakeChat, demo: None
) -> None:
    """The web widget's header picker, at a step that shows no button to read the prompt's
    number off, sends the switch with number 0: a language switch is never a stale button (it
    only shows the same step again, in the chosen language), so it switches."""
    await chat.send("menu")
    await chat.press("Check a case status")
    english = chat.text
    await chat.press_payload("0:g:setlang:es")
    assert chat.text != english
    assert translator("es")._("Back") in chat.buttons  # the same step, in Spanish
    await chat.send("EAC2190012345")
    assert "EAC2190012345" in chat.text
