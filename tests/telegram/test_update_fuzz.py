"""Any Telegram update, through the real webhook and inbox: a 200 or a 400, never a 5xx, and no
update that fails in the bot (which would be retried and fail again).

The webhook's secret keeps strangers out, but what Telegram (or whoever holds the secret) sends
is still outside input: every field may be missing, of another JSON type, or out of range.
``test_parser_totality.py`` fuzzes ``parse_update`` on raw bytes; here the whole update goes
through ``Update.de_json``, the inbox and a turn of the engine.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.fuzzing import examples, json_values, or_anything
from tests.telegram.conftest import SECRET_HEADER, WEBHOOK_PATH, WEBHOOK_SECRET, Harness

pytestmark = pytest.mark.usefixtures("demo")

ids = st.one_of(st.integers(1, 10**6), st.integers(-(2**70), 2**70), st.integers())
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["/start", "/menu@casebot_test_bot x", "IOE0912345679", "menu", "/", " "]),
)
user = st.fixed_dictionaries(
    {"id": or_anything(ids), "is_bot": or_anything(st.booleans()), "first_name": texts},
    optional={"language_code": or_anything(st.sampled_from(["en", "es", "ar", "xx", ""]))},
)
chat = st.fixed_dictionaries(
    {"id": or_anything(ids), "type": or_anything(st.sampled_from(["private", "group"]))}
)
message = st.fixed_dictionaries(
    {
        "message_id": or_anything(ids),
        "date": or_anything(st.integers(-(2**70), 2**70) | st.integers(0, 2**31)),
        "chat": or_anything(chat),
    },
    optional={"from": or_anything(user), "text": or_anything(texts), "caption": or_anything(texts)},
)
callback = st.fixed_dictionaries(
    {"id": or_anything(texts), "from": or_anything(user), "chat_instance": or_anything(texts)},
    optional={"data": or_anything(texts), "message": or_anything(message)},
)
updates = st.fixed_dictionaries(
    {},
    optional={
        "message": or_anything(message),
        "edited_message": or_anything(message),
        "callback_query": or_anything(callback),
        "my_chat_member": json_values,
    },
)

CHAT_MESSAGE = {"message_id": 1, "date": 1, "chat": {"id": 7, "type": "private"}}
update_ids = itertools.count(1)


async def deliver(webhook: Harness, update: dict[str, Any], caplog: Any) -> None:
    assert webhook.client is not None
    assert webhook.channel.inbox is not None
    caplog.clear()
    body = {**update, "update_id": next(update_ids)}
    response = await webhook.client.post(
        WEBHOOK_PATH, json=body, headers={SECRET_HEADER: WEBHOOK_SECRET}
    )
    assert response.status in (200, 400), await response.text()
    await webhook.channel.inbox.settled()
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not failures, [(r.getMessage(), r.exc_text) for r in failures]


@settings(
    max_examples=examples(40),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(update=updates)
@example(update={"message": {**CHAT_MESSAGE, "date": 10**20, "text": "hi"}})
@example(update={"message": {**CHAT_MESSAGE, "text": 5}})
@example(update={"message": {**CHAT_MESSAGE, "text": ["menu"]}})
@example(update={"message": {**CHAT_MESSAGE, "chat": {"id": 10**30, "type": "private"}}})
@example(update={"message": {**CHAT_MESSAGE, "chat": {"id": 10**80, "type": "private"}}})
@example(update={"message": {**CHAT_MESSAGE, "chat": {"id": [1], "type": "private"}}})
@example(update={"message": {**CHAT_MESSAGE, "from": {"id": {}, "is_bot": 0, "first_name": ""}}})
@example(
    update={
        "callback_query": {
            "id": "q",
            "from": {"id": 7, "is_bot": False, "first_name": "A"},
            "chat_instance": "c",
            "data": {"a": 1},
            "message": CHAT_MESSAGE,
        }
    }
)
async def test_any_update_is_taken_or_refused_and_never_fails(
    webhook: Harness, caplog: Any, update: dict[str, Any]
) -> None:
    await deliver(webhook, update, caplog)
