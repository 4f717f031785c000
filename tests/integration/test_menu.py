from __future__ import annotations

from tests.chat import FakeChat


async def test_a_first_message_is_greeted_with_the_menu(chat: FakeChat) -> None:
    await chat.send("hi")
    assert "What would you like to do?" in chat.text
    assert "Language" in chat.buttons
    assert "Help" in chat.buttons
