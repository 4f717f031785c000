"""The aiohttp transport, through the real ``ExtBot`` and directly, against the fake Bot API."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from telegram import InputFile
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import ExtBot
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.channels.telegram.request import AiohttpRequest
from tests.telegram.conftest import TOKEN
from tests.telegram.fake_bot_api import FakeBotApi


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[ExtBot[None]]:
    async with ExtBot(TOKEN, base_url=f"{api.url}/bot", request=AiohttpRequest()) as bot:
        yield bot


async def test_sends_json_calls_and_parses_the_answers(bot: ExtBot[None], api: FakeBotApi) -> None:
    message = await bot.send_message(chat_id=42, text="héllo", reply_markup=None)
    assert message.text == "héllo"
    assert message.chat.id == 42
    (me,) = api.calls_of("getMe")
    (call,) = api.calls_of("sendMessage", 42)
    assert call.text == "héllo"
    assert me.ok


async def test_uploads_a_document_as_multipart(bot: ExtBot[None], api: FakeBotApi) -> None:
    document = InputFile(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", filename="visit.ics")
    message = await bot.send_document(chat_id=42, document=document, caption="your visit")
    assert message.document is not None
    assert message.document.file_name == "visit.ics"
    (call,) = api.calls_of("sendDocument", 42)
    assert call.params["caption"] == "your visit"
    assert call.files["document"] == ("visit.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")


async def test_an_error_status_is_returned_for_the_library_to_raise(
    bot: ExtBot[None], api: FakeBotApi
) -> None:
    api.fail("sendMessage", status=502, times=1)
    with pytest.raises(NetworkError) as raised:
        await bot.send_message(chat_id=42, text="x")
    assert not isinstance(raised.value, BadRequest | TimedOut)


async def test_a_read_timeout_raises_timed_out(api: FakeBotApi) -> None:
    # The fake server holds a getUpdates with nothing to hand out for its timeout (up to 2 s).
    data = RequestData([RequestParameter.from_input("timeout", 2)])
    async with AiohttpRequest() as request:
        with pytest.raises(TimedOut):
            await request.post(f"{api.url}/bot{TOKEN}/getUpdates", data, read_timeout=0.2)
        # A timeout passed for one call does not stick: the next call uses the default (5 s).
        assert request.read_timeout == 5.0
        assert await request.post(f"{api.url}/bot{TOKEN}/getUpdates", data) == []


async def test_a_closed_port_raises_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The socket is closed: nothing listens on that port.
    async with AiohttpRequest(connect_timeout=2.0) as request:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    assert not isinstance(raised.value, TimedOut)


async def test_refuses_to_send_before_it_is_initialized(api: FakeBotApi) -> None:
    request = AiohttpRequest()
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{api.url}/bot{TOKEN}/getMe")
    await request.shutdown()  # harmless when never opened
