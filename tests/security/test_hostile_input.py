"""Hostile input gets a 4xx or a re-prompt, never a 5xx or a failed turn (issue 21, finding 9).

Replays of the red team's inputs: JSON nested thousands deep (chat and admin API), an admin
appointment listing over all of time, forged button payloads with huge or non-ASCII digits at
the office and time steps of the booking flow, and a Telegram update whose ``update_id`` does
not fit in 64 bits. The parsers behind them are fuzzed in ``test_parser_totality.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.settings import Settings
from tests.chat import FakeChat
from tests.conversation.test_appointments import BIOMETRICS, READY, WEDNESDAY, open_booking
from tests.conversation.test_appointments import sign_in as sign_in_as_ana
from tests.security.test_chat_authorization import forge

pytestmark = pytest.mark.usefixtures("demo")

ADMIN_TOKEN = "operator-token-of-the-hostile-input-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DEEP = ("[" * 3000 + "]" * 3000).encode()
DEEP_OBJECT = ('{"text": ' + "[" * 3000 + "]" * 3000 + "}").encode()


@pytest.fixture
def web_settings() -> Settings:
    return Settings(admin_token=ADMIN_TOKEN)


async def refusal(response: Any) -> tuple[int, str]:
    body = await response.json()
    return response.status, str(body["error"]["code"])


async def test_json_nested_thousands_deep_is_a_400_on_the_chat_api(
    client: TestClient[Any, Any],
) -> None:
    for body in (DEEP, DEEP_OBJECT):
        response = await client.post("/api/chat/sessions", data=body)
        assert await refusal(response) == (400, "bad_json")
    session = await (await client.post("/api/chat/sessions", json={})).json()
    auth = {"Authorization": f"Bearer {session['token']}"}
    path = f"/api/chat/sessions/{session['session_id']}/messages"
    response = await client.post(path, data=DEEP_OBJECT, headers=auth)
    assert await refusal(response) == (400, "bad_json")


async def test_json_nested_thousands_deep_is_a_400_on_the_admin_api(
    client: TestClient[Any, Any],
) -> None:
    for path in ("/api/admin/cases/status", "/api/admin/offices"):
        response = await client.post(path, data=DEEP, headers=ADMIN)
        assert await refusal(response) == (400, "bad_json")
    response = await client.put("/api/admin/offices/PHX/hours", data=DEEP_OBJECT, headers=ADMIN)
    assert await refusal(response) == (400, "bad_json")


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01&to=9999-12-31",
        "from=9999-12-31",
        "to=0001-01-01",
        "from=0001-01-01&to=0001-01-01",
    ],
)
async def test_admin_appointments_over_all_of_time_is_an_answer_not_a_5xx(
    client: TestClient[Any, Any], query: str
) -> None:
    for path in ("/api/admin/appointments", "/api/admin/appointments/export"):
        response = await client.get(f"{path}?{query}", headers=ADMIN)
        assert response.status < 500, await response.text()


ODD_NUMBERS = [
    "9" * 5000,  # more digits than int() reads
    "9" * 40,  # more than 64 bits
    "99999999999",  # fits in 64 bits, but no minute of any calendar
    "\u0663\u0664",  # Arabic-Indic digits: str.isdigit() says yes
    "\u00b2",  # a superscript two: isdigit() says yes, int() says no
    "\uff11",  # a fullwidth one
    "-1",
    "",
]


@pytest.mark.parametrize("number", ODD_NUMBERS)
async def test_a_forged_office_payload_with_odd_digits_is_a_re_prompt(
    chat: FakeChat, uow_factory: Any, number: str
) -> None:
    await sign_in_as_ana(uow_factory, chat.chat_id)
    await open_booking(chat)
    await chat.press(BIOMETRICS)
    await chat.press(READY)
    offices = chat.buttons
    turn = await chat.press_payload(forge(chat, f"o{number}"))
    assert not turn.failed, chat.text
    assert "Phoenix Field Office" in chat.buttons or chat.buttons == offices


@pytest.mark.parametrize("number", ODD_NUMBERS)
async def test_a_forged_time_payload_with_odd_digits_is_a_re_prompt(
    chat: FakeChat, uow_factory: Any, number: str
) -> None:
    await sign_in_as_ana(uow_factory, chat.chat_id)
    await open_booking(chat)
    await chat.press(BIOMETRICS)
    await chat.press(READY)
    await chat.press("Phoenix Field Office")
    await chat.press(WEDNESDAY)
    turn = await chat.press_payload(forge(chat, number))
    assert not turn.failed, chat.text
    assert "Confirm" not in " ".join(chat.buttons)
