"""Bugs the property-based tests (test_engine_properties.py, test_parser_fuzz.py) found, each
pinned by the plainest test that reproduces it."""

from __future__ import annotations

import pytest

from core.accounts.email_codes import code_matches, hash_email_code
from core.accounts.links import link_chat, unlink_chat
from core.accounts.service import find_account_by_email
from core.demo import DEMO_EMAIL, DEMO_PASSWORD
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat


@pytest.mark.usefixtures("demo")
async def test_wrong_codes_that_lock_the_account_say_so_instead_of_crashing(
    chat: FakeChat,
) -> None:
    """The fifth wrong code locks the account; the code step could not go to the "locked"
    step (an undeclared transition), so the turn crashed with the engine's apology."""
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    for _ in range(5):
        await chat.send("000000")
    assert "went wrong" not in chat.text
    assert "locked for 20 minutes" in chat.text


@pytest.mark.usefixtures("demo")
async def test_a_chat_signed_out_elsewhere_in_the_middle_of_a_booking_goes_back_to_the_menu(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    """A password reset in another chat signs this one out; the booking's next prompt needed a
    signed-in account and raised, so every turn but "menu" crashed."""
    async with uow_factory() as uow:
        account = await find_account_by_email(uow, DEMO_EMAIL)
        assert account is not None
        await link_chat(uow, account.id, chat.channel, chat.chat_id)
        await uow.commit()
    await chat.press_payload("go:book:biometrics")
    assert "IOE0912345679" in " ".join(chat.buttons)  # at the case question
    async with uow_factory() as uow:
        await unlink_chat(uow, chat.channel, chat.chat_id)
        await uow.commit()

    await chat.send("IOE0912345679")

    assert "went wrong" not in chat.text
    assert chat.text.count("Please sign in again") == 1  # said once
    assert "What else can I help with?" in chat.text  # the menu
    await chat.send("hello")
    assert "went wrong" not in chat.text


@pytest.mark.parametrize("typed", ["\ud800" * 6, "１２３４５６\ud800", "12345\udfff"])
def test_an_email_code_that_cannot_be_encoded_is_simply_wrong(typed: str) -> None:
    """A lone surrogate (JSON allows "\\ud800") made the code check raise UnicodeEncodeError
    instead of answering "not this code"."""
    assert code_matches(hash_email_code("123456"), typed) is False


@pytest.mark.parametrize("stored", ["é$abc", "sält$" + "0" * 64, "\ud800$x"])
def test_a_damaged_stored_code_matches_nothing(stored: str) -> None:
    """A stored hash with non-ASCII characters made hmac.compare_digest raise TypeError."""
    assert code_matches(stored, "123456") is False


@pytest.mark.usefixtures("demo")
@pytest.mark.parametrize(
    "steps",
    [
        ["sign in", DEMO_EMAIL, "lantern\udfffharbor-9"],  # a password
        ["sign in", "ana\ud800@example.com"],  # an email
        ["I forgot my password", "\ud800ana@example.com"],
        ["check my case", "IOE0912345679\ud800"],
        ["\ud83d"],  # half an emoji, at the menu
    ],
)
async def test_a_lone_surrogate_in_what_is_typed_gets_an_answer_not_a_crash(
    chat: FakeChat, steps: list[str]
) -> None:
    """JSON allows "\\ud800" and a terminal may hand over undecodable bytes as surrogates;
    Argon2 (and any UTF-8 encoding) refused such a password with UnicodeEncodeError."""
    for text in steps:
        await chat.send(text)
        assert chat.replies
        assert "went wrong" not in chat.text
    assert "\ud800" not in chat.text
