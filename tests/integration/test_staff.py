"""Staff accounts: added with a set-up code, set up with a password and an authenticator,
signed in with all three, locked out like applicants, sessions that expire and end; and the
query the handoff asks (who is available for a language). On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.ops.housekeeping import Housekeeper
from core.accounts.lockout import MAX_FAILURES
from core.accounts.otp import totp
from core.admin.audit import AuditEntry
from core.errors import AccountLocked, InvalidCode, InvalidCredentials, InvalidEmail, WeakPassword
from core.secret_box import is_sealed
from core.staff import (
    StaffMember,
    StaffRole,
    add_staff,
    authenticate_staff,
    available_staff,
    begin_setup,
    confirm_setup,
    disable_staff,
    get_staff,
    list_staff,
    reissue_setup_code,
    set_availability,
    sign_in_staff,
    sign_out_staff,
)
from core.staff.errors import (
    SetupCodeInvalid,
    StaffExists,
    StaffSessionExpired,
    StaffUnauthorized,
    UnknownLanguage,
)
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

PASSWORD = "console-lantern-harbor-7"


async def new_agent(
    uow_factory: UnitOfWorkFactory,
    email: str = "maria@agency.example",
    name: str = "Maria",
    languages: tuple[str, ...] = ("en", "es"),
) -> str:
    async with uow_factory() as uow:
        added = await add_staff(uow, email, name, languages)
        await uow.commit()
    return added.setup_code


async def set_up_agent(uow_factory: UnitOfWorkFactory, clock: FakeClock, **kwargs: object) -> str:
    """An agent who finished the set-up; returns their authenticator secret."""
    code = await new_agent(uow_factory, **kwargs)  # type: ignore[arg-type]
    started = await begin_setup(uow_factory, code, PASSWORD)
    async with uow_factory() as uow:
        await confirm_setup(uow, code, totp(started.secret, clock.now()))
        await uow.commit()
    clock.advance(seconds=30)
    return started.secret


async def test_an_agent_sets_up_and_signs_in_with_password_and_code(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    code = await new_agent(uow_factory)
    started = await begin_setup(uow_factory, code, PASSWORD)
    assert started.uri.startswith("otpauth://totp/")
    async with uow_factory() as uow:
        member = (await uow.session.scalars(select(StaffMember))).one()
        assert member.sealed_totp_secret is not None
        assert is_sealed(member.sealed_totp_secret)
        assert member.password_hash is not None
        assert member.password_hash.startswith("$argon2id$")
        assert member.setup_code_hash != code
    async with uow_factory() as uow:
        view = await confirm_setup(uow, code, totp(started.secret, clock.now()))
        await uow.commit()
    assert view.set_up
    assert view.languages == ("en", "es")
    assert view.role is StaffRole.AGENT
    clock.advance(seconds=30)
    signed_in = await sign_in_staff(
        uow_factory, "Maria@Agency.example", PASSWORD, totp(started.secret, clock.now())
    )
    assert signed_in.staff.display_name == "Maria"
    async with uow_factory() as uow:
        me = await authenticate_staff(uow, signed_in.token)
        assert me.id == signed_in.staff.id
        assert me.last_sign_in_at == clock.now()
        actions = [e.action for e in await uow.session.scalars(select(AuditEntry))]
    assert actions == ["staff.setup", "staff.sign_in"]


async def test_the_set_up_code_is_single_use_and_expires(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    code = await new_agent(uow_factory)
    clock.advance(hours=72, seconds=1)
    with pytest.raises(SetupCodeInvalid):
        await begin_setup(uow_factory, code, PASSWORD)
    with pytest.raises(SetupCodeInvalid):
        await begin_setup(uow_factory, "not-a-code", PASSWORD)
    secret_code = await new_agent(uow_factory, email="li@agency.example", name="Li")
    started = await begin_setup(uow_factory, secret_code, PASSWORD)
    async with uow_factory() as uow:
        await confirm_setup(uow, secret_code, totp(started.secret, clock.now()))
        await uow.commit()
    with pytest.raises(SetupCodeInvalid):
        await begin_setup(uow_factory, secret_code, "another-long-passphrase-9")


async def test_set_up_refuses_a_weak_password_and_a_wrong_code(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    code = await new_agent(uow_factory)
    with pytest.raises(WeakPassword):
        await begin_setup(uow_factory, code, "password")
    started = await begin_setup(uow_factory, code, PASSWORD)
    wrong = "000000" if totp(started.secret, clock.now()) != "000000" else "111111"
    async with uow_factory() as uow:
        with pytest.raises(InvalidCode):
            await confirm_setup(uow, code, wrong)
        await uow.commit()
    # Not set up: signing in is refused even with the right password.
    with pytest.raises(InvalidCredentials):
        await sign_in_staff(uow_factory, "maria@agency.example", PASSWORD, wrong)


async def test_wrong_password_or_code_is_one_refusal_and_five_lock_the_account(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    secret = await set_up_agent(uow_factory, clock)
    email = "maria@agency.example"
    with pytest.raises(InvalidCredentials):
        await sign_in_staff(uow_factory, "nobody@agency.example", PASSWORD, "123456")
    with pytest.raises(InvalidCredentials):
        await sign_in_staff(uow_factory, email, "wrong-password-here", totp(secret, clock.now()))
    for _ in range(MAX_FAILURES - 2):
        with pytest.raises(InvalidCredentials):
            await sign_in_staff(uow_factory, email, PASSWORD, "000000x")
    with pytest.raises(AccountLocked) as locked:
        await sign_in_staff(uow_factory, email, PASSWORD, "000000x")
    assert locked.value.until == clock.now() + timedelta(minutes=20)
    with pytest.raises(AccountLocked):  # even with everything right
        await sign_in_staff(uow_factory, email, PASSWORD, totp(secret, clock.now()))
    clock.advance(minutes=21)
    assert await sign_in_staff(uow_factory, email, PASSWORD, totp(secret, clock.now()))


async def test_a_code_is_accepted_once(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> None:
    secret = await set_up_agent(uow_factory, clock)
    code = totp(secret, clock.now())
    await sign_in_staff(uow_factory, "maria@agency.example", PASSWORD, code)
    with pytest.raises(InvalidCredentials):
        await sign_in_staff(uow_factory, "maria@agency.example", PASSWORD, code)


async def test_sessions_expire_when_idle_or_old_and_end_at_sign_out(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    secret = await set_up_agent(uow_factory, clock)

    async def sign_in() -> str:
        clock.advance(seconds=30)
        done = await sign_in_staff(
            uow_factory, "maria@agency.example", PASSWORD, totp(secret, clock.now())
        )
        return done.token

    async def check(token: str) -> None:
        async with uow_factory() as uow:
            await authenticate_staff(uow, token)
            await uow.commit()

    idle = await sign_in()
    clock.advance(hours=8, seconds=1)
    with pytest.raises(StaffSessionExpired):
        await check(idle)

    busy = await sign_in()
    for _ in range(11):  # used every hour: still expires 12 hours after sign-in
        clock.advance(hours=1)
        await check(busy)
    clock.advance(hours=1, seconds=1)
    with pytest.raises(StaffSessionExpired):
        await check(busy)

    token = await sign_in()
    async with uow_factory() as uow:
        await sign_out_staff(uow, token)
        await uow.commit()
    with pytest.raises(StaffUnauthorized):
        await check(token)
    with pytest.raises(StaffUnauthorized):
        await check("")


async def test_who_is_available_for_a_language(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    maria_secret = await set_up_agent(uow_factory, clock)
    li_secret = await set_up_agent(
        uow_factory, clock, email="li@agency.example", name="Li", languages=("zh", "en")
    )
    maria = await sign_in_staff(
        uow_factory, "maria@agency.example", PASSWORD, totp(maria_secret, clock.now())
    )
    li = await sign_in_staff(
        uow_factory, "li@agency.example", PASSWORD, totp(li_secret, clock.now())
    )
    async with uow_factory() as uow:
        assert await available_staff(uow, "es") == []  # signed in but away
        await set_availability(uow, maria.staff.id, True)
        await set_availability(uow, li.staff.id, True)
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.display_name for s in await available_staff(uow, "es")] == ["Maria"]
        found = await get_staff(uow, maria.staff.id)
        assert found is not None
        assert found.display_name == "Maria"
        assert await get_staff(uow, 10_000) is None
        assert [s.display_name for s in await available_staff(uow, "en")] == ["Li", "Maria"]
        assert await available_staff(uow, "ru") == []
    async with uow_factory() as uow:  # signed out of the only session: away
        await sign_out_staff(uow, li.token)
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.display_name for s in await available_staff(uow, "en")] == ["Maria"]
    clock.advance(hours=8, seconds=1)  # the console was closed without signing out
    async with uow_factory() as uow:
        assert await available_staff(uow, "en") == []


async def test_adding_refuses_bad_input_and_duplicates(uow_factory: UnitOfWorkFactory) -> None:
    await new_agent(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(StaffExists):
            await add_staff(uow, "MARIA@agency.example", "Maria", ["en"])
        with pytest.raises(UnknownLanguage) as unknown:
            await add_staff(uow, "x@agency.example", "X", ["en", "de"])
        assert unknown.value.code == "de"
        with pytest.raises(InvalidEmail):
            await add_staff(uow, "not an email", "X", ["en"])


async def test_disabling_ends_sessions_and_sign_in(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    secret = await set_up_agent(uow_factory, clock)
    signed_in = await sign_in_staff(
        uow_factory, "maria@agency.example", PASSWORD, totp(secret, clock.now())
    )
    async with uow_factory() as uow:
        _view, changed = await disable_staff(uow, "maria@agency.example")
        await uow.commit()
    assert changed
    async with uow_factory() as uow:
        with pytest.raises(StaffUnauthorized):
            await authenticate_staff(uow, signed_in.token)
        assert [s.disabled for s in await list_staff(uow)] == [True]
    clock.advance(seconds=30)
    code = totp(secret, clock.now())
    with pytest.raises(InvalidCredentials):
        await sign_in_staff(uow_factory, "maria@agency.example", PASSWORD, code)
    # A new set-up code enables the account again, with a new password and authenticator.
    async with uow_factory() as uow:
        again = await reissue_setup_code(uow, "maria@agency.example")
        await uow.commit()
    started = await begin_setup(uow_factory, again.setup_code, "a-brand-new-passphrase-3")
    assert started.secret != secret


async def test_housekeeping_deletes_expired_console_sessions(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    secret = await set_up_agent(uow_factory, clock)
    await sign_in_staff(uow_factory, "maria@agency.example", PASSWORD, totp(secret, clock.now()))
    clock.advance(hours=4)
    kept = await sign_in_staff(
        uow_factory, "maria@agency.example", PASSWORD, totp(secret, clock.now())
    )
    clock.advance(hours=4, seconds=1)  # the first is 8 hours idle, the second 4
    keeper = Housekeeper(uow_factory, timedelta(hours=24))
    purged = await keeper.run_once()
    assert purged is not None
    assert purged.staff_sessions == 1
    async with uow_factory() as uow:
        assert (await authenticate_staff(uow, kept.token)).display_name == "Maria"
