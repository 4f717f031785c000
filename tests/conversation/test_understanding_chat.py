"""Free text in every language drives the engine: at the menu it opens the flow it asks for,
and in the middle of a flow it is offered as a switch.

Replies are being translated, so these tests never spell a reply out: they read where the
conversation is from the database, or render the expected msgid through the same catalog.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.engine import Engine
from bot.wording.i18n import translator
from core.conversations import Conversation
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat

pytestmark = pytest.mark.usefixtures("demo")

SWITCH_OFFER = "It sounds like you want to: {flow}. Shall we switch to that?"


async def flows(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> list[str]:
    """The conversation's stack of dialogs, as the engine stored it (menu first)."""
    async with uow_factory() as uow:
        conversation = await uow.session.scalar(
            select(Conversation).where(
                Conversation.channel == chat.channel, Conversation.chat_id == chat.chat_id
            )
        )
        assert conversation is not None
        return [frame["d"] for frame in conversation.state.get("stack", [])]


async def test_a_spanish_request_at_the_menu_starts_the_case_status_flow(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="es")
    await chat.send("hola")
    assert await flows(uow_factory, chat) == ["menu"]
    await chat.send("quiero ver mi caso")
    assert await flows(uow_factory, chat) == ["menu", "case_status"]
    es = translator("es")
    assert (
        es._(
            "Please type your receipt number. It has 3 letters and 10 digits, like "
            "IOE0912345678, and is on the notice USCIS sent when it received your case."
        )
        in chat.text
    )


@pytest.mark.parametrize(
    ("locale", "text", "flow"),
    [
        ("en", "i wanna book an apointment", "appointments"),
        ("zh", "我的案子怎么样了", "case_status"),
        ("vi", "toi muon dat lich hen", "appointments"),
        ("tl", "nakalimutan ko yung password ko", "forgot_password"),
        ("ko", "로그인 할래요", "link_account"),
        ("ar", "نسيت كلمة السر", "forgot_password"),
        ("fr", "je veux un rdv", "appointments"),
        ("ht", "mwen pèdi telefòn mwen", "lost_device"),
        ("pt", "quero criar uma conta", "create_account"),
        ("ru", "хочу войти в аккаунт", "link_account"),
    ],
)
async def test_free_text_at_the_menu_opens_its_flow_in_every_language(
    engine: Engine, uow_factory: UnitOfWorkFactory, locale: str, text: str, flow: str
) -> None:
    chat = FakeChat(engine, locale_hint=locale)
    await chat.send(text)
    assert flow in await flows(uow_factory, chat)


async def test_a_receipt_number_in_a_sentence_at_the_menu_looks_the_case_up(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="pt")
    await chat.send("oi, meu recibo é wac-22-123-45678, como ta?")
    assert await flows(uow_factory, chat) == ["menu", "case_status"]
    assert translator("pt")._("Check another case") in chat.buttons


async def test_a_korean_request_to_book_mid_flow_goes_there_and_back_returns(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    chat = FakeChat(engine, locale_hint="ko")
    await chat.send("케이스 상태 확인")
    assert await flows(uow_factory, chat) == ["menu", "case_status"]
    await chat.send("예약하고 싶어요")  # not a receipt number: the step cannot take it
    # Booking needs a signed-in account: the appointments flow asks for it first.
    assert (await flows(uow_factory, chat))[:3] == ["menu", "case_status", "appointments"]
    ko = translator("ko")
    await chat.press(ko._("Back"))
    await chat.press(ko._("Back"))
    assert await flows(uow_factory, chat) == ["menu", "case_status"]


@pytest.mark.parametrize(
    ("locale", "first", "running", "text", "wanted"),
    [
        ("es", "IOE0912345678", "case_status", "se me olvido la contraseña", "forgot_password"),
        ("ru", "войти в аккаунт", "link_account", "хочу проверить статус", "case_status"),
        ("ar", "حالة IOE0912345678", "case_status", "ابي احجز موعد", "appointments"),
        ("fr", "me connecter", "link_account", "prendre un rdv stp", "appointments"),
    ],
)
async def test_a_request_for_another_flow_in_the_middle_of_one_goes_there(
    engine: Engine,
    uow_factory: UnitOfWorkFactory,
    locale: str,
    first: str,
    running: str,
    text: str,
    wanted: str,
) -> None:
    chat = FakeChat(engine, locale_hint=locale)
    await chat.send(first)
    assert await flows(uow_factory, chat) == ["menu", running]
    await chat.send(text)
    assert (await flows(uow_factory, chat))[:3] == ["menu", running, wanted]
    assert translator(locale)._(SWITCH_OFFER).split("{")[0] not in chat.text  # not asked


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("en", "change language please"),
        ("zh", "换语言"),
        ("ht", "chanje lang lan"),
    ],
)
async def test_asking_for_another_language_at_the_menu_offers_the_languages(
    engine: Engine, uow_factory: UnitOfWorkFactory, locale: str, text: str
) -> None:
    chat = FakeChat(engine, locale_hint=locale)
    await chat.send(text)
    assert await flows(uow_factory, chat) == ["menu", "language"]
    assert {"English", "Español", "Kreyòl ayisyen", "Русский"} <= set(chat.buttons)
    await chat.press("English")
    assert await flows(uow_factory, chat) == ["menu"]


@pytest.mark.parametrize(
    ("locale", "text", "named"),
    [
        ("es", "en ingles porfa", "en"),
        ("en", "en español por favor", "es"),
    ],
)
async def test_naming_a_language_at_the_menu_switches_to_it(
    engine: Engine, uow_factory: UnitOfWorkFactory, locale: str, text: str, named: str
) -> None:
    chat = FakeChat(engine, locale_hint=locale)
    await chat.send(text)
    assert await flows(uow_factory, chat) == ["menu"]
    assert chat.turn.locale == named
    assert "Русский" not in chat.buttons  # the menu, not the list of languages
    assert translator(named)._("Appointments") in chat.buttons
