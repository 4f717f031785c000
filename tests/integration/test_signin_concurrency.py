"""A sign-in's Argon2id verification and the other chats' turns (found by bench_proofs, issue 8).

On SQLite the engine's turn is one unit of work that holds the process's single write queue for
its whole life, and ``start_sign_in`` runs inside the turn: the Argon2id verification (tens of
milliseconds, more under load) held up every other chat's turn, and sign-ins never used more
than one of the ``MAX_CONCURRENT_HASHES`` slots (on PostgreSQL it held a pooled connection). Now
a turn that needs a hash is undone, the hash computed outside its transaction, and the turn run
again (``Engine._turn``, ``core.accounts.passwords.HashDeferral``).
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from bot.engine import Engine
from core.accounts import passwords
from core.accounts.models import Account
from core.demo import DEMO_EMAIL, DEMO_PASSWORD
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat

pytestmark = pytest.mark.usefixtures("demo")

HELD_FOR: float = 10.0  # the verification is held at most this long (released sooner)
OTHER_TURN_TIMEOUT: float = 3.0  # a case lookup takes milliseconds; this is generous


async def test_another_chats_turn_does_not_wait_for_a_sign_in_verification(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing_in = FakeChat(engine, chat_id="signing-in")
    other = FakeChat(engine, chat_id="other")
    await signing_in.send("sign in")
    await signing_in.send(DEMO_EMAIL)
    await other.send("hi")

    # The real verification, held in its worker thread until the other chat has had its turn.
    verifying, release = threading.Event(), threading.Event()
    real_verify = passwords.verify_password

    def held_verify(stored_hash: str, secret: str) -> bool:
        verifying.set()
        release.wait(HELD_FOR)
        return real_verify(stored_hash, secret)

    monkeypatch.setattr(passwords, "verify_password", held_verify)
    sign_in = asyncio.create_task(signing_in.send(DEMO_PASSWORD))
    try:
        assert await asyncio.to_thread(verifying.wait, HELD_FOR)
        await asyncio.wait_for(other.send("WAC2212345678"), OTHER_TURN_TIMEOUT)
        assert "Case Was Approved" in other.text
    finally:
        release.set()
        await sign_in
    assert signing_in.asks_secret
    assert "6-digit code" in signing_in.text


async def test_a_sign_in_that_verifies_then_rehashes_runs_its_turn_until_both_are_known(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    # A password hashed with older parameters: the turn needs the verification, then a new
    # hash; each is computed outside the turn's transaction, and the last run commits both.
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(DEMO_PASSWORD)
    async with uow_factory() as uow:
        account = await uow.session.scalar(select(Account).where(Account.email == DEMO_EMAIL))
        assert account is not None
        account.password_hash = weak
        await uow.commit()
    chat = FakeChat(engine, chat_id="rehashing")
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    assert chat.asks_secret
    assert "6-digit code" in chat.text
    async with uow_factory() as uow:
        stored = await uow.session.scalar(
            select(Account.password_hash).where(Account.email == DEMO_EMAIL)
        )
    assert stored != weak
    assert not passwords.needs_rehash(stored)
    assert passwords.verify_password(stored, DEMO_PASSWORD)


async def test_a_hash_that_fails_outside_the_turn_is_an_apology_not_a_crash(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = FakeChat(engine, chat_id="hash-fails")
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)

    def broken_verify(_stored_hash: str, _secret: str) -> bool:
        raise MemoryError("no memory for Argon2id")

    monkeypatch.setattr(passwords, "verify_password", broken_verify)
    turn = await chat.send(DEMO_PASSWORD)
    assert turn.failed
    assert "Sorry, something went wrong on our side" in chat.text
