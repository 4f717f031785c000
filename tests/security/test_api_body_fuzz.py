"""Any bytes in any request of the web chat API and the admin API, through the real aiohttp app
(its middleware, body limits and handlers, on SQLite and PostgreSQL): a 2xx or a 4xx with the
API's JSON error, never a 5xx.

Three kinds of input: raw bytes under any content type; JSON objects with the documents' own
field names holding any JSON value (what a client with a bug sends); and any text in the query
strings and path segments. Schemathesis (``test_schemathesis.py``) covers what the OpenAPI
documents allow; this is what they do not.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from yarl import URL

from bot.channels.web.chat import WebChatConfig
from bot.channels.web.openapi import openapi_document
from bot.settings import Settings
from tests.fuzzing import examples, json_values, or_anything

pytestmark = pytest.mark.usefixtures("demo")

ADMIN_TOKEN = "operator-token-of-the-body-fuzz-0123"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
FUZZ_SETTINGS = settings(
    max_examples=examples(40),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def web_settings() -> Settings:
    return Settings(admin_token=ADMIN_TOKEN)


@pytest.fixture
def chat_config() -> WebChatConfig:
    return WebChatConfig(rate_limit=1_000_000)


def _field_names() -> list[str]:
    """Every property name of every schema in the published document (chat and admin)."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                names.update(properties)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(openapi_document())
    return sorted(names)


FIELDS = _field_names()
# (method, path, admin?): every route that reads a body; {session} is a real session's id.
WRITES = [
    ("POST", "/api/chat/sessions", False),
    ("POST", "/api/chat/sessions/{session}/messages", False),
    ("POST", "/api/admin/cases/status", True),
    ("POST", "/api/admin/cases/import", True),
    ("POST", "/api/admin/offices", True),
    ("PATCH", "/api/admin/offices/PHX", True),
    ("PUT", "/api/admin/offices/PHX/hours", True),
    ("PUT", "/api/admin/offices/PHX/capacity", True),
    ("PUT", "/api/admin/offices/PHX/closures/2026-03-04", True),
]
READS = [
    ("GET", "/api/chat/sessions/{session}/messages", False),
    ("GET", "/api/chat/sessions/{session}/attachments/{segment}", False),
    ("GET", "/api/admin/offices", True),
    ("GET", "/api/admin/appointments", True),
    ("GET", "/api/admin/appointments/export", True),
    ("GET", "/api/admin/audit", True),
    ("PATCH", "/api/admin/offices/{segment}", True),
    ("PUT", "/api/admin/offices/PHX/closures/{segment}", True),
    ("DELETE", "/api/admin/offices/{segment}/closures/{segment}", True),
]
QUERY_NAMES = ["after", "token", "from", "to", "office", "status", "limit", "offset", "since"]
QUERY_NAMES += ["action", "actor", "kind", "format", "q"]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=utf-16",
    "application/json; charset=bogus",
    "text/csv",
    "text/csv; charset=latin-1",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "",
]
objects = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=8),
    or_anything(st.text(max_size=40) | st.integers(-1, 10**6) | st.booleans()),
    max_size=6,
)
bodies = st.one_of(
    st.binary(max_size=400),
    objects.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.text(max_size=200).map(lambda text: text.encode("utf-8", "surrogatepass")),
)


async def open_session(client: TestClient[Any, Any]) -> dict[str, str]:
    response = await client.post("/api/chat/sessions", json={})
    assert response.status == 201
    session: dict[str, str] = await response.json()
    return session


async def answered(response: Any) -> None:
    """A 2xx or 3xx, or a 4xx with the API's error object: never a 5xx, nor a failed turn."""
    text = await response.text()
    assert response.status < 500, text
    if response.status >= 400:
        assert json.loads(text)["error"]["code"], text
    assert "something went wrong" not in text.lower(), text  # the engine's apology: a crash


def url_of(path: str, session: dict[str, str], segment: str = "") -> URL:
    path = path.replace("{session}", session["session_id"])
    return URL(path.replace("{segment}", quote(segment, safe="")), encoded=True)


def headers_for(admin: bool, session: dict[str, str], content_type: str) -> dict[str, str]:
    auth = ADMIN if admin else {"Authorization": f"Bearer {session['token']}"}
    return {**auth, "Content-Type": content_type} if content_type else auth


@FUZZ_SETTINGS
@given(route=st.sampled_from(WRITES), body=bodies, content_type=st.sampled_from(CONTENT_TYPES))
@example(route=WRITES[1], body=b'{"text": "\\ud800"}', content_type="application/json")
@example(route=WRITES[1], body=b'{"payload": 7}', content_type="application/json")
@example(route=WRITES[3], body=b"\xff\xfe", content_type="text/csv")
@example(route=WRITES[3], body=b"receipt_number\r\n\x00", content_type="text/csv")
@example(route=WRITES[6], body=b'{"mon": ["09:00-17:00"]}', content_type="application/json")
async def test_any_body_is_an_answer_or_a_4xx(
    client: TestClient[Any, Any], route: tuple[str, str, bool], body: bytes, content_type: str
) -> None:
    method, path, admin = route
    session = await open_session(client)
    response = await client.request(
        method,
        url_of(path, session),
        data=body,
        headers=headers_for(admin, session, content_type),
    )
    await answered(response)


@FUZZ_SETTINGS
@given(
    route=st.sampled_from(READS),
    segment=st.text(min_size=1, max_size=30),
    query=st.dictionaries(st.sampled_from(QUERY_NAMES), st.text(max_size=30), max_size=4),
)
@example(route=READS[0], segment="x", query={"after": "9" * 5000})
@example(route=READS[3], segment="x", query={"from": "2026-02-30", "limit": "-1"})
@example(route=READS[5], segment="x", query={"since": "9999-12-31T23:59:59+14:00"})
@example(route=READS[7], segment="0000-01-01", query={})
async def test_any_query_or_path_segment_is_an_answer_or_a_4xx(
    client: TestClient[Any, Any],
    route: tuple[str, str, bool],
    segment: str,
    query: dict[str, str],
) -> None:
    method, path, admin = route
    session = await open_session(client)
    encoded = urlencode(
        {k: v.encode("utf-8", "surrogatepass") for k, v in query.items()}, quote_via=quote
    )
    url = url_of(path, session, segment)
    response = await client.request(
        method,
        url.with_query(encoded) if encoded else url,
        headers=headers_for(admin, session, ""),
    )
    await answered(response)
