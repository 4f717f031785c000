"""SIGKILL at random points of conversations, then a restart on the same database.

A real ``casebot serve`` (a subprocess, Telegram in webhook mode against the fake Bot API in
this process) serves web chat sessions and Telegram chats at the same time. Each person signs
in (password, then the authenticator code), books a biometrics appointment and looks up a
case. A seeded ``Killer`` SIGKILLs the server just as someone sends a sign-in code, confirms a
booking, or sends anything, a few random milliseconds later (so before, during or after the
turn's commit), and it is started again on the same file or PostgreSQL database.

What must hold afterwards:

- every conversation resumes at its step: each script runs to its end, every answer is the
  answer of the step that was sent (read from the transcript when the reply was cut off);
- nothing confirmed is lost: each person who was told "Your appointment is booked" with a
  confirmation code has exactly that appointment in the database, and every chat that was
  told "You are signed in" is linked;
- nothing is doubled: exactly one appointment per person, although booking confirmations were
  sent again after a kill; every web message is in its transcript once; every Telegram update
  is in the inbox once and handled, each answer sent at most once.

``CASEBOT_KILL_SEED`` picks another seed (the kills and delays it draws are printed).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.accounts.otp import generate_totp_secret, totp
from core.accounts.questions import RESET_QUESTION_IDS
from core.accounts.service import register_account
from core.cases.models import Case
from core.db import Base, Database
from core.demo import load_demo
from core.schema import upgrade
from core.uow import UnitOfWorkFactory
from tests.e2e.kill_support import Killer, Server, Step, Tally, TelegramClient, WebClient
from tests.telegram.conftest import TOKEN
from tests.telegram.fake_bot_api import FakeBotApi

SEED: Final = int(os.environ.get("CASEBOT_KILL_SEED", "8"))
WEB_PEOPLE: Final = 3
TELEGRAM_PEOPLE: Final = 2
PLAN: Final = ("sign-in", "booking", "any", "sign-in", "booking", "any")
TIMES: Final = ("8:00 AM", "8:30 AM", "9:00 AM", "9:30 AM", "10:00 AM", "10:30 AM")
MASK: Final = "••••••"


@dataclass(frozen=True)
class Person:
    email: str
    password: str
    secret: str
    receipt: str

    def code(self) -> str:
        return totp(self.secret, datetime.now(UTC))


async def seed(db: Database, count: int) -> list[Person]:
    """The demo data, and ``count`` people with an authenticator and a case ready for
    biometrics each."""
    await upgrade(db)
    uow_factory = UnitOfWorkFactory(db)
    await load_demo(uow_factory)
    people = []
    for n in range(count):
        person = Person(
            email=f"kill.test.{n}@example.com",
            password=f"tulip-harbor-kill-{n}-passage",
            secret=generate_totp_secret(),
            receipt=f"IOE09{90000 + n:08d}",
        )
        registration = await register_account(
            uow_factory,
            email=person.email,
            password=person.password,
            reset_answers={question: "maple" for question in RESET_QUESTION_IDS},
            email_code=None,
            totp_secret=person.secret,
            skip_email_verification=True,
        )
        async with uow_factory() as uow:
            uow.session.add(
                Case(
                    receipt_number=person.receipt, form_type="I-485",
                    status_code="fingerprint_fee_received", owner_id=registration.account_id,
                )
            )  # fmt: skip
            await uow.commit()
        people.append(person)
    return people


def script(person: Person, *, opener: str, time: str, web: bool) -> list[Step]:
    """Sign in, book biometrics at Phoenix on the second free day at ``time`` (never today,
    whose morning may be past or within the booking lead time), look up a case.
    On the web the menu choices are pressed (payloads), on Telegram typed (labels)."""
    return [
        Step(opener, "What would you like to do?"),
        Step("sign in", "type the email address"),
        Step(person.email, "Please type your password for"),
        Step(person.password, "6-digit code from your authenticator app"),
        Step(person.code, "You are signed in as", kind="code"),
        Step("Appointments", "Book an appointment", press=web),
        Step("Book an appointment", "What kind of appointment", press=web),
        Step("Biometrics (fingerprints and photo)", "Which case is the biometrics", press=web),
        Step(person.receipt, "Which office would you like to go to?"),
        Step("Phoenix Field Office", "Which day would you like at the Phoenix", press=web),
        Step("2", "Free times on"),
        Step(time, "Please check your appointment:"),
        Step("Confirm", "Your appointment is booked.", press=web, kind="confirm"),
        Step("WAC2212345678", "Status: Case Was Approved"),
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database the server and the test share (the server's URL is ``db.url``)."""
    if request.param == "sqlite":
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'casebot.sqlite3'}")
    else:
        url = request.getfixturevalue("postgres_url")
        db = Database(url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield db
    await db.dispose()


@pytest.fixture
async def peek(database: Database) -> AsyncIterator[AsyncEngine]:
    """Plain reads of the server's database (no write lock taken on SQLite)."""
    engine = create_async_engine(database.url)
    yield engine
    await engine.dispose()


async def test_killed_at_random_points_every_conversation_resumes_nothing_lost_or_doubled(
    database: Database, peek: AsyncEngine, tmp_path: Path
) -> None:
    await converse_through_kills(
        database, peek, lambda api, http: Server(tmp_path, database.url, api, TOKEN, http)
    )


async def converse_through_kills(
    database: Database,
    peek: AsyncEngine,
    make_server: Callable[[FakeBotApi, aiohttp.ClientSession], Server],
) -> Server:
    """Everyone's script through ``make_server``'s server under the seeded killer; then checks
    that nothing confirmed was lost or doubled (the module's docstring). Returns the server,
    stopped."""
    people = await seed(database, WEB_PEOPLE + TELEGRAM_PEOPLE)
    rng = random.Random(SEED)
    plan = list(PLAN)
    rng.shuffle(plan)
    api = FakeBotApi(TOKEN)
    await api.start()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        server = make_server(api, http)
        tally = Tally()
        killer = Killer(server, rng, plan, lose=["code", "confirm"])
        try:
            await server.start()
            web = [
                WebClient(
                    f"web{n}", server, http,
                    script(people[n], opener="", time=TIMES[n], web=True), killer, tally,
                )
                for n in range(WEB_PEOPLE)
            ]  # fmt: skip
            telegram = [
                TelegramClient(
                    f"telegram{n}", 7300 + n, server, http,
                    script(people[WEB_PEOPLE + n], opener="hi", time=TIMES[WEB_PEOPLE + n],
                           web=False),
                    killer, tally, peek,
                )
                for n in range(TELEGRAM_PEOPLE)
            ]  # fmt: skip
            starts = [rng.uniform(0, 20) for _ in range(WEB_PEOPLE + TELEGRAM_PEOPLE)]

            async def later(delay: float, run: Callable[[], Awaitable[None]]) -> None:
                await asyncio.sleep(delay)  # people come at different times
                await run()

            clients = [c.run for c in web] + [c.run for c in telegram]
            await asyncio.gather(*(later(d, r) for d, r in zip(starts, clients, strict=True)))
            while killer.tasks:  # a kill drawn at the very end: let it finish its restart
                await asyncio.gather(*killer.tasks)
            transcripts = [await client.transcript_user_messages() for client in web]
        finally:
            server.stop()
            await api.stop()

    print(f"seed {SEED}: kills {server.kills}; lost answers {killer.lost_answers}; {tally}")
    assert len(server.kills) >= 4, server.kills

    # Nothing doubled, nothing confirmed lost: one appointment per person, the one announced.
    async with peek.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT accounts.email, appointments.confirmation_code, appointments.status "
                    "FROM appointments JOIN accounts ON accounts.id = appointments.account_id"
                )
            )
        ).all()
        linked = set(
            (await conn.execute(text("SELECT chat_id FROM channel_links"))).scalars().all()
        )
        inbox = dict(
            (await conn.execute(text("SELECT update_id, handled_at FROM channel_inbox"))).all()
        )
    booked = {email: (code, status) for email, code, status in rows}
    assert len(rows) == len(people) == len(booked)
    for client, person in zip([*web, *telegram], people, strict=True):
        code, status = booked[person.email]
        assert status == "booked"
        announced = client.answers[-2]  # the confirmation's answer
        if announced is not None:
            assert f"Confirmation code: {code}" in announced

    # Every web message once in its transcript (a press sent again after it was handled is
    # stored as its bare payload, which no script step is), in order; secrets masked.
    for client, said in zip(web, transcripts, strict=True):
        expected = [
            MASK if step.kind == "code" or step.text() == client_password(client, people)
            else step.text()
            for step in client.steps[1:]
        ]  # fmt: skip
        assert [m for m in said if not re.fullmatch(r"\d+:\S+", m)] == expected
        assert client.session_id in linked

    # Every Telegram update in the inbox once, handled; each answer at most once.
    for client in telegram:
        assert all(inbox.get(u) is not None for u in client.update_ids), client.name
        assert str(client.chat_id) in linked
        sent = [c.text for c in api.calls_of("sendMessage", client.chat_id) if c.ok]
        for once in ("You are signed in as", "Your appointment is booked.", "Case Was Approved"):
            assert sum(once in t for t in sent) <= 1, (client.name, once)
    assert tally.lost_replies == []  # every Telegram answer arrived (bot/notify/reply_outbox.py)
    return server


def client_password(client: WebClient, people: list[Person]) -> str:
    return next(p.password for p in people if any(s.text() == p.email for s in client.steps))
