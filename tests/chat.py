"""A fake channel that drives the engine like a person would, and records what it answered.

chat = FakeChat(engine)
await chat.send("check my case")
await chat.press("Check a case status")
assert "Case Was Approved" in chat.text
"""

from __future__ import annotations

from bot.dialogs.model import Button, Incoming, Reply, Turn
from bot.engine import Engine

__all__ = ["FakeChat"]


class FakeChat:
    """One chat with the engine.

    Attributes:
        turns: every turn so far; ``turn``/``text``/``buttons`` speak of the last one.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        channel: str = "test",
        chat_id: str = "chat-1",
        locale_hint: str | None = None,
        client: str | None = None,
    ) -> None:
        self.engine = engine
        self.channel = channel
        self.chat_id = chat_id
        self.locale_hint = locale_hint
        self.client = client
        self.turns: list[Turn] = []
        self._update_id = 0

    async def send(self, text: str, *, update_id: int | None = None) -> Turn:
        """Type a message."""
        return await self._turn(
            Incoming(
                self.channel,
                self.chat_id,
                text=text,
                locale_hint=self.locale_hint,
                update_id=update_id,
                client=self.client,
            )
        )

    async def press(self, label: str) -> Turn:
        """Press the newest button with this label (exact, or case-insensitive).

        Raises:
            AssertionError: no such button in the last turn.
        """
        button = self.button(label)
        return await self.press_payload(button.payload)

    async def press_payload(self, payload: str) -> Turn:
        return await self._turn(
            Incoming(
                self.channel,
                self.chat_id,
                payload=payload,
                locale_hint=self.locale_hint,
                client=self.client,
            )
        )

    def button(self, label: str) -> Button:
        for reply in reversed(self.turn.replies):
            for button in reply.buttons:
                if button.label == label or button.label.casefold() == label.casefold():
                    return button
        raise AssertionError(f"no button {label!r}; the buttons are {self.buttons}")

    async def _turn(self, incoming: Incoming) -> Turn:
        turn = await self.engine.handle(incoming)
        self.turns.append(turn)
        return turn

    @property
    def turn(self) -> Turn:
        if not self.turns:
            raise AssertionError("nothing was sent yet")
        return self.turns[-1]

    @property
    def replies(self) -> list[Reply]:
        return self.turn.replies

    @property
    def text(self) -> str:
        """Every reply text of the last turn, one after another."""
        return "\n".join(reply.text for reply in self.turn.replies)

    @property
    def buttons(self) -> list[str]:
        return [button.label for reply in self.turn.replies for button in reply.buttons]

    @property
    def asks_secret(self) -> bool:
        return bool(self.turn.replies) and self.turn.replies[-1].secret_input

    @property
    def attachments(self) -> list[str]:
        return [a.name for reply in self.turn.replies for a in reply.attachments]
