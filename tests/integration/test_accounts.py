"""Account services on SQLite and PostgreSQL: registration, sign-in, lockout, reset, links."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

import core.accounts.signin as signin
from core.accounts import (
    Chat,
    account_for_chat,
    can_act_for,
    change_otp_method,
    chats_of_account,
    check_reset_code,
    clients_of,
    complete_sign_in,
    find_account_by_email,
    get_account,
    grant_client,
    issue_reset_code,
    issue_verification_code,
    link_chat,
    register_account,
    reset_password,
    start_sign_in,
    unlink_chat,
    verify_email_code,
)
from core.accounts.email_codes import issue_email_code
from core.accounts.models import Account, AccountKind, CodePurpose, EmailCode, OtpMethod
from core.accounts.otp import totp
from core.accounts.passwords import hash_password, verify_password
from core.errors import (
    AccountLocked,
    CodeExpired,
    CodeReused,
    EmailTaken,
    InvalidCode,
    InvalidCredentials,
    NotAuthorized,
    RateLimited,
    WeakPassword,
)
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

PASSWORD = "sunflower-passport-42"
SECRET = "JBSWY3DPEHPK3PXP"
BACKUP = "7K3Q-9WXM-2PLD"


@functools.cache
def _hash(secret: str) -> str:
    """Argon2 hashes made once per test session: account fixtures need no hashing of their own."""
    return hash_password(secret)


async def _make_account(
    uow_factory: UnitOfWorkFactory,
    email: str = "ana@example.com",
    *,
    method: OtpMethod = OtpMethod.AUTHENTICATOR,
    kind: AccountKind = AccountKind.APPLICANT,
) -> int:
    from core.accounts.models import ResetAnswer

    async with uow_factory() as uow:
        account = Account(
            email=email,
            password_hash=_hash(PASSWORD),
            kind=kind,
            otp_method=method,
            sealed_totp_secret=(
                uow.secret_box.seal(SECRET) if method is OtpMethod.AUTHENTICATOR else None
            ),
            backup_code_hash=_hash("7K3Q9WXM2PLD"),
            failed_logins=0,
            lockouts=0,
            email_verified=True,
        )
        account.reset_answers = [ResetAnswer(question_id="first_pet", answer_hash=_hash("maple"))]
        uow.session.add(account)
        await uow.commit()
        return account.id


async def _raises(error: type[Exception], call: Awaitable[Any]) -> Any:
    with pytest.raises(error) as caught:
        await call
    return caught.value


# --- registration ----------------------------------------------------------------------------


async def test_registers_an_account_after_its_email_is_verified(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        issued = await issue_verification_code(uow, "  New.User@Example.com ")
        await uow.commit()
    assert issued.email == "new.user@example.com"
    assert issued.code not in repr(issued)

    wrong = f"{(int(issued.code) + 1) % 1_000_000:06d}"
    error = await _raises(
        InvalidCode,
        register_account(
            uow_factory,
            email="new.user@example.com",
            password=PASSWORD,
            reset_answers={"first_pet": "Rex"},
            email_code=wrong,
        ),
    )
    assert error.attempts_left == 4

    registration = await register_account(
        uow_factory,
        email="New.User@EXAMPLE.com",
        password=PASSWORD,
        reset_answers={"first_pet": "Rex", "birth_city": "São Paulo"},
        email_code=issued.code,
        kind=AccountKind.REPRESENTATIVE,
    )
    assert registration.totp_secret is not None
    assert registration.enrolment.provisioning_uri is not None
    assert len(registration.backup_code) == 14
    async with uow_factory() as uow:
        account = await find_account_by_email(uow, "NEW.USER@example.com ")
        assert account is not None
        assert account.email == "new.user@example.com"
        assert account.kind is AccountKind.REPRESENTATIVE
        assert account.email_verified
        assert account.password_hash.startswith("$argon2id$")
        code_row = await uow.session.scalar(select(EmailCode))
        assert code_row is not None
        assert code_row.used_at is not None  # the code is used up


async def test_registration_needs_an_email_code(uow_factory: UnitOfWorkFactory) -> None:
    await _raises(
        InvalidCode,
        register_account(
            uow_factory,
            email="ana@example.com",
            password=PASSWORD,
            reset_answers={"first_pet": "maple"},
            email_code=None,
        ),
    )


async def test_registration_refuses_an_email_taken_in_any_case(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _make_account(uow_factory, "ana@example.com")
    async with uow_factory() as uow:
        await _raises(EmailTaken, issue_verification_code(uow, "ANA@example.com"))
    await _raises(
        EmailTaken,
        register_account(
            uow_factory,
            email="Ana@Example.COM",
            password=PASSWORD,
            reset_answers={"first_pet": "maple"},
            email_code=None,
            skip_email_verification=True,
        ),
    )


async def test_registration_applies_the_password_policy(uow_factory: UnitOfWorkFactory) -> None:
    error = await _raises(
        WeakPassword,
        register_account(
            uow_factory,
            email="maria.lopez@example.com",
            password="maria.lopez2024",
            reset_answers={"first_pet": "maple"},
            email_code=None,
            skip_email_verification=True,
        ),
    )
    assert error.reason == "contains_email"


async def test_demo_fixtures_can_register_with_given_secrets_and_sign_in_with_them(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    registration = await register_account(
        uow_factory,
        email="ana.demo@example.com",
        password=PASSWORD,
        reset_answers={question: "maple" for question in ("first_pet", "birth_city")},
        email_code=None,
        totp_secret=SECRET,
        backup_code="7k3q 9wxm 2pld",
        skip_email_verification=True,
    )
    assert (registration.totp_secret, registration.backup_code) == (SECRET, BACKUP)
    challenge = await start_sign_in(uow_factory, "ana.demo@example.com", PASSWORD, "telegram", "42")
    result = await complete_sign_in(
        uow_factory, challenge.account_id, totp(SECRET, clock.now()), "telegram", "42"
    )
    assert result.account_id == registration.account_id


# --- email codes -----------------------------------------------------------------------------


async def test_a_new_code_waits_60_seconds_and_supersedes_the_old(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        first = await issue_email_code(uow, "ana@example.com", CodePurpose.VERIFY_EMAIL)
        await uow.commit()
    clock.advance(seconds=30)
    async with uow_factory() as uow:
        error = await _raises(
            RateLimited, issue_email_code(uow, "ana@example.com", CodePurpose.VERIFY_EMAIL)
        )
    assert error.retry_after_seconds == 30
    clock.advance(seconds=30)
    async with uow_factory() as uow:
        second = await issue_email_code(uow, "ana@example.com", CodePurpose.VERIFY_EMAIL)
        await uow.commit()
    if first.code != second.code:
        await _raises(
            InvalidCode,
            verify_email_code(uow_factory, "ana@example.com", CodePurpose.VERIFY_EMAIL, first.code),
        )
    await verify_email_code(uow_factory, "ana@example.com", CodePurpose.VERIFY_EMAIL, second.code)
    await _raises(
        CodeReused,
        verify_email_code(uow_factory, "ana@example.com", CodePurpose.VERIFY_EMAIL, second.code),
    )


async def test_an_email_code_is_bound_to_its_purpose(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        issued = await issue_email_code(uow, "ana@example.com", CodePurpose.VERIFY_EMAIL)
        await uow.commit()
    await _raises(
        InvalidCode,
        verify_email_code(uow_factory, "ana@example.com", CodePurpose.RESET, issued.code),
    )


# --- sign-in ---------------------------------------------------------------------------------


async def test_signs_in_with_password_and_authenticator_code_and_links_the_chat(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await _make_account(uow_factory)
    challenge = await start_sign_in(uow_factory, " ANA@example.com", PASSWORD, "telegram", "1001")
    assert (challenge.account_id, challenge.method) == (account_id, OtpMethod.AUTHENTICATOR)
    assert challenge.email_code is None
    code = totp(SECRET, clock.now())
    result = await complete_sign_in(uow_factory, account_id, code, "telegram", "1001")
    assert result.new_backup_code is None
    async with uow_factory() as uow:
        account = await account_for_chat(uow, "telegram", "1001")
        assert account is not None
        assert account.id == account_id

    # The same code again, even after a fresh password step, is refused.
    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "s1")
    await _raises(CodeReused, complete_sign_in(uow_factory, account_id, code, "web", "s1"))


async def test_the_second_step_needs_the_first(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await _make_account(uow_factory)
    code = totp(SECRET, clock.now())
    await _raises(CodeExpired, complete_sign_in(uow_factory, account_id, code, "web", "s1"))
    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "s1")
    clock.advance(minutes=10)
    code = totp(SECRET, clock.now())
    await _raises(CodeExpired, complete_sign_in(uow_factory, account_id, code, "web", "s1"))


async def test_the_second_step_belongs_to_the_chat_that_typed_the_password(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await _make_account(uow_factory)
    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "a")
    code = totp(SECRET, clock.now())
    # Another chat cannot finish it (no failure counted: it has no challenge of its own) ...
    await _raises(CodeExpired, complete_sign_in(uow_factory, account_id, code, "web", "b"))
    async with uow_factory() as uow:
        assert (await get_account(uow, account_id)).failed_logins == 0
    # ... nor cancel it by opening its own.
    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "b")
    await complete_sign_in(uow_factory, account_id, code, "web", "a")
    clock.advance(seconds=30)
    await complete_sign_in(uow_factory, account_id, totp(SECRET, clock.now()), "web", "b")
    async with uow_factory() as uow:
        for chat in ("a", "b"):
            account = await account_for_chat(uow, "web", chat)
            assert account is not None
            assert account.id == account_id


async def test_signs_in_with_an_email_code_for_email_method_accounts(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await _make_account(uow_factory, method=OtpMethod.EMAIL)
    challenge = await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "s1")
    assert challenge.method is OtpMethod.EMAIL
    assert challenge.email_code is not None
    assert challenge.email_code.purpose is CodePurpose.SIGN_IN
    # Typing the password again within a minute mails nothing new; the first code still works.
    again = await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "s1")
    assert again.email_code is None
    result = await complete_sign_in(uow_factory, account_id, challenge.email_code.code, "web", "s1")
    assert result.factor == "email"


async def test_a_backup_code_signs_in_once_and_is_replaced(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account_id = await _make_account(uow_factory)
    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "s1")
    result = await complete_sign_in(uow_factory, account_id, "7k3q 9wxm 2pld", "web", "s1")
    assert result.factor == "backup_code"
    assert result.new_backup_code is not None
    assert result.new_backup_code != BACKUP

    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "s1")
    await _raises(InvalidCode, complete_sign_in(uow_factory, account_id, BACKUP, "web", "s1"))
    again = await complete_sign_in(uow_factory, account_id, result.new_backup_code, "web", "s1")
    assert again.new_backup_code is not None


async def test_a_backup_code_used_twice_at_once_works_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account_id = await _make_account(uow_factory)
    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "a")
    outcomes = await asyncio.gather(
        complete_sign_in(uow_factory, account_id, BACKUP, "web", "a"),
        complete_sign_in(uow_factory, account_id, BACKUP, "web", "b"),
        return_exceptions=True,
    )
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert len(failures) == 1
    assert isinstance(failures[0], InvalidCode | CodeExpired)


async def test_an_unknown_email_fails_like_a_wrong_password_at_the_same_cost(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _make_account(uow_factory)
    verifications: list[str] = []
    real_verify: Callable[[str, str], Awaitable[bool]] = signin.verify_password_async

    async def counting_verify(stored_hash: str, secret: str) -> bool:
        verifications.append(stored_hash)
        return await real_verify(stored_hash, secret)

    monkeypatch.setattr(signin, "verify_password_async", counting_verify)
    await _raises(
        InvalidCredentials,
        start_sign_in(uow_factory, "nobody@example.com", PASSWORD, "test", "chat-1"),
    )
    await _raises(
        InvalidCredentials,
        start_sign_in(uow_factory, "ana@example.com", "wrong-pass", "test", "chat-1"),
    )
    assert len(verifications) == 2
    assert all(stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for stored in verifications)


async def test_locks_the_account_after_five_wrong_passwords(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await _make_account(uow_factory)
    for _ in range(4):
        await _raises(
            InvalidCredentials,
            start_sign_in(uow_factory, "ana@example.com", "nope-1234", "test", "chat-1"),
        )
    locked = await _raises(
        AccountLocked, start_sign_in(uow_factory, "ana@example.com", "nope-1234", "test", "chat-1")
    )
    assert locked.until == clock.now() + timedelta(minutes=20)
    # Even the right password is refused while locked.
    await _raises(
        AccountLocked, start_sign_in(uow_factory, "ana@example.com", PASSWORD, "test", "chat-1")
    )
    clock.advance(minutes=20)
    assert await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "test", "chat-1")


async def test_wrong_second_factors_count_toward_the_lock(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await _make_account(uow_factory)
    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "s1")
    wrong = f"{(int(totp(SECRET, clock.now())) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        error = await _raises(
            InvalidCode, complete_sign_in(uow_factory, account_id, wrong, "web", "s1")
        )
        assert error.attempts_left == left
    await _raises(AccountLocked, complete_sign_in(uow_factory, account_id, wrong, "web", "s1"))
    right = totp(SECRET, clock.now())
    await _raises(AccountLocked, complete_sign_in(uow_factory, account_id, right, "web", "s1"))
    async with uow_factory() as uow:
        assert await account_for_chat(uow, "web", "s1") is None


async def test_a_complete_sign_in_resets_the_failure_count(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await _make_account(uow_factory)
    await _raises(
        InvalidCredentials, start_sign_in(uow_factory, "ana@example.com", "nope-1234", "web", "s1")
    )
    await start_sign_in(uow_factory, "ana@example.com", PASSWORD, "web", "s1")
    assert (await _get(uow_factory, account_id)).failed_logins == 1
    await complete_sign_in(uow_factory, account_id, totp(SECRET, clock.now()), "web", "s1")
    assert (await _get(uow_factory, account_id)).failed_logins == 0


async def _get(uow_factory: UnitOfWorkFactory, account_id: int) -> Account:
    """The account as it is now, detached (so its attributes stay readable after the block)."""
    async with uow_factory() as uow:
        account = await get_account(uow, account_id)
        uow.session.expunge(account)
        return account


# --- password reset --------------------------------------------------------------------------


async def test_resets_the_password_unlocks_and_signs_out_other_chats(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    account_id = await _make_account(uow_factory)
    async with uow_factory() as uow:
        await link_chat(uow, account_id, "telegram", "1")
        await link_chat(uow, account_id, "web", "w1")
        await link_chat(uow, account_id, "console", "c1")
        account = await get_account(uow, account_id)
        account.locked_until = clock.now() + timedelta(hours=1)
        account.failed_logins = 3
        await uow.commit()
    async with uow_factory() as uow:
        issued = await issue_reset_code(uow, "ana@example.com")
        await uow.commit()
    assert await check_reset_code(uow_factory, "ana@example.com", issued.code) == ["first_pet"]

    reset = functools.partial(
        reset_password,
        uow_factory,
        email="ana@example.com",
        code=issued.code,
        question_id="first_pet",
        new_password="a-brand-new-passphrase",
        channel="web",
        chat_id="w1",
    )
    error = await _raises(InvalidCode, reset(answer="oak"))
    assert error.attempts_left == 4
    done = await reset(answer="  MAPLE ")
    assert done.account_id == account_id
    assert sorted(done.signed_out) == [Chat("console", "c1"), Chat("telegram", "1")]
    async with uow_factory() as uow:
        assert await chats_of_account(uow, account_id) == [Chat("web", "w1")]
    account = await _get(uow_factory, account_id)
    assert account.locked_until is None
    assert account.failed_logins == 0
    assert verify_password(account.password_hash, "a-brand-new-passphrase")
    await _raises(CodeReused, reset(answer="maple"))


async def test_a_weak_new_password_costs_no_try_of_the_code(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _make_account(uow_factory)
    async with uow_factory() as uow:
        issued = await issue_reset_code(uow, "ana@example.com")
        await uow.commit()
    error = await _raises(
        WeakPassword,
        reset_password(
            uow_factory,
            email="ana@example.com",
            code=issued.code,
            question_id="first_pet",
            answer="maple",
            new_password="password",
            channel="web",
            chat_id="w1",
        ),
    )
    assert error.reason == "common"
    async with uow_factory() as uow:
        row = await uow.session.scalar(select(EmailCode))
        assert row is not None
        assert (row.attempts, row.used_at) == (0, None)


async def test_a_reset_for_an_unknown_email_looks_the_same_but_never_verifies(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        issued = await issue_reset_code(uow, "Nobody@Example.com")
        await uow.commit()
    assert issued.email == "nobody@example.com"
    assert len(issued.code) == 6
    assert issued.expires_at == clock.now() + timedelta(minutes=10)
    async with uow_factory() as uow:
        await _raises(RateLimited, issue_reset_code(uow, "nobody@example.com"))
    error = await _raises(InvalidCode, check_reset_code(uow_factory, issued.email, issued.code))
    assert error.attempts_left == 4


# --- chat links and representatives ----------------------------------------------------------


async def test_a_chat_is_signed_in_as_one_account_at_a_time(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ana = await _make_account(uow_factory, "ana@example.com")
    ben = await _make_account(uow_factory, "ben@example.com")
    async with uow_factory() as uow:
        await link_chat(uow, ana, "telegram", "7")
        await link_chat(uow, ana, "web", "w")
        await link_chat(uow, ben, "telegram", "7")
        await uow.commit()
    async with uow_factory() as uow:
        account = await account_for_chat(uow, "telegram", "7")
        assert account is not None
        assert account.id == ben
        assert await chats_of_account(uow, ana) == [Chat("web", "w")]
        assert await unlink_chat(uow, "web", "w")
        assert not await unlink_chat(uow, "web", "w")
        assert await account_for_chat(uow, "web", "w") is None
        await uow.commit()


async def test_only_a_representative_may_be_granted_clients(
    uow_factory: UnitOfWorkFactory,
) -> None:
    rep = await _make_account(uow_factory, "rep@example.com", kind=AccountKind.REPRESENTATIVE)
    ana = await _make_account(uow_factory, "ana@example.com")
    ben = await _make_account(uow_factory, "ben@example.com")
    async with uow_factory() as uow:
        await _raises(NotAuthorized, grant_client(uow, ana, ben))
        assert await grant_client(uow, rep, ana)
        assert not await grant_client(uow, rep, ana)
        await uow.commit()
    async with uow_factory() as uow:
        assert await can_act_for(uow, rep, ana)
        assert await can_act_for(uow, ana, ana)
        assert not await can_act_for(uow, rep, ben)
        assert not await can_act_for(uow, ana, rep)
        assert [client.id for client in await clients_of(uow, rep)] == [ana]


async def test_changing_the_code_method_issues_a_new_backup_code(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account_id = await _make_account(uow_factory)
    enrolment = await change_otp_method(uow_factory, account_id, OtpMethod.EMAIL)
    assert enrolment.totp_secret is None
    assert enrolment.backup_code != BACKUP
    account = await _get(uow_factory, account_id)
    assert account.otp_method is OtpMethod.EMAIL
    assert account.sealed_totp_secret is None
    assert verify_password(account.backup_code_hash or "", enrolment.backup_code.replace("-", ""))
