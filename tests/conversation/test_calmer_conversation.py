"""A calmer conversation: a bad answer is told once (what is wrong and an example, in one
message, not the whole question again), receipt numbers are diagnosed, the greeting is said
once, and a person who asks for a human is told how to reach one."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.engine import Engine
from bot.wording.i18n import translator
from core.accounts.otp import totp
from core.conversations import Conversation
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.account_flows import link_ana
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")

ASK = "Please type your receipt number"


async def flows(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> list[str]:
    """The conversation's stack of dialogs, as the engine stored it (menu first)."""
    async with uow_factory() as uow:
        conversation = await uow.session.scalar(
            select(Conversation).where(Conversation.chat_id == chat.chat_id)
        )
        assert conversation is not None
        return [frame["d"] for frame in conversation.state.get("stack", [])]


async def to_question(chat: FakeChat) -> None:
    await chat.send("hi")
    await chat.press("Check a case status")
    assert ASK in chat.text


# --- a bad answer is told once -----------------------------------------------------------


async def test_a_bad_answer_is_one_message_with_the_reason_and_the_example(
    chat: FakeChat,
) -> None:
    await to_question(chat)
    await chat.send("12345")
    assert len(chat.replies) == 1
    assert "That is not a receipt number" in chat.text
    assert chat.text.count("IOE0912345678") == 1
    assert ASK not in chat.text  # the question is not posted again under the reason
    assert chat.buttons == ["Back", "Menu"]


async def test_a_typo_after_a_case_result_does_not_post_the_case_card_again(
    chat: FakeChat,
) -> None:
    await to_question(chat)
    await chat.send("WAC2212345678")
    assert "Status: Case Was Approved" in chat.text
    await chat.send("asdf")
    assert len(chat.replies) == 1
    assert "Case Was Approved" not in chat.text
    assert "That is not a receipt number" in chat.text
    # The case's buttons stay usable.
    assert chat.buttons == ["Get updates", "Check another case", "Back", "Menu"]
    await chat.press("Check another case")
    assert ASK in chat.text


async def test_a_typo_on_the_menu_is_one_message_with_the_menu_buttons(chat: FakeChat) -> None:
    await chat.send("hi")
    await chat.send("qwzx plorp")
    assert len(chat.replies) == 1
    assert "did not understand" in chat.text
    assert "Hello!" not in chat.text
    assert "Check a case status" in chat.buttons


async def test_the_third_bad_answer_still_offers_the_way_out(chat: FakeChat) -> None:
    await to_question(chat)
    for typed in ("A123456789", "IOE12345", "A12345678"):
        await chat.send(typed)
    assert "1-800-375-5283" in chat.text
    assert "Help" in chat.buttons


# --- receipt numbers are diagnosed ---------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("wac 22 123 4567", "missing digits: after WAC come 10 digits, and it has 9"),
        ("WAC22123456789", "too many digits: after WAC come 10 digits, and it has 11"),
        ("I0E0912345678", "Did you mean IOE?"),
        ("L1N2390001234", "Did you mean LIN?"),
    ],
)
async def test_a_receipt_number_that_is_almost_right_is_told_what_is_wrong(
    chat: FakeChat, typed: str, said: str
) -> None:
    await to_question(chat)
    await chat.send(typed)
    assert said in chat.text
    assert len(chat.replies) == 1


async def test_a_receipt_number_one_digit_short_is_diagnosed_in_spanish(chat: FakeChat) -> None:
    await chat.send("hola")
    await chat.send("consultar mi caso")
    await chat.send("wac 22 123 4567")
    assert "le faltan dígitos: después de WAC van 10 dígitos, y tiene 9" in chat.text


# --- the greeting is said once -------------------------------------------------------------

GREETING = "Hello! I can help you"
AGAIN = "What else can I help with?"


async def test_the_greeting_is_said_once_then_the_menu_asks_what_else(chat: FakeChat) -> None:
    await chat.send("hi")
    assert GREETING in chat.text
    await chat.press("Check a case status")
    await chat.send("WAC2212345678")
    await chat.press("Menu")  # a finished task
    assert GREETING not in chat.text
    assert AGAIN in chat.text
    assert "Check a case status" in chat.buttons
    await chat.send("qwzx plorp")  # a misunderstanding
    assert GREETING not in chat.text
    await chat.send("hello")
    assert GREETING not in chat.text
    assert AGAIN in chat.text


