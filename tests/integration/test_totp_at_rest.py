"""Authenticator secrets at rest: sealed in the database under CASEBOT_SECRET_KEY, legacy plain
rows (databases made by migration 0001) still signing in and sealed on use or at start-up, old
keys rotated out, and a missing key refused clearly: never a wrong code, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bot.app import Prepared, build_app
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.settings import Settings
from core.accounts.otp import is_valid_secret, totp
from core.accounts.service import register_account
from core.accounts.signin import SecondFactor, complete_sign_in, start_sign_in
from core.accounts.totp_store import reseal_totp_secrets
from core.db import Database
from core.demo import (
    DEMO_BACKUP_CODE,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    load_demo,
)
from core.errors import SecretUnreadable
from core.secret_box import SEALED_PREFIX, SecretBox, key_id
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

SECRET_KEY = "current-secret-key-for-the-tests-0123456789"
OLD_SECRET_KEY = "old-secret-key-for-the-rotation-tests-0123"
LOST_SECRET_KEY = "a-secret-key-nobody-configured-any-more-99"


def factory(db: Database, clock: FakeClock, key: str | None, *old: str) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(db, clock, SecretBox(key, old))


async def raw_secret(db: Database, email: str = DEMO_EMAIL) -> str | None:
    """The column as stored, read with SQL alone (what a dump or a backup holds)."""
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT totp_secret FROM accounts WHERE email = :email"), {"email": email}
        )
    return None if value is None else str(value)


async def store_raw(db: Database, value: str, email: str = DEMO_EMAIL) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE accounts SET totp_secret = :value WHERE email = :email"),
            {"value": value, "email": email},
        )


async def failed_logins(db: Database) -> int:
    async with db.engine.connect() as conn:
        value = await conn.scalar(
            text("SELECT failed_logins FROM accounts WHERE email = :email"), {"email": DEMO_EMAIL}
        )
    return int(value)


async def sign_in_with(uow_factory: UnitOfWorkFactory, code: str) -> SecondFactor:
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "test", "chat-1")
    result = await complete_sign_in(uow_factory, challenge.account_id, code, "test", "chat-1")
    return result.factor


async def test_the_stored_column_holds_no_authenticator_secret(
    db: Database, clock: FakeClock
) -> None:
    uow_factory = factory(db, clock, SECRET_KEY)
    await load_demo(uow_factory)
    registration = await register_account(
        uow_factory,
        email="new.person@example.com",
        password="amber-violin-compass-73",
        reset_answers={"first_pet": "maple"},
        email_code=None,
        skip_email_verification=True,
    )
    assert registration.totp_secret is not None
    for email, secret in (
        (DEMO_EMAIL, DEMO_TOTP_SECRET),
        ("new.person@example.com", registration.totp_secret),
    ):
        stored = await raw_secret(db, email)
        assert stored is not None
        assert stored.startswith(f"{SEALED_PREFIX}{key_id(SECRET_KEY)}:")
        assert secret not in stored
        assert secret not in stored.upper()
        assert not is_valid_secret(stored)
        assert uow_factory.secret_box.open(stored) == secret


async def test_a_legacy_plain_secret_signs_in_and_is_sealed_on_use(
    db: Database, clock: FakeClock
) -> None:
    uow_factory = factory(db, clock, SECRET_KEY)
    await load_demo(uow_factory)
    await store_raw(db, DEMO_TOTP_SECRET)  # as migration 0001's rows hold it

    factor = await sign_in_with(uow_factory, totp(DEMO_TOTP_SECRET, clock.now()))

    assert factor is SecondFactor.AUTHENTICATOR
    stored = await raw_secret(db)
    assert stored is not None
    assert stored.startswith(uow_factory.secret_box.current_prefix)
    assert uow_factory.secret_box.open(stored) == DEMO_TOTP_SECRET


async def test_start_up_seals_legacy_and_old_key_secrets_and_reports_unknown_keys(
    db: Database, clock: FakeClock
) -> None:
    uow_factory = factory(db, clock, SECRET_KEY, OLD_SECRET_KEY)
    await load_demo(uow_factory)
    emails = ["legacy@example.com", "old.key@example.com", "lost.key@example.com"]
    for email in emails:
        await register_account(
            uow_factory,
            email=email,
            password="amber-violin-compass-73",
            reset_answers={"first_pet": "maple"},
            email_code=None,
            totp_secret=DEMO_TOTP_SECRET,
            skip_email_verification=True,
        )
    await store_raw(db, DEMO_TOTP_SECRET, "legacy@example.com")
    await store_raw(db, SecretBox(OLD_SECRET_KEY).seal(DEMO_TOTP_SECRET), "old.key@example.com")
    lost = SecretBox(LOST_SECRET_KEY).seal(DEMO_TOTP_SECRET)
    await store_raw(db, lost, "lost.key@example.com")
    current = await raw_secret(db)

    report = await reseal_totp_secrets(uow_factory)

    assert (report.resealed, report.unreadable) == (2, 1)
    assert report.missing_keys == (key_id(LOST_SECRET_KEY),)
    for email in emails[:2]:
        stored = await raw_secret(db, email)
        assert stored is not None
        assert uow_factory.secret_box.is_current(stored)
        assert uow_factory.secret_box.open(stored) == DEMO_TOTP_SECRET
    assert await raw_secret(db, "lost.key@example.com") == lost  # left for when the key returns
    assert await raw_secret(db) == current  # already current: untouched
    again = await reseal_totp_secrets(uow_factory)
    assert (again.resealed, again.unreadable) == (0, 1)


async def test_a_secret_under_a_key_not_configured_is_no_wrong_code_and_the_backup_code_works(
    db: Database, clock: FakeClock
) -> None:
    await load_demo(factory(db, clock, LOST_SECRET_KEY))
    uow_factory = factory(db, clock, SECRET_KEY)

    with pytest.raises(SecretUnreadable) as caught:
        await sign_in_with(uow_factory, totp(DEMO_TOTP_SECRET, clock.now()))

    assert caught.value.key_id == key_id(LOST_SECRET_KEY)
    assert await failed_logins(db) == 0  # not counted toward the lockout
    assert await sign_in_with(uow_factory, DEMO_BACKUP_CODE) is SecondFactor.BACKUP_CODE


async def test_the_chat_says_to_use_the_backup_code_when_the_key_is_missing(
    db: Database, clock: FakeClock
) -> None:
    await load_demo(factory(db, clock, LOST_SECRET_KEY))
    services = Services(
        uow_factory=factory(db, clock, SECRET_KEY), mailer=FakeMailer(), clock=clock
    )
    chat = FakeChat(Engine(services, all_dialogs()))
    await chat.send("sign in")
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)

    await chat.send(totp(DEMO_TOTP_SECRET, clock.now()))

    assert "cannot check codes from your authenticator app" in chat.text
    assert "backup code" in chat.text
    assert chat.asks_secret  # still at the code step: the backup code can be typed now
    assert "went wrong" not in chat.text


async def test_serve_start_up_seals_a_legacy_database_under_the_configured_key(
    sqlite_db: Database, clock: FakeClock, tmp_path: Path
) -> None:
    await load_demo(factory(sqlite_db, clock, None))
    await store_raw(sqlite_db, DEMO_TOTP_SECRET)
    app = build_app(Settings(database_url=sqlite_db.url, secret_key=SECRET_KEY, var_dir=tmp_path))
    try:
        assert await app.prepare_database(demo_if_empty=True) is Prepared.IN_USE
    finally:
        await app.close()
    stored = await raw_secret(sqlite_db)
    assert stored is not None
    assert stored.startswith(f"{SEALED_PREFIX}{key_id(SECRET_KEY)}:")
    assert SecretBox(SECRET_KEY).open(stored) == DEMO_TOTP_SECRET
