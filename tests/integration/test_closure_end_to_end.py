"""An office closes a day, end to end over HTTP (SQLite and PostgreSQL): the operator closes it
through the admin API, the person's web chat gets the notice pushed on its WebSocket with a
"Book a new appointment" button, and pressing it starts the booking for the same case."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.app import App
from bot.channels.background import setup_notifications
from bot.channels.web.server import PathOnlyAccessLogger, create_web_app
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.settings import Settings
from core.accounts.links import link_chat
from core.accounts.models import Account
from core.appointments import book_appointment
from core.cases.models import Case
from core.db import Database
from core.demo import DEMO_EMAIL, load_demo
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock, FakeMailer
from tests.integration.webchat_support import ChatSession

ADMIN_TOKEN = "operator-token-for-the-closure-test-0123"
READY = "IOE0912345679"
PHX_0730_WED = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)  # 7:30 in Phoenix


async def test_a_closed_day_reaches_the_web_chat_whose_button_books_again(
    db: Database, clock: FakeClock
) -> None:
    uow_factory = UnitOfWorkFactory(db, clock)
    await load_demo(uow_factory)
    settings = Settings(admin_token=ADMIN_TOKEN)
    app = App(settings=settings, db=db, uow_factory=uow_factory, clock=clock)
    engine = Engine(
        Services(uow_factory=uow_factory, mailer=FakeMailer(), clock=clock), all_dialogs()
    )
    web_app = create_web_app(app, engine=engine)
    setup_notifications(web_app, app, dispatch=True, interval=0.05)
    server = TestServer(web_app)
    await server.start_server(access_log_class=PathOnlyAccessLogger)
    async with TestClient(server) as client:
        session = await ChatSession.open(client, locale="en")
        async with uow_factory() as uow:
            ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
            case = await uow.session.scalar(select(Case.id).where(Case.receipt_number == READY))
            assert ana is not None
            await link_chat(uow, ana, "webchat", session.id)  # signed in on the web
            booked = await book_appointment(
                uow, account_id=ana, office_id="PHX", starts_at=PHX_0730_WED,
                kind="biometrics", case_id=case,
            )  # fmt: skip
            await uow.commit()
        ws = await client.ws_connect(f"/api/chat/sessions/{session.id}/ws?token={session.token}")

        closed = await client.put(
            "/api/admin/offices/PHX/closures/2026-03-04",
            json={"reason": "water leak"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert closed.status == 200, await closed.text()
        assert (await closed.json())["cancelled"] == [booked.confirmation_code]

        frame: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), 10)
        assert "Phoenix Field Office is closed on March 4, 2026" in frame["text"]
        assert booked.confirmation_code in frame["text"]
        [button] = frame["buttons"]
        assert button["label"] == "Book a new appointment"

        session.replies = [frame]
        await session.press("Book a new appointment")
        assert f"Let's book a biometrics appointment for case {READY}." in session.text
        assert "Which office would you like to go to?" in session.text
        await ws.close()
