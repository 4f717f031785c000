"""The admin HTTP API through aiohttp (SQLite and PostgreSQL): the token, every action and its
audit entry, every kind of bad input answered with a 4xx and no entry."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

import bot.admin.api as admin_api
from bot.settings import Settings
from core.accounts.models import Account
from core.appointments import book_appointment
from core.appointments.models import AppointmentStatus
from core.cases.models import Case
from core.demo import DEMO_EMAIL
from core.uow import UnitOfWorkFactory

pytestmark = pytest.mark.usefixtures("demo")

TOKEN = "operator-token-for-the-tests-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FINGERPRINT = "api:" + hashlib.sha256(TOKEN.encode()).hexdigest()[:12]
WEDNESDAY = date(2026, 3, 4)
PHX_0730_WED = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)


@pytest.fixture
def web_settings() -> Settings:
    return Settings(admin_token=TOKEN)


async def call(
    client: TestClient[Any, Any], method: str, path: str, *, expect: int, **kwargs: Any
) -> Any:
    kwargs.setdefault("headers", AUTH)
    response = await client.request(method, "/api/admin" + path, **kwargs)
    assert response.status == expect, await response.text()
    if response.content_type == "application/json":
        return await response.json()
    return await response.text()


async def audit(client: TestClient[Any, Any]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await call(client, "GET", "/audit", expect=200))["entries"]
    return entries


@pytest.mark.parametrize("web_settings", [Settings()])  # no CASEBOT_ADMIN_TOKEN
async def test_without_a_configured_token_the_admin_api_is_off(
    client: TestClient[Any, Any],
) -> None:
    body = await call(client, "GET", "/offices", expect=404)
    assert body["error"]["code"] == "admin_api_disabled"
    assert "CASEBOT_ADMIN_TOKEN" in body["error"]["message"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer nope"},
     {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Bearer "}],
)  # fmt: skip
async def test_a_missing_or_wrong_token_is_refused_with_a_bearer_challenge(
    client: TestClient[Any, Any], headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/admin/cases/status",
        json={"receipt_number": "IOE0912345678", "status": "approved"},
        headers=headers,
    )
    assert response.status == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await response.json())["error"]["code"] == "unauthorized"
    assert await audit(client) == []


async def test_a_status_change_is_audited_with_the_tokens_fingerprint_never_the_token(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    for status, changed in (("Case Was Approved", True), ("approved", False)):
        body = {"receipt_number": "ioe-0912345678", "status": status}
        answer = await call(client, "POST", "/cases/status", json=body, expect=200)
        assert answer == {"changed": changed}
    entries = await audit(client)
    assert [(e["actor"], e["action"], e["target"], e["outcome"]) for e in entries] == [
        (FINGERPRINT, "case.set_status", "case:IOE0912345678", "changed"),
        (FINGERPRINT, "case.set_status", "case:IOE0912345678", "unchanged"),
    ]
    assert TOKEN not in str(entries)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "bad_json"),
        (b"[1, 2]", 400, "bad_request"),
        (b'{"receipt_number": "IOE0912345678", "status": 7}', 400, "bad_request"),
        (b'{"receipt_number": "IOE0912345678"}', 400, "bad_request"),
        (b'{"status": "approved"}', 400, "bad_request"),
        (b'{"receipt_number": ["IOE0912345678"], "status": "approved"}', 400, "bad_request"),
        (
            b'{"receipt_number": "IOE0912345678", "status": "approved", "by": "me"}',
            400,
            "unknown_field",
        ),
        (b'{"receipt_number": "IOE0912345678", "status": "Case Was Eaten"}', 400, "unknown_status"),
        (b'{"status": "' + b"x" * 20_000 + b'"}', 413, "body_too_large"),
    ],
)
async def test_a_bad_status_request_gets_a_4xx_and_changes_nothing(
    client: TestClient[Any, Any], body: bytes, status: int, code: str
) -> None:
    answer = await call(
        client, "POST", "/cases/status", data=body, expect=status,
        headers={**AUTH, "Content-Type": "application/json"},
    )  # fmt: skip
    assert answer["error"]["code"] == code
    assert await audit(client) == []


@pytest.mark.parametrize(
    ("receipt", "status", "code"),
    [("IOE09", 400, "bad_receipt_number"), ("EAC0000000001", 404, "case_not_found")],
)
async def test_an_unknown_or_malformed_case_is_refused(
    client: TestClient[Any, Any], receipt: str, status: int, code: str
) -> None:
    answer = await call(
        client,
        "POST",
        "/cases/status",
        json={"receipt_number": receipt, "status": "approved"},
        expect=status,
    )
    assert answer["error"]["code"] == code


async def test_an_operator_unlocks_a_paper_case_s_access_code_tries(
    client: TestClient[Any, Any],
) -> None:
    body = {"receipt_number": "eac-2190012345"}
    assert await call(client, "POST", "/cases/unlock-access", json=body, expect=200) == {
        "unlocked": 0
    }
    (entry,) = await audit(client)
    assert (entry["action"], entry["target"], entry["outcome"], entry["result"]) == (
        "case.unlock_access", "case:EAC2190012345", "unchanged", {"locks": 0},
    )  # fmt: skip
    for bad_body, status, code in (
        ({"receipt_number": "EAC0000000001"}, 404, "case_not_found"),
        ({"receipt_number": "EAC00"}, 400, "bad_receipt_number"),
        ({}, 400, "bad_request"),
        ({"receipt_number": "EAC2190012345", "all": True}, 400, "unknown_field"),
    ):
        answer = await call(client, "POST", "/cases/unlock-access", json=bad_body, expect=status)
        assert answer["error"]["code"] == code
    assert len(await audit(client)) == 1


async def test_an_import_applies_all_rows_or_reports_each_bad_line(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    good = "receipt_number,form_type,status\nEAC2190099901,I-130,approved\n"
    answer = await call(client, "POST", "/cases/import", data=good, expect=200)
    assert answer == {"created": 1, "updated": 0, "unchanged": 0, "notified": 0}
    again = await call(client, "POST", "/cases/import", data=good, expect=200)
    assert again["unchanged"] == 1
    bad = good + "EAC21900,I-130,approved\nEAC2190099903,I-130,lost\n"
    refused = await call(client, "POST", "/cases/import", data=bad, expect=422)
    assert refused["error"]["code"] == "import_failed"
    assert [(d["line"], d["reason"]) for d in refused["error"]["details"]] == [
        (3, "receipt_number"),
        (4, "status"),
    ]
    for data in (b"\xff\xfe not utf-8", b"", b"just,a,header\n"):
        assert (await call(client, "POST", "/cases/import", data=data, expect=422))["error"][
            "code"
        ] == "import_failed"
    async with uow_factory() as uow:
        assert (
            await uow.session.scalar(select(Case.id).where(Case.receipt_number == "EAC2190099903"))
            is None
        )
    assert [e["outcome"] for e in await audit(client)] == ["changed", "unchanged"]


async def test_an_import_larger_than_the_limit_is_refused(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_api, "MAX_IMPORT_BYTES", 1000)
    data = "receipt_number,form_type,status\n" + "EAC2190099901,I-130,approved\n" * 100
    answer = await call(client, "POST", "/cases/import", data=data, expect=413)
    assert answer["error"]["code"] == "body_too_large"

    async def chunks() -> Any:  # no Content-Length: the limit holds while reading
        for _ in range(100):
            yield b"EAC2190099901,I-130,approved\n"

    answer = await call(client, "POST", "/cases/import", data=chunks(), expect=413)
    assert answer["error"]["code"] == "body_too_large"


NEW_OFFICE = {
    "code": "BOS", "name": "Boston ASC", "address": "170 Portland St", "city": "Boston",
    "state": "MA", "zip_code": "02114", "timezone": "America/New_York",
    "hours": {"mon": "08:00-12:00", "tuesday": "09:00-15:30"}, "capacity": 3,
}  # fmt: skip


async def test_an_office_is_added_changed_and_listed(client: TestClient[Any, Any]) -> None:
    created = await call(client, "POST", "/offices", json=NEW_OFFICE, expect=201)
    assert created["hours"] == {"mon": "08:00-12:00", "tue": "09:00-15:30"}
    assert (created["capacity"], created["services"]) == (3, ["biometrics", "in_person"])
    taken = await call(client, "POST", "/offices", json=NEW_OFFICE, expect=409)
    assert taken["error"]["code"] == "office_code_taken"
    changed = await call(client, "PATCH", "/offices/bos", json={"name": "Boston"}, expect=200)
    assert (changed["office"]["name"], changed["changed"]) == ("Boston", ["name"])
    hours = await call(client, "PUT", "/offices/BOS/hours",
                       json={"hours": {"fri": "07:00-11:00"}}, expect=200)  # fmt: skip
    assert hours["hours"] == {"fri": "07:00-11:00"}
    capacity = await call(client, "PUT", "/offices/BOS/capacity", json={"capacity": 5}, expect=200)
    assert (capacity["office"]["capacity"], capacity["slots_over_capacity"]) == (5, 0)
    listed = await call(client, "GET", "/offices", expect=200)
    assert "BOS" in [o["code"] for o in listed["offices"]]
    assert [e["action"] for e in await audit(client)] == [
        "office.add", "office.update", "office.set_hours", "office.set_capacity",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("POST", "/offices", {**NEW_OFFICE, "timezone": "Mars/Base"}, 400, "bad_office_data"),
        ("POST", "/offices", {**NEW_OFFICE, "code": "B"}, 400, "bad_office_data"),
        ("POST", "/offices", {**NEW_OFFICE, "capacity": True}, 400, "bad_request"),
        ("POST", "/offices", {**NEW_OFFICE, "hours": {"mon": "16:00-08:00"}}, 400, "bad_hours"),
        ("POST", "/offices", {**NEW_OFFICE, "hours": ["mon"]}, 400, "bad_request"),
        ("POST", "/offices", {"code": "BOS"}, 400, "bad_request"),
        ("PATCH", "/offices/NYC", {"services": ["tea"]}, 400, "bad_office_data"),
        ("PATCH", "/offices/NYC", {"zip_code": "1"}, 400, "bad_office_data"),
        ("PATCH", "/offices/NYC", {"services": "biometrics"}, 400, "bad_request"),
        ("PATCH", "/offices/ZZZ", {"name": "x"}, 404, "office_not_found"),
        ("PATCH", "/offices/n%20y", {"name": "x"}, 404, "office_not_found"),
        ("PUT", "/offices/NYC/hours", {}, 400, "bad_request"),
        ("PUT", "/offices/NYC/hours", {"hours": {"funday": "08:00-09:00"}}, 400, "bad_hours"),
        ("PUT", "/offices/NYC/capacity", {"capacity": 501}, 400, "bad_office_data"),
        ("PUT", "/offices/NYC/capacity", {"capacity": "2"}, 400, "bad_request"),
        ("PUT", "/offices/NYC/closures/2026-13-01", {}, 400, "bad_day"),
        ("PUT", "/offices/NYC/closures/2020-01-06", {}, 400, "bad_office_data"),
        ("PUT", "/offices/NYC/closures/2026-03-04", {"reason": "x" * 300}, 400, "bad_office_data"),
        ("DELETE", "/offices/NYC/closures/tomorrow", None, 400, "bad_day"),
        ("GET", "/appointments?status=lost", None, 400, "bad_query"),
        ("GET", "/appointments?limit=0", None, 400, "bad_query"),
        ("GET", "/appointments?from=2026-03-05&to=2026-03-04", None, 400, "bad_date_range"),
        ("GET", "/appointments?office=ZZZ", None, 404, "office_not_found"),
        ("GET", "/appointments/export?from=03/04/2026", None, 400, "bad_query"),
        ("GET", "/audit?limit=5000", None, 400, "bad_query"),
        ("GET", "/audit?since=yesterday", None, 400, "bad_query"),
        ("POST", "/audit", None, 405, "method_not_allowed"),
    ],
)
async def test_bad_office_and_query_input_gets_a_4xx_and_no_audit_entry(
    client: TestClient[Any, Any], method: str, path: str, body: Any, status: int, code: str
) -> None:
    kwargs = {} if body is None else {"json": body}
    answer = await call(client, method, path, expect=status, **kwargs)
    assert answer["error"]["code"] == code
    assert await audit(client) == []


async def test_closing_a_day_cancels_and_the_list_and_export_show_it(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        case = await uow.session.scalar(
            select(Case.id).where(Case.receipt_number == "IOE0912345679")
        )
        assert ana is not None
        booked = await book_appointment(
            uow, account_id=ana, office_id="PHX", starts_at=PHX_0730_WED, kind="biometrics",
            case_id=case,
        )  # fmt: skip
        await uow.commit()
    code = booked.confirmation_code
    page = await call(client, "GET", "/appointments?office=phx&from=2026-03-04&to=2026-03-04",
                      expect=200)  # fmt: skip
    assert [a["confirmation_code"] for a in page["appointments"]] == [code]
    assert page["appointments"][0]["local_start"] == "2026-03-04T07:30:00-07:00"
    closed = await call(client, "PUT", "/offices/PHX/closures/2026-03-04",
                        json={"reason": "water leak"}, expect=200)  # fmt: skip
    assert (closed["cancelled"], closed["newly_closed"]) == ([code], True)
    assert await call(client, "DELETE", "/offices/PHX/closures/2026-03-04", expect=200) == {
        "reopened": True
    }
    cancelled = await call(client, "GET", "/appointments?status=cancelled", expect=200)
    assert [(a["confirmation_code"], a["cancel_reason"]) for a in cancelled["appointments"]] == [
        (code, "office_closed")
    ]
    assert (await call(client, "GET", "/appointments?status=booked", expect=200))[
        "appointments"
    ] == []
    response = await client.get("/api/admin/appointments/export?kind=biometrics", headers=AUTH)
    assert response.status == 200
    assert response.content_type == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(await response.text())))
    assert (row["confirmation_code"], row["status"]) == (code, AppointmentStatus.CANCELLED.value)
    entries = await audit(client)
    assert [e["action"] for e in entries] == [
        "appointments.list", "office.close_day", "office.reopen_day", "appointments.list",
        "appointments.list", "appointments.export",
    ]  # fmt: skip
    assert entries[1]["result"]["cancelled"] == [code]
    only = await call(client, "GET", f"/audit?action=office.close_day&actor={FINGERPRINT}",
                      expect=200)  # fmt: skip
    assert len(only["entries"]) == 1
    after = await call(client, "GET", f"/audit?after={entries[-2]['id']}", expect=200)
    assert [e["id"] for e in after["entries"]] == [entries[-1]["id"]]
