"""The budget of password checks that strangers can trigger, through the real engine (SQLite
and PostgreSQL): past a chat's, a client address's or the whole service's budget, a sign-in
attempt is refused before any Argon2id work, with the same words for a known and an unknown
email, so real sign-ins keep the CPU and the answer still tells no one who has an account.

What these tests count is which attempts hash (the Argon2id operations, counted exactly);
benchmarks/bench_flood.py measures what that does to a real sign-in's latency under a flood.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher

from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from core import ratelimit
from core.accounts.password_budget import (
    CHECKS_PER_CHAT_PER_MINUTE,
    CHECKS_PER_CLIENT_BURST,
    CHECKS_PER_CLIENT_PER_HOUR,
    CHECKS_PER_CLIENT_PER_MINUTE,
    FIRST_KEY,
    REPEAT_KEY,
    PasswordBudget,
    spend_password_check,
)
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, load_demo
from core.errors import PasswordChecksBusy, RateLimited
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

UNKNOWN = "nobody.here@example.com"
WRONG = "not-the-password-at-all-5"
OVER_CHAT = "You have done that many times. Please wait 1 minute and try again."
BUSY = "Many people are signing in right now. Please try again in a moment."


class Argon2Counter:
    """Counts the Argon2id hashes and verifications run (any caller, any thread)."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def argon2_ops(monkeypatch: pytest.MonkeyPatch) -> Argon2Counter:
    counter = Argon2Counter()
    real_verify = PasswordHasher.verify

    def verify(self: PasswordHasher, *args: Any, **kwargs: Any) -> Any:
        counter.count += 1
        return real_verify(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return counter


def engine_with(uow_factory: UnitOfWorkFactory, clock: FakeClock, per_second: int) -> Engine:
    services = Services(
        uow_factory=uow_factory,
        mailer=FakeMailer(),
        clock=clock,
        password_checks_per_second=per_second,
    )
    return Engine(services, all_dialogs())


@pytest.fixture
async def demo_engine(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> Engine:
    await load_demo(uow_factory)
    return engine_with(uow_factory, clock, per_second=1000)


async def at_password(chat: FakeChat, email: str) -> None:
    await chat.send("sign in")
    await chat.send(email)
    assert "password" in chat.text


async def hashes(counter: Argon2Counter, chat: FakeChat, password: str) -> int:
    before = counter.count
    await chat.send(password)
    return counter.count - before


async def test_past_a_chat_s_budget_a_password_is_refused_before_argon2_for_any_email(
    demo_engine: Engine, argon2_ops: Argon2Counter
) -> None:
    chat = FakeChat(demo_engine, chat_id="stranger")
    await at_password(chat, UNKNOWN)
    for _ in range(CHECKS_PER_CHAT_PER_MINUTE):
        assert await hashes(argon2_ops, chat, WRONG) == 1
    assert await hashes(argon2_ops, chat, WRONG) == 0
    assert chat.replies[0].text == OVER_CHAT
    await chat.press("Use another email")
    await chat.send(DEMO_EMAIL)
    assert await hashes(argon2_ops, chat, DEMO_PASSWORD) == 0  # even the right password
    assert chat.replies[0].text == OVER_CHAT  # the same words: no account is told apart


async def test_a_client_address_has_one_budget_across_its_chats(
    demo_engine: Engine, clock: FakeClock, argon2_ops: Argon2Counter
) -> None:
    async def attempt(n: int, client: str, email: str, password: str) -> tuple[int, FakeChat]:
        chat = FakeChat(demo_engine, chat_id=f"chat-{n}", client=client)  # a fresh chat budget
        await at_password(chat, email)
        return await hashes(argon2_ops, chat, password), chat

    for n in range(CHECKS_PER_CLIENT_BURST):
        assert (await attempt(n, "198.51.100.7", f"nobody{n}@example.com", WRONG))[0] == 1
    ops, refused = await attempt(99, "198.51.100.7", DEMO_EMAIL, DEMO_PASSWORD)
    assert ops == 0
    assert refused.replies[0].text.startswith("You have done that many times.")
    ops, elsewhere = await attempt(100, "203.0.113.9", DEMO_EMAIL, DEMO_PASSWORD)
    assert ops == 1
    assert "code" in elsewhere.text  # the password was right: on to the second factor
    clock.advance(timedelta(seconds=10))
    assert (await attempt(101, "198.51.100.7", DEMO_EMAIL, DEMO_PASSWORD))[0] == 1
    assert CHECKS_PER_CLIENT_BURST < CHECKS_PER_CLIENT_PER_MINUTE < CHECKS_PER_CLIENT_PER_HOUR


async def test_past_the_service_s_rate_every_attempt_is_refused_cheaply_until_the_next_second(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, argon2_ops: Argon2Counter
) -> None:
    await load_demo(uow_factory)
    engine = engine_with(uow_factory, clock, per_second=3)
    chats = [FakeChat(engine, chat_id=f"c{n}", client=f"198.51.100.{n}") for n in range(5)]
    for n, chat in enumerate(chats):
        await at_password(chat, DEMO_EMAIL if n == 4 else f"nobody{n}@example.com")
    assert [await hashes(argon2_ops, chat, WRONG) for chat in chats[:3]] == [1, 1, 1]
    assert await hashes(argon2_ops, chats[3], WRONG) == 0
    assert BUSY in chats[3].text
    assert await hashes(argon2_ops, chats[4], DEMO_PASSWORD) == 0  # known or not, alike
    assert BUSY in chats[4].text
    clock.advance(timedelta(seconds=1))
    assert await hashes(argon2_ops, chats[4], DEMO_PASSWORD) == 1


async def test_an_attempt_refused_by_its_requester_s_budget_spends_none_of_the_service_s(
    uow_factory: UnitOfWorkFactory,
) -> None:
    budget = PasswordBudget(per_second=100, requesters=("chat:test:x",))
    for _ in range(CHECKS_PER_CHAT_PER_MINUTE):
        async with uow_factory() as uow:
            await spend_password_check(uow, budget)
            await uow.commit()
    for _ in range(5):
        async with uow_factory() as uow:
            with pytest.raises(RateLimited) as refused:
                await spend_password_check(uow, budget)
            await uow.commit()
        assert not isinstance(refused.value, PasswordChecksBusy)
    async with uow_factory() as uow:
        first = await ratelimit.usage(uow, FIRST_KEY, window=timedelta(seconds=1))
        repeat = await ratelimit.usage(uow, REPEAT_KEY, window=timedelta(seconds=1))
    assert (first.count, repeat.count) == (1, CHECKS_PER_CHAT_PER_MINUTE - 1)


async def test_a_requester_s_repeat_attempts_get_a_quarter_of_the_service_s_rate(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, argon2_ops: Argon2Counter
) -> None:
    await load_demo(uow_factory)
    engine = engine_with(uow_factory, clock, per_second=8)  # 2 a second for repeat attempts

    async def attempt(n: int, client: str, email: str, password: str) -> tuple[int, str]:
        chat = FakeChat(engine, chat_id=f"chat-{n}", client=client)
        await at_password(chat, email)
        return await hashes(argon2_ops, chat, password), chat.replies[0].text

    flood = "198.51.100.7"
    assert [(await attempt(n, flood, f"n{n}@example.com", WRONG))[0] for n in range(3)] == [1] * 3
    assert await attempt(3, flood, DEMO_EMAIL, DEMO_PASSWORD) == (0, BUSY)
    ops, _text = await attempt(4, "203.0.113.9", DEMO_EMAIL, DEMO_PASSWORD)
    assert ops == 1  # a person's first attempt still finds room


def test_a_budget_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="per second"):
        PasswordBudget(per_second=0)
