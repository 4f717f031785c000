"""Known and unknown emails are told apart neither by the words nor by the time of the answer,
in sign-in and in "forgot password", through the real engine.

The timing class of a turn is the number of Argon2id operations it runs (tens of milliseconds
each, against about a millisecond for the rest of a turn): counted exactly, and measured on the
clock beside one Argon2id verification timed in the same run.

Already proven elsewhere (cited, not repeated): the same sign-in words for an unknown email and
a wrong password (tests/conversation/test_link_account.py::
test_an_unknown_email_and_a_wrong_password_get_the_same_answer), the same reset words, mail
subject and code answers (test_forgot_password.py::
test_an_unknown_email_gets_the_same_answers_as_a_known_one), the core paying one dummy Argon2
verification for an unknown email (tests/integration/test_accounts.py::
test_an_unknown_email_fails_like_a_wrong_password_at_the_same_cost), lockout after five wrong
passwords or codes, email-code tries, access-code tries and budget, throttled lookups, and TOTP
codes refused on reuse (test_accounts.py, test_cases.py, test_link_account.py,
test_my_cases.py, tests/unit/test_otp.py).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from core.accounts.passwords import DUMMY_HASH, verify_password_async
from core.db import Database
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, load_demo
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

UNKNOWN = "nobody.here@example.com"
WRONG_PASSWORD = "not-the-password-at-all-5"
ROUNDS = 5


class Argon2Counter:
    """Counts the Argon2id hashes and verifications run (any caller, any thread)."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture
def argon2_ops(monkeypatch: pytest.MonkeyPatch) -> Argon2Counter:
    counter = Argon2Counter()
    real_verify, real_hash = PasswordHasher.verify, PasswordHasher.hash

    def verify(self: PasswordHasher, *args: Any, **kwargs: Any) -> Any:
        counter.count += 1
        return real_verify(self, *args, **kwargs)

    def hash_(self: PasswordHasher, *args: Any, **kwargs: Any) -> Any:
        counter.count += 1
        return real_hash(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    monkeypatch.setattr(PasswordHasher, "hash", hash_)
    return counter


@pytest.fixture
async def engine_on_sqlite(sqlite_db: Database, clock: FakeClock) -> Engine:
    """Timing is measured on SQLite only: a server round trip would add its own noise."""
    uow_factory = UnitOfWorkFactory(sqlite_db, clock)
    await load_demo(uow_factory)
    services = Services(uow_factory=uow_factory, mailer=FakeMailer(), clock=clock)
    return Engine(services, all_dialogs())


async def timed(step: Callable[[], Awaitable[Any]], counter: Argon2Counter) -> tuple[float, int]:
    before = counter.count
    started = time.perf_counter()
    await step()
    return time.perf_counter() - started, counter.count - before


async def argon2_seconds() -> float:
    samples = []
    for _ in range(3):
        started = time.perf_counter()
        await verify_password_async(DUMMY_HASH, "anything")
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def forget_failures(db: Database) -> None:
    """Keep the demo account below its lockout between rounds (five wrong passwords lock it)."""
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE accounts SET failed_logins = 0, locked_until = NULL"))


async def test_the_password_answer_takes_the_same_argon2_work_for_known_and_unknown_emails(
    engine_on_sqlite: Engine, sqlite_db: Database, argon2_ops: Argon2Counter
) -> None:
    samples: dict[str, list[float]] = {"unknown": [], "wrong": [], "right": []}
    operations: dict[str, set[int]] = {name: set() for name in samples}
    answers: dict[str, set[str]] = {name: set() for name in samples}
    for round_ in range(ROUNDS):
        for name, email, password in (
            ("unknown", UNKNOWN, WRONG_PASSWORD),
            ("wrong", DEMO_EMAIL, WRONG_PASSWORD),
            ("right", DEMO_EMAIL, DEMO_PASSWORD),
        ):
            await forget_failures(sqlite_db)
            chat = FakeChat(engine_on_sqlite, chat_id=f"{name}-{round_}")
            await chat.send("sign in")
            await chat.send(email)
            seconds, ops = await timed(lambda c=chat, p=password: c.send(p), argon2_ops)
            samples[name].append(seconds)
            operations[name].add(ops)
            answers[name].add(chat.replies[0].text)
    argon2 = await argon2_seconds()

    assert operations["unknown"] == operations["wrong"] == {1}  # one verification each
    assert answers["unknown"] == answers["wrong"]
    assert len(answers["unknown"]) == 1
    unknown, wrong = statistics.median(samples["unknown"]), statistics.median(samples["wrong"])
    assert unknown >= 0.5 * argon2, (unknown, argon2)  # Argon2-bound, like a known email
    assert wrong >= 0.5 * argon2, (wrong, argon2)
    assert 1 / 3 <= unknown / wrong <= 3, (unknown, wrong)


async def test_forgot_password_answers_in_the_same_class_for_known_and_unknown_emails(
    engine_on_sqlite: Engine, argon2_ops: Argon2Counter, clock: FakeClock
) -> None:
    operations: dict[str, set[int]] = {"known": set(), "unknown": set()}
    answers: dict[str, set[str]] = {"known": set(), "unknown": set()}
    for round_ in range(ROUNDS):
        clock.advance(minutes=2)  # past the one-code-a-minute cooldown of each address
        for name, email in (("known", DEMO_EMAIL), ("unknown", UNKNOWN)):
            chat = FakeChat(engine_on_sqlite, chat_id=f"reset-{name}-{round_}")
            await chat.send("hi")
            await chat.press("Password and sign-in help")
            await chat.press("I forgot my password")
            _seconds, email_ops = await timed(lambda c=chat, e=email: c.send(e), argon2_ops)
            asked = chat.text.replace(email, "<email>")
            _seconds, code_ops = await timed(lambda c=chat: c.send("000000"), argon2_ops)
            operations[name].add(email_ops + code_ops)
            answers[name].add(asked + "\n" + chat.text)
    # Neither path runs Argon2 before the code is proven: the same (fast) class, the same words.
    assert operations["known"] == operations["unknown"] == {0}
    assert answers["known"] == answers["unknown"]