async def test_the_greeting_is_not_said_after_signing_in(chat: FakeChat, clock: FakeClock) -> None:
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(totp(DEMO_TOTP_SECRET, clock.now()))
    assert "You are signed in as a***@example.com in this chat." in chat.text
    assert "linked" not in chat.text
    assert GREETING not in chat.text
    assert AGAIN in chat.text


async def test_choosing_a_language_at_the_menu_greets_in_that_language(chat: FakeChat) -> None:
    await chat.send("hi")
    await chat.press("Language")
    await chat.press("Español")
    assert "¡Hola!" in chat.text


# --- text that asks for another flow goes there ----------------------------------------------


async def test_asking_for_another_flow_at_a_step_that_cannot_read_it_goes_there(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await to_question(chat)
    await chat.send("I forgot my password")
    assert "Shall we switch" not in chat.text
    assert await flows(uow_factory, chat) == ["menu", "case_status", "forgot_password"]
    await chat.press("Back")  # returns to the step the person left
    assert ASK in chat.text
    assert await flows(uow_factory, chat) == ["menu", "case_status"]


async def test_asking_for_a_flow_already_below_returns_to_it(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await to_question(chat)
    await chat.send("sign in")
    assert "email address" in chat.text
    await chat.send("check my case")
    assert ASK in chat.text
    assert await flows(uow_factory, chat) == ["menu", "case_status"]


async def test_my_cases_typed_on_the_my_cases_screen_stays_there(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await link_ana(uow_factory, chat.chat_id)
    await chat.send("hi")
    await chat.press("My cases")
    assert "Here are the cases in your account" in chat.text
    await chat.send("my cases")
    assert "Shall we switch" not in chat.text
    assert "check a case status" not in chat.text
    assert "Here are the cases in your account" in chat.text
    assert await flows(uow_factory, chat) == ["menu", "my_cases"]


async def test_a_password_typed_at_a_step_that_does_not_ask_for_one_is_masked(
    chat: FakeChat,
) -> None:
    await to_question(chat)
    await chat.send(DEMO_PASSWORD)
    assert chat.turn.input_was_secret
    assert DEMO_PASSWORD not in chat.text
    assert "looks like a password" in chat.text
    await chat.send("WAC2212345678")  # the step still works
    assert "Case Was Approved" in chat.text


async def test_a_receipt_number_with_a_slip_is_not_taken_for_a_password(chat: FakeChat) -> None:
    await to_question(chat)
    await chat.send("IOE09123x5678")
    assert not chat.turn.input_was_secret


# --- asking for a person ---------------------------------------------------------------------

CONTACT_MSGID = (
    "To talk to a person, call the USCIS Contact Center at {phone} (TTY {tty}). You can also "
    "chat with a person through Emma's Live Chat on uscis.gov, weekdays from 8 a.m. to 8 p.m. "
    "Eastern time."
)
CONTACT = (
    "To talk to a person, call the USCIS Contact Center at 1-800-375-5283 (TTY 1-800-767-1833)"
)


@pytest.mark.parametrize(
    "typed", ["I want to talk to a real person", "agent", "live agent", "human", "representative"]
)
async def test_asking_for_a_person_at_the_menu_says_how_to_reach_one(
    chat: FakeChat, typed: str
) -> None:
    await chat.send("hi")
    await chat.send(typed)
    assert CONTACT in chat.text
    assert "Live Chat" in chat.text
    assert "8 a.m. to 8 p.m. Eastern" in chat.text
    assert "did not understand" not in chat.text
    assert "Check a case status" in chat.buttons


async def test_asking_for_a_person_mid_flow_says_how_and_stays_at_the_step(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await to_question(chat)
    await chat.send("can I speak to someone please")
    assert CONTACT in chat.text
    assert await flows(uow_factory, chat) == ["menu", "case_status"]
    await chat.send("WAC2212345678")
    assert "Case Was Approved" in chat.text


@pytest.mark.parametrize(
    ("locale", "typed"),
    [
        ("es", "quiero hablar con alguien"),
        ("zh", "人工客服"),
        ("vi", "tôi muốn nói chuyện với người thật"),
        ("ko", "상담원 연결"),
        ("tl", "gusto kong makausap ang tao"),
        ("ru", "позовите оператора"),
        ("ar", "اريد التحدث مع موظف"),
        ("fr", "je veux parler à un conseiller"),
        ("ht", "mwen vle pale ak yon moun"),
        ("pt", "quero falar com um atendente"),
    ],
)
async def test_asking_for_a_person_is_understood_in_every_language(
    engine: Engine, locale: str, typed: str
) -> None:
    chat = FakeChat(engine, locale_hint=locale)
    await chat.send(typed)
    assert chat.turn.locale == locale
    t = translator(locale)
    said = t._(CONTACT_MSGID).format(phone="1-800-375-5283", tty="1-800-767-1833")
    assert said != CONTACT_MSGID.format(phone="1-800-375-5283", tty="1-800-767-1833")
    assert said in chat.text


async def test_help_and_the_escalation_offer_to_talk_to_a_person(chat: FakeChat) -> None:
    await to_question(chat)
    await chat.send("help")
    await chat.press("Talk to a person")
    assert CONTACT in chat.text
    assert ASK in chat.text  # and the step again
    for typed in ("A123456789", "12345", "A12345678"):
        await chat.send(typed)
    assert "Talk to a person" in chat.buttons
    await chat.press("Talk to a person")
    assert CONTACT in chat.text


# --- words -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "said", "not_said"),
    [("zh", "卡片已寄给您", "我"), ("vi", "cho bạn", "tôi"), ("ar", "إليك", "إليّ")],
)
async def test_a_first_person_status_title_speaks_to_the_person(
    engine: Engine, locale: str, said: str, not_said: str
) -> None:
    chat = FakeChat(engine, locale_hint=locale)
    await chat.send("MSC2091234567")
    assert said in chat.text
    assert not_said not in chat.text


async def test_the_owner_is_told_they_can_book_without_an_if(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await chat.send("IOE0912345679")  # not signed in: the public view
    assert "If this is your case, sign in to book it here." in chat.text
    await link_ana(uow_factory, chat.chat_id)
    await chat.send("menu")
    await chat.send("IOE0912345679")
    assert "If this is your case" not in chat.text
    assert "You can book it here." in chat.text


# --- times -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "first_time"), [("es", "7:30\u202fa.m."), ("zh", "上午7:30"), ("vi", "7:30\u202fSA")]
)
async def test_appointment_times_use_the_us_12_hour_clock(
    engine: Engine, uow_factory: UnitOfWorkFactory, locale: str, first_time: str
) -> None:
    await link_ana(uow_factory, "chat-1")
    chat = FakeChat(engine, locale_hint=locale)
    t = translator(locale)
    await chat.send("menu")
    await chat.press(t._("Appointments"))
    await chat.press(t._("Book an appointment"))
    await chat.press(t._("Biometrics (fingerprints and photo)"))
    await chat.press("IOE0912345679")
    await chat.press("Phoenix Field Office")
    await chat.press(t.date(date(2026, 3, 4), "full"))
    assert chat.buttons[0] == first_time  # 14:30 UTC, Phoenix keeps standard time


# --- dates -----------------------------------------------------------------------------------


async def to_phoenix_days(chat: FakeChat, uow_factory: UnitOfWorkFactory) -> None:
    await link_ana(uow_factory, chat.chat_id)
    await chat.send("menu")
    await chat.press("Appointments")
    await chat.press("Book an appointment")
    await chat.press("Biometrics (fingerprints and photo)")
    await chat.press("IOE0912345679")
    await chat.press("Phoenix Field Office")


async def test_the_day_prompts_example_is_a_day_with_free_times(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await to_phoenix_days(chat, uow_factory)
    assert "like 3/4 or Wednesday" not in chat.text
    # Monday, March 2 (the test clock) still has times in Phoenix; Tuesday is the next day.
    assert "You can also type a date, like 3/2 or Tuesday." in chat.text
    await chat.send("3/2")
    assert "Free times on Monday, March 2, 2026" in chat.text
    await chat.send("back")
    await chat.send("Tuesday")
    assert "Free times on Tuesday, March 3, 2026" in chat.text


async def test_later_dates_are_offered_beyond_the_first_six_days(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await to_phoenix_days(chat, uow_factory)
    first = [b for b in chat.buttons if "2026" in b]
    assert len(first) == 6
    await chat.press("Later dates")
    later = [b for b in chat.buttons if "2026" in b]
    assert later
    assert not set(later) & set(first)
    assert "Earlier dates" in chat.buttons
    await chat.press(later[0])
    assert f"Free times on {later[0]}" in chat.text
    await chat.send("back")
    await chat.press("Earlier dates")
    assert [b for b in chat.buttons if "2026" in b] == first


async def test_a_federal_holiday_says_the_office_is_closed_for_it(
    chat: FakeChat, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.advance(days=280)  # December 7, 2026: Christmas is within the booking horizon
    await to_phoenix_days(chat, uow_factory)
    await chat.send("12/25")
    assert "The office is closed on Friday, December 25, 2026 for Christmas Day." in chat.text
    assert "no free times" not in chat.text


async def test_a_holiday_is_named_in_the_persons_language(
    engine: Engine, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.advance(days=280)
    chat = FakeChat(engine, locale_hint="es")
    await link_ana(uow_factory, chat.chat_id)
    es = translator("es")
    await chat.send("menu")
    await chat.press(es._("Appointments"))
    await chat.press(es._("Book an appointment"))
    await chat.press(es._("Biometrics (fingerprints and photo)"))
    await chat.press("IOE0912345679")
    await chat.press("Phoenix Field Office")
    await chat.send("25/12")
    assert es._("Christmas Day") in chat.text
    assert es._("Christmas Day") != "Christmas Day"


# --- booking offers only what can be booked -------------------------------------------------


async def to_case_question(chat: FakeChat) -> None:
    await chat.send("menu")
    await chat.press("Appointments")
    await chat.press("Book an appointment")
    await chat.press("Biometrics (fingerprints and photo)")


async def test_booking_offers_only_a_case_that_can_be_booked(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await link_ana(uow_factory, chat.chat_id)
    await to_case_question(chat)
    assert "IOE0912345678 (I-765): Case Was Received" in chat.text  # listed
    assert "IOE0912345678" not in chat.buttons  # but not offered
    assert "IOE0912345679" in chat.buttons
    await chat.send("IOE0912345678")
    assert "not ready for a biometrics appointment yet" in chat.text
    assert "We will tell you" not in chat.text


async def test_a_followed_case_that_is_not_ready_says_updates_come_here(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await link_ana(uow_factory, chat.chat_id)
    await chat.send("IOE0912345678")
    await chat.press("Get updates")
    await to_case_question(chat)
    await chat.send("IOE0912345678")
    assert "you will hear when its status changes" in chat.text


# --- structure -------------------------------------------------------------------------------


async def test_create_an_account_is_its_own_menu_choice(chat: FakeChat) -> None:
    await chat.send("hi")
    assert "Create an account" in chat.buttons
    await chat.press("Create an account")
    assert "email" in chat.text.lower()
    await chat.press("Back")
    assert "Create an account" in chat.buttons  # the menu


async def test_create_an_account_is_not_offered_while_signed_in(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await link_ana(uow_factory, chat.chat_id)
    await chat.send("hi")
    assert "Create an account" not in chat.buttons


async def test_back_from_i_lost_my_phone_returns_to_the_help_menu(chat: FakeChat) -> None:
    await chat.send("hi")
    await chat.press("Password and sign-in help")
    assert "What do you need help with?" in chat.text
    await chat.press("I lost my phone / authenticator")
    assert "What do you need help with?" not in chat.text
    await chat.press("Back")
    assert "What do you need help with?" in chat.text
    assert "I lost my phone / authenticator" in chat.buttons
    await chat.press("Back")
    assert AGAIN in chat.text  # and then the menu
