"""The Twilio adapter against the fake Twilio API in its own process."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator

import pytest

from bot.sms.twilio import TwilioSms, signature, signature_ok
from core.ports import OutgoingSms, SmsRefused, SmsUnavailable
from tests.e2e.workers import free_port
from tests.sms_fake import ACCOUNT, FROM, TOKEN, FakeTwilio

TO = "+12025550123"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    server = FakeTwilio(free_port())
    yield server
    server.stop()


@pytest.fixture
async def twilio(fake: FakeTwilio) -> AsyncIterator[TwilioSms]:
    await fake.control(reset=True)
    provider = TwilioSms(fake.url, ACCOUNT, TOKEN, FROM)
    yield provider
    await provider.close()


async def test_a_text_is_posted_with_basic_auth_and_its_sid_returned(
    fake: FakeTwilio, twilio: TwilioSms
) -> None:
    sid = await twilio.send(OutgoingSms(TO, "Your case was approved.\nReply STOP to stop."))
    assert sid.startswith("SM")
    messages = (await fake.state())["messages"]
    assert [(m["sid"], m["to"], m["from"], m["body"]) for m in messages] == [
        (sid, TO, FROM, "Your case was approved.\nReply STOP to stop.")
    ]


async def test_a_wrong_token_is_retried_not_parked(fake: FakeTwilio) -> None:
    await fake.control(reset=True)
    provider = TwilioSms(fake.url, ACCOUNT, "not-the-token", FROM)
    with pytest.raises(SmsUnavailable) as raised:
        await provider.send(OutgoingSms(TO, "hi"))
    await provider.close()
    assert raised.value.status == 401
    assert (await fake.state())["refused_auth"] == 1


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_too_many_requests_and_server_errors_are_for_later(
    fake: FakeTwilio, twilio: TwilioSms, status: int
) -> None:
    await fake.control(plan=[{"status": status, "code": 20429}])
    with pytest.raises(SmsUnavailable):
        await twilio.send(OutgoingSms(TO, "hi"))
    assert (await fake.state())["messages"] == []


@pytest.mark.parametrize("code", [21610, 21211])
async def test_a_refusal_carries_twilios_code(
    fake: FakeTwilio, twilio: TwilioSms, code: int
) -> None:
    await fake.control(plan=[{"status": 400, "code": code}])
    with pytest.raises(SmsRefused) as raised:
        await twilio.send(OutgoingSms(TO, "hi"))
    assert (raised.value.status, raised.value.code) == (400, code)


async def test_no_answer_at_all_is_for_later() -> None:
    provider = TwilioSms(f"http://127.0.0.1:{free_port()}", ACCOUNT, TOKEN, FROM)
    with pytest.raises(SmsUnavailable):
        await provider.send(OutgoingSms(TO, "hi"))
    await provider.close()


def test_the_signature_is_hmac_sha1_of_the_url_and_the_sorted_parameters() -> None:
    url = "https://example.com/myapp.php?foo=1&bar=2"
    params = {"To": "+18005551212", "From": "+12349013030", "Digits": "1234", "Caller": "+1234"}
    token = "12345"
    signed = url + "Caller+1234Digits1234From+12349013030To+18005551212"
    expected = base64.b64encode(hmac.new(b"12345", signed.encode(), hashlib.sha1).digest())
    assert signature(token, url, params.items()) == expected.decode()
    assert signature_ok(token, url, params.items(), expected.decode())
    assert not signature_ok(token, url, {**params, "Digits": "9"}.items(), expected.decode())
    assert not signature_ok("other", url, params.items(), expected.decode())
