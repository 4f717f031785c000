"""The web app on the test database, and a small client of the chat API."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from bot.app import App
from bot.channels.web.chat import WebChatConfig
from bot.channels.web.server import create_web_app
from bot.engine import Engine
from bot.settings import Settings
from core.db import Database
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock


def web_app_for(
    db: Database,
    uow_factory: UnitOfWorkFactory,
    engine: Engine,
    clock: FakeClock,
    config: WebChatConfig | None = None,
    settings: Settings | None = None,
) -> Any:
    app = App(settings=settings or Settings(), db=db, uow_factory=uow_factory, clock=clock)
    return create_web_app(app, engine=engine, chat_config=config)


class ChatSession:
    """One browser's session, through the HTTP API."""

    def __init__(self, client: TestClient[Any, Any], session_id: str, token: str) -> None:
        self.client, self.id, self.token = client, session_id, token
        self.replies: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, client: TestClient[Any, Any], **body: Any) -> ChatSession:
        response = await client.post("/api/chat/sessions", json=body)
        assert response.status == 201, await response.text()
        data = await response.json()
        return cls(client, data["session_id"], data["token"])

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def text(self) -> str:
        return "\n".join(r["text"] for r in self.replies)

    async def post(self, body: Any) -> Any:
        return await self.client.post(
            f"/api/chat/sessions/{self.id}/messages", json=body, headers=self.auth
        )

    async def send(self, text: str) -> list[dict[str, Any]]:
        response = await self.post({"text": text})
        assert response.status == 200, await response.text()
        self.replies = (await response.json())["replies"]
        return self.replies

    async def press(self, label: str) -> list[dict[str, Any]]:
        for reply in reversed(self.replies):
            for button in reply["buttons"]:
                if button["label"] == label:
                    response = await self.post({"payload": button["payload"]})
                    assert response.status == 200, await response.text()
                    self.replies = (await response.json())["replies"]
                    return self.replies
        raise AssertionError(f"no button {label!r} in {self.replies}")

    async def transcript(self, after: int = 0) -> list[dict[str, Any]]:
        response = await self.client.get(
            f"/api/chat/sessions/{self.id}/messages", params={"after": after}, headers=self.auth
        )
        assert response.status == 200, await response.text()
        messages: list[dict[str, Any]] = (await response.json())["messages"]
        return messages
