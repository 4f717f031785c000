"""Sign-in codes by text message in the core, on SQLite and PostgreSQL: enrolling a number (a
code texted through the outbox, typed back), signing in with a texted code, asking again, and a
number that replied STOP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.accounts.models import OtpMethod
from core.accounts.service import change_otp_method, find_account_by_email
from core.accounts.signin import SecondFactor, complete_sign_in, send_sign_in_code, start_sign_in
from core.accounts.sms_codes import CODE_SMS, confirm_sms_enrolment, request_sms_enrolment
from core.demo import DEMO_EMAIL, DEMO_PASSWORD
from core.errors import CodeExpired, InvalidCode, InvalidPhoneNumber, RateLimited, TextsStopped
from core.outbox.service import pending_notifications
from core.sms.service import opt_out
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")

NUMBER = "+12025550199"


async def account_id(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        account = await find_account_by_email(uow, DEMO_EMAIL)
        assert account is not None
        return account.id


async def codes_texted(uow_factory: UnitOfWorkFactory) -> list[str]:
    async with uow_factory() as uow:
        rows = await pending_notifications(uow)
    return [str(m.payload["code"]) for m in rows if m.kind == CODE_SMS and m.address == NUMBER]


async def enrol(uow_factory: UnitOfWorkFactory) -> int:
    owner = await account_id(uow_factory)
    async with uow_factory() as uow:
        assert await request_sms_enrolment(uow, owner, "(202) 555-0199", locale="es") == NUMBER
        await uow.commit()
    [code] = await codes_texted(uow_factory)
    await confirm_sms_enrolment(uow_factory, owner, NUMBER, code)
    return owner


async def test_enrolment_takes_a_us_mobile_number_and_the_code_texted_to_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    owner = await account_id(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(InvalidPhoneNumber):
            await request_sms_enrolment(uow, owner, "1 800 555 0123", locale="en")
        await request_sms_enrolment(uow, owner, NUMBER, locale="en")
        await uow.commit()
    with pytest.raises(InvalidCode):
        await confirm_sms_enrolment(uow_factory, owner, NUMBER, "000000")
    async with uow_factory() as uow:
        account = await find_account_by_email(uow, DEMO_EMAIL)
        assert account is not None
        assert (account.otp_method, account.sms_number) == (OtpMethod.AUTHENTICATOR, None)
    await confirm_sms_enrolment(uow_factory, owner, NUMBER, (await codes_texted(uow_factory))[0])
    async with uow_factory() as uow:
        account = await find_account_by_email(uow, DEMO_EMAIL)
        assert account is not None
        assert (account.otp_method, account.sms_number) == (OtpMethod.SMS, NUMBER)
        assert account.sealed_totp_secret is None


async def test_a_texted_code_signs_in_and_a_new_one_waits_a_minute(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    owner = await enrol(uow_factory)
    with pytest.raises(CodeExpired):  # no password typed in this chat: nothing to resend
        await send_sign_in_code(uow_factory, owner, "test", "chat")
    clock.advance(timedelta(minutes=2))
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "test", "chat")
    assert (challenge.method, challenge.sms_number, challenge.texts_stopped) == (
        OtpMethod.SMS,
        NUMBER,
        False,
    )
    with pytest.raises(RateLimited):
        await send_sign_in_code(uow_factory, owner, "test", "chat")
    clock.advance(timedelta(seconds=61))
    await send_sign_in_code(uow_factory, owner, "test", "chat")
    *_, old, new = await codes_texted(uow_factory)
    if old != new:
        with pytest.raises(InvalidCode):  # replaced by the new one
            await complete_sign_in(uow_factory, owner, old, "test", "chat")
    result = await complete_sign_in(uow_factory, owner, new, "test", "chat")
    assert result.factor is SecondFactor.SMS


async def test_a_number_that_sent_stop_gets_no_code_and_email_is_offered(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    owner = await enrol(uow_factory)
    async with uow_factory() as uow:
        await opt_out(uow, NUMBER, keyword="STOP", now=clock.now())
        await uow.commit()
    clock.advance(timedelta(minutes=2))
    async with uow_factory() as uow:
        with pytest.raises(TextsStopped):
            await request_sms_enrolment(uow, owner, NUMBER, locale="en")
    texted = len(await codes_texted(uow_factory))
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "test", "chat")
    assert challenge.texts_stopped
    assert len(await codes_texted(uow_factory)) == texted
    with pytest.raises(TextsStopped):
        await send_sign_in_code(uow_factory, owner, "test", "chat")
    mailed = await send_sign_in_code(uow_factory, owner, "test", "chat", by_email=True)
    assert mailed.email == DEMO_EMAIL
    assert len(await codes_texted(uow_factory)) == texted
    result = await complete_sign_in(uow_factory, owner, mailed.code, "test", "chat")
    assert result.account_id == owner


async def test_going_back_to_an_authenticator_forgets_the_number(
    uow_factory: UnitOfWorkFactory,
) -> None:
    owner = await enrol(uow_factory)
    await change_otp_method(uow_factory, owner, OtpMethod.AUTHENTICATOR)
    async with uow_factory() as uow:
        account = await find_account_by_email(uow, DEMO_EMAIL)
        assert account is not None
        assert (account.otp_method, account.sms_number) == (OtpMethod.AUTHENTICATOR, None)
    with pytest.raises(ValueError, match="sms"):
        await change_otp_method(uow_factory, owner, OtpMethod.SMS)
