"""What other systems and the network hand the server, fuzzed like what people type: USCIS's
case-status answers, its ``Retry-After`` header, the client address behind a proxy and the
``Accept-Language`` header. Each reader returns a value or its one refusal (for USCIS:
``SourceUnavailable``, which the core answers from its cache), nothing else."""

from __future__ import annotations

import json
from ipaddress import ip_network
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.channels.web.chat import locale_hint_of
from bot.channels.web.client_address import client_key
from bot.uscis.client import MAX_TOKEN_LIFETIME, UscisClient, _retry_after, read_token
from core.cases.receipt import ReceiptNumber
from core.cases.uscis.source import SourceUnavailable
from tests.fuzzing import json_values, or_anything

RECEIPT = ReceiptNumber.parse("IOE0912345679")
TIMES = st.one_of(
    st.sampled_from(["03-02-2026 10:00:00", "9999-12-31T23:59:59", "12-31-9999", "0001-01-01"]),
    st.datetimes().map(lambda moment: moment.strftime("%m-%d-%Y %H:%M:%S")),
    st.dates().map(str),
    st.text(max_size=25),
)
TEXTS = st.one_of(st.sampled_from(["Case Was Received", "", " "]), st.text(max_size=40))
HISTORY = st.fixed_dictionaries(
    {"date": or_anything(TIMES), "completed_text_en": or_anything(TEXTS)},
    optional={"completed_text_es": or_anything(TEXTS)},
)
CASE = st.fixed_dictionaries(
    {
        "receiptNumber": or_anything(st.sampled_from(["IOE0912345679", "ioe-0912345679"])),
        "current_case_status_text_en": or_anything(TEXTS),
    },
    optional={
        "formType": or_anything(TEXTS),
        "submittedDate": or_anything(TIMES),
        "modifiedDate": or_anything(TIMES),
        "current_case_status_desc_en": or_anything(TEXTS),
        "hist_case_status": or_anything(st.lists(or_anything(HISTORY), max_size=3)),
    },
)
ANSWERS = st.one_of(
    st.fixed_dictionaries({"case_status": or_anything(CASE)}).map(json.dumps).map(str.encode),
    st.binary(max_size=300),
    json_values.map(json.dumps).map(str.encode),
)


@pytest.fixture(scope="module")
def uscis() -> UscisClient:
    return UscisClient("http://127.0.0.1:9", "client-id", "client-secret-of-the-fuzz")


def a_case(**fields: Any) -> bytes:
    case = {"receiptNumber": "IOE0912345679", "current_case_status_text_en": "Case Was Received"}
    return json.dumps({"case_status": {**case, **fields}}).encode()


@given(body=ANSWERS)
@example(body=b"[" * 100_000)  # nested deeper than the decoder's recursion
@example(body=a_case(modifiedDate="12-31-9999 23:00:00"))  # past year 9999 in UTC
@example(body=a_case(hist_case_status=[{"date": "9999-12-31T22:00:00", "completed_text_en": ""}]))
@example(body=b'{"case_status": {"receiptNumber": "IOE0912345679\\ud800"}}')
def test_a_case_status_answer_is_a_case_or_source_unavailable(
    uscis: UscisClient, body: bytes
) -> None:
    try:
        case = uscis._read(body, RECEIPT)
    except SourceUnavailable:
        return
    assert case.receipt == RECEIPT
    assert case.title_en


@given(value=st.text(max_size=40))
@example(value="nan")
@example(value="inf")
@example(value="-0")
@example(value="1e309")
def test_retry_after_is_a_bounded_number_of_seconds_or_nothing(value: str) -> None:
    seconds = _retry_after({"Retry-After": value})
    assert seconds is None or 0 <= seconds <= 3600


TRUSTED = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]
ADDRESSES = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(["10.0.0.7", "fe80::1%eth0", "::ffff:10.0.0.1", "127.0.0.1", ""]),
    st.text(max_size=20),
)


@given(
    peer=st.one_of(st.none(), ADDRESSES),
    forwarded=st.one_of(st.none(), st.lists(ADDRESSES, max_size=4).map(", ".join), st.text()),
)
def test_a_client_address_is_a_key_or_nothing(peer: str | None, forwarded: str | None) -> None:
    key = client_key(peer, forwarded, TRUSTED)
    assert key is None or (0 < len(key) <= 50 and key.isprintable())


@given(header=st.text(max_size=60))
@example(header="*")
@example(header=";q=1")
@example(header="x" * 5000)
def test_accept_language_is_a_short_hint_or_nothing(header: str) -> None:
    hint = locale_hint_of(None, {"Accept-Language": header})
    assert hint is None or 0 < len(hint) <= 16


TOKEN_ANSWERS = st.one_of(
    st.fixed_dictionaries(
        {"access_token": or_anything(st.text(max_size=30))},
        optional={
            "expires_in": or_anything(
                st.sampled_from(["1799", "nan", "inf", "-inf", "1e999", "0", "-5", " 60 "])
                | st.floats()
                | st.integers()
            )
        },
    )
    .map(json.dumps)
    .map(str.encode),
    st.binary(max_size=100),
)


@given(body=TOKEN_ANSWERS)
@example(body=b'{"access_token": "t", "expires_in": "nan"}')
@example(body=b'{"access_token": "t", "expires_in": "inf"}')
@example(body=b'{"access_token": "t", "expires_in": 1e999}')  # json reads it as infinity
@example(body=b'{"access_token": "t", "expires_in": "1e999"}')
@example(body=b"[" * 100_000)
def test_a_token_answer_is_a_token_with_a_finite_lifetime_or_a_value_error(body: bytes) -> None:
    try:
        token, lifetime = read_token(body)
    except ValueError:
        return
    assert token
    assert 0 < lifetime <= MAX_TOKEN_LIFETIME
