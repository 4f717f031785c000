"""Twilio's requests to the web app: signed delivery statuses and inbound STOP/START/HELP; bad
or forged ones refused with a 4xx JSON error, never a 5xx."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.settings import Settings, SmsSettings
from bot.wording.i18n import translator
from core.outbox.models import OutboxStatus
from core.outbox.service import add_notification
from core.sms.models import SmsDelivery
from core.sms.service import is_opted_out
from core.uow import UnitOfWorkFactory
from tests.outbox_support import outbox_rows
from tests.sms_fake import ACCOUNT, FROM, TOKEN, _sign

PUBLIC = "https://bot.example.org"
NUMBER = "+12025550123"
SID = "SM" + "ab" * 16
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def web_settings() -> Settings:
    return Settings(
        sms=SmsSettings(
            url="https://api.twilio.com",
            account=ACCOUNT,
            token=TOKEN,
            sender=FROM,
            callback_url=PUBLIC,
        )
    )


async def post(
    client: TestClient[Any, Any], path: str, params: dict[str, str], *, signed: str | None = None
) -> Any:
    signature = signed if signed is not None else _sign(PUBLIC + path, params)
    return await client.post(
        path,
        data=urlencode(params),
        headers={"X-Twilio-Signature": signature, "Content-Type": FORM},
    )


def inbound(body: str, sender: str = NUMBER) -> dict[str, str]:
    return {"MessageSid": SID, "AccountSid": ACCOUNT, "From": sender, "To": FROM, "Body": body}


async def reply_of(response: Any) -> str:
    assert response.status == 200, await response.text()
    assert response.content_type == "text/xml"
    return str(await response.text())


async def test_a_delivery_status_is_kept_and_a_late_one_changes_nothing(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    base = {"MessageSid": SID, "AccountSid": ACCOUNT, "To": NUMBER, "From": FROM}
    for status in ("sent", "undelivered", "sent"):
        extra = {"ErrorCode": "30003"} if status == "undelivered" else {}
        response = await post(client, "/api/sms/status", {**base, "MessageStatus": status, **extra})
        assert response.status == 204, await response.text()
    async with uow_factory() as uow:
        [row] = await uow.session.scalars(select(SmsDelivery))
    assert (row.sid, row.status, row.error_code) == (SID, "undelivered", 30003)


async def test_stop_parks_pending_texts_and_is_confirmed_once_in_their_language(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        for key in ("a", "b"):
            await add_notification(
                uow, kind="case_status_changed", channel="sms", address=NUMBER,
                payload={"locale": "es"}, dedupe_key=key,
            )  # fmt: skip
        await uow.commit()
    first = await reply_of(await post(client, "/api/sms/inbound", inbound(" stop ")))
    stopped = translator("es")._(
        "You will get no more texts from casebot. Reply START to get them again."
    )
    assert f"<Message>{stopped}</Message>" in first
    second = await reply_of(await post(client, "/api/sms/inbound", inbound("UNSUBSCRIBE")))
    assert "<Message>" not in second
    assert [r.status for r in await outbox_rows(uow_factory)] == [OutboxStatus.PARKED] * 2
    async with uow_factory() as uow:
        assert await is_opted_out(uow, NUMBER)


@pytest.mark.parametrize("word", ["STOPALL", "CANCEL", "END", "QUIT", "Stop"])
async def test_every_stop_word_stops(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory, word: str
) -> None:
    await reply_of(await post(client, "/api/sms/inbound", inbound(word)))
    async with uow_factory() as uow:
        assert await is_opted_out(uow, NUMBER)


async def test_start_turns_texts_on_again_and_help_says_how_to_stop(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    await post(client, "/api/sms/inbound", inbound("STOP"))
    started = await reply_of(await post(client, "/api/sms/inbound", inbound("unstop")))
    assert "Reply STOP to stop." in started
    async with uow_factory() as uow:
        assert not await is_opted_out(uow, NUMBER)
    helped = await reply_of(await post(client, "/api/sms/inbound", inbound("HELP")))
    assert "Reply STOP to stop texts" in helped
    other = await reply_of(await post(client, "/api/sms/inbound", inbound("please stop soon")))
    assert other.endswith("<Response></Response>")
    async with uow_factory() as uow:
        assert not await is_opted_out(uow, NUMBER)  # not a keyword alone


async def test_a_forged_or_missing_signature_is_refused_and_changes_nothing(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    forged = _sign(PUBLIC + "/api/sms/inbound", inbound("HELP"))
    response = await post(client, "/api/sms/inbound", inbound("STOP"), signed=forged)
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "bad_signature"
    other_url = _sign("https://evil.example/api/sms/inbound", inbound("STOP"))
    response = await post(client, "/api/sms/inbound", inbound("STOP"), signed=other_url)
    assert response.status == 403
    response = await client.post("/api/sms/status", data=urlencode(inbound("STOP")),
                                 headers={"Content-Type": FORM})  # fmt: skip
    assert response.status == 403
    async with uow_factory() as uow:
        assert not await is_opted_out(uow, NUMBER)


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/sms/inbound", inbound("STOP", sender="12025550123"), 400),
        ("/api/sms/inbound", inbound("x" * 1700), 400),
        ("/api/sms/status", {"MessageSid": "nope", "To": NUMBER, "MessageStatus": "sent"}, 400),
        ("/api/sms/status", {"MessageSid": SID, "To": NUMBER, "MessageStatus": "lost"}, 400),
        (
            "/api/sms/status",
            {"MessageSid": SID, "To": NUMBER, "MessageStatus": "failed", "ErrorCode": "x1"},
            400,
        ),
        ("/api/sms/inbound", inbound("y" * 9000), 413),
    ],
)
async def test_bad_input_is_a_4xx_json_error(
    client: TestClient[Any, Any], path: str, params: dict[str, str], status: int
) -> None:
    response = await post(client, path, params)
    assert response.status == status, await response.text()
    assert "code" in (await response.json())["error"]


async def test_a_body_that_is_not_a_form_is_refused(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/sms/inbound", json={"From": NUMBER, "Body": "STOP"})
    assert response.status == 415
    response = await client.post(
        "/api/sms/inbound", data=b"\xff\xfe=\x00", headers={"Content-Type": FORM}
    )
    assert response.status in (400, 403)


async def test_stops_sent_at_once_are_confirmed_once_and_none_fails(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    answers = await asyncio.gather(
        *(post(client, "/api/sms/inbound", inbound(word)) for word in ("STOP", "END", "QUIT"))
    )
    replies = [await reply_of(answer) for answer in answers]
    assert sum("<Message>" in reply for reply in replies) == 1
