from __future__ import annotations

from tests.chat import FakeChat


async def test_a_first_message_is_greeted_with_the_menu(chat: FakeChat) -> None:
    await chat.send("hi")
    assert "What would you like to do?" in chat.text
    assert "Language" in chat.buttons
    assert "Help" in chat.buttons


async def test_free_text_at_the_menu_goes_straight_to_the_flow_it_names(
    chat: FakeChat, demo: None
) -> None:
    await chat.send("I forgot my password")
    assert "What do you need help with?" not in chat.text
    assert "email" in chat.text.lower()
    await chat.send("menu")
    await chat.send("my account is locked")
    # A problem told, not a flow asked for: the knowledge base says what it means (wait, or
    # reset), with the reset one tap away.
    assert "20 minutes" in chat.text
    await chat.press("Reset my password")
    assert "email" in chat.text.lower()
    await chat.send("menu")
    await chat.send("status of IOE0912345678 please")
    assert "Case Was Received" in chat.text
