"""The admin HTTP API (``/api/admin/...``): cases, imports, offices, closures, appointments and
the audit log, for operators holding ``CASEBOT_ADMIN_TOKEN``.

- No token configured: every admin route answers 404 ``admin_api_disabled``.
- ``Authorization: Bearer <token>`` is required; the token is compared in constant time (as
  SHA-256 digests, so its length leaks nothing either); a missing or wrong one gets 401 with
  ``WWW-Authenticate: Bearer``. The operator is then ``api:<fingerprint>`` in the audit log.
- Every action goes through ``core.admin.actions`` (audited in the same transaction).
- Every refusal is a 4xx ``{"error": {"code", "message", "details"?}}``; bodies are limited
  (16 KiB of JSON, 32 MiB of CSV). The routes are described in ``admin_openapi.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any, Final

from aiohttp import web

from bot.admin.input import parse_day
from bot.admin.requests import (
    ADMIN_KEY,
    MAX_PAGE,
    AdminApi,
    admin,
    appointment_json,
    appointment_query,
    audit_json,
    bad,
    hours_field,
    office_code,
    office_json,
    page_number,
    path_day,
    query_value,
    read_json,
    services_field,
    text_field,
    whole_field,
)
from bot.channels.web.api import ApiError
from core.admin import actions
from core.admin.audit import AuditQuery
from core.appointments.listing import appointments_csv
from core.appointments.office_admin import OfficeChanges
from core.appointments.offices import BUSINESS_HOURS
from core.uow import UnitOfWorkFactory

__all__ = ["ADMIN_PREFIX", "MAX_IMPORT_BYTES", "add_admin_routes"]

ADMIN_PREFIX: Final = "/api/admin"
MAX_IMPORT_BYTES: Final = 32 * 1024 * 1024
_OFFICE_TEXT: Final = ("name", "address", "city", "state", "zip_code", "timezone")


# --- handlers --------------------------------------------------------------------------------


async def set_case_status(request: web.Request, actor: str) -> web.Response:
    # The receipt number travels in the body, not the path: paths are written to access logs.
    body = await read_json(request, frozenset({"receipt_number", "status"}))
    receipt = text_field(body, "receipt_number", required=True)
    status = text_field(body, "status", required=True)
    assert receipt is not None
    assert status is not None
    changed = await actions.set_status_as(
        request.app[ADMIN_KEY].uow_factory, actor, receipt, status
    )
    return web.json_response({"changed": changed})


async def unlock_case_access(request: web.Request, actor: str) -> web.Response:
    body = await read_json(request, frozenset({"receipt_number"}))
    receipt = text_field(body, "receipt_number", required=True)
    assert receipt is not None
    cleared = await actions.unlock_case_access_as(
        request.app[ADMIN_KEY].uow_factory, actor, receipt
    )
    return web.json_response({"unlocked": cleared})


async def import_cases(request: web.Request, actor: str) -> web.Response:
    if (request.content_length or 0) > MAX_IMPORT_BYTES:
        raise ApiError(413, "body_too_large", "The file is larger than 32 MiB.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_IMPORT_BYTES:
            raise ApiError(413, "body_too_large", "The file is larger than 32 MiB.")
        chunks.append(chunk)
    result = await actions.import_cases_as(
        request.app[ADMIN_KEY].uow_factory, actor, b"".join(chunks), source="request body"
    )
    return web.json_response(
        {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "notified": result.notified,
        }
    )


async def list_offices(request: web.Request, _actor: str) -> web.Response:
    offices = await actions.read_offices(request.app[ADMIN_KEY].uow_factory)
    return web.json_response({"offices": [office_json(o) for o in offices]})


_NEW_OFFICE: Final = frozenset(
    {"code", *_OFFICE_TEXT, "services", "slot_minutes", "capacity", "hours"}
)


async def add_office(request: web.Request, actor: str) -> web.Response:
    body = await read_json(request, _NEW_OFFICE)
    values: dict[str, Any] = {"code": text_field(body, "code", required=True)}
    for name in _OFFICE_TEXT:
        values[name] = text_field(body, name, required=True)
    services = services_field(body)
    if services is not None:
        values["services"] = services
    for name in ("slot_minutes", "capacity"):
        number = whole_field(body, name)
        if number is not None:
            values[name] = number
    values["hours"] = hours_field(body["hours"]) if "hours" in body else dict(BUSINESS_HOURS)
    factory = request.app[ADMIN_KEY].uow_factory
    office = await actions.add_office_as(factory, actor, values)
    found = await actions.read_office(factory, office.code)
    return web.json_response(office_json(found), status=201)


async def update_office(request: web.Request, actor: str) -> web.Response:
    code = office_code(request)
    body = await read_json(request, frozenset({*_OFFICE_TEXT, "services", "slot_minutes"}))
    changes = OfficeChanges(
        name=text_field(body, "name"),
        address=text_field(body, "address"),
        city=text_field(body, "city"),
        state=text_field(body, "state"),
        zip_code=text_field(body, "zip_code"),
        timezone=text_field(body, "timezone"),
        services=services_field(body),
        slot_minutes=whole_field(body, "slot_minutes"),
    )
    factory = request.app[ADMIN_KEY].uow_factory
    changed = await actions.update_office_as(factory, actor, code, changes)
    found = await actions.read_office(factory, code)
    return web.json_response({"office": office_json(found), "changed": sorted(changed)})


async def set_office_hours(request: web.Request, actor: str) -> web.Response:
    code = office_code(request)
    body = await read_json(request, frozenset({"hours"}))
    if "hours" not in body:
        raise bad("'hours' is required.")
    hours = hours_field(body["hours"])
    factory = request.app[ADMIN_KEY].uow_factory
    await actions.set_hours_as(factory, actor, code, hours)
    return web.json_response(office_json(await actions.read_office(factory, code)))


async def set_office_capacity(request: web.Request, actor: str) -> web.Response:
    code = office_code(request)
    body = await read_json(request, frozenset({"capacity"}))
    capacity = whole_field(body, "capacity")
    if capacity is None:
        raise bad("'capacity' is required.")
    factory = request.app[ADMIN_KEY].uow_factory
    _office, over = await actions.set_capacity_as(factory, actor, code, capacity)
    found = await actions.read_office(factory, code)
    return web.json_response({"office": office_json(found), "slots_over_capacity": over})


async def close_office_day(request: web.Request, actor: str) -> web.Response:
    code = office_code(request)
    day = path_day(request)
    body = await read_json(request, frozenset({"reason"}))
    reason = text_field(body, "reason") or ""
    result = await actions.close_day_as(
        request.app[ADMIN_KEY].uow_factory, actor, code, day, reason
    )
    return web.json_response(
        {
            "office": result.office_code,
            "day": result.day.isoformat(),
            "newly_closed": result.newly_closed,
            "cancelled": list(result.cancelled),
            "notices": result.notices,
        }
    )


async def reopen_office_day(request: web.Request, actor: str) -> web.Response:
    code = office_code(request)
    day = path_day(request)
    reopened = await actions.reopen_day_as(request.app[ADMIN_KEY].uow_factory, actor, code, day)
    return web.json_response({"reopened": reopened})


async def list_appointments(request: web.Request, actor: str) -> web.Response:
    query = appointment_query(request, paged=True)
    records = await actions.list_appointments_as(request.app[ADMIN_KEY].uow_factory, actor, query)
    return web.json_response(
        {
            "appointments": [appointment_json(r) for r in records],
            "offset": query.offset,
            "limit": query.limit,
        }
    )


async def export_appointments(request: web.Request, actor: str) -> web.Response:
    query = appointment_query(request, paged=False)
    factory = request.app[ADMIN_KEY].uow_factory
    records = await actions.export_appointments_as(factory, actor, query)
    return web.Response(
        text=appointments_csv(records),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="appointments.csv"'},
    )


def _since(text: str) -> datetime:
    return datetime.combine(parse_day(text, "since"), time(0), tzinfo=UTC)


async def read_audit(request: web.Request, _actor: str) -> web.Response:
    limit = query_value(request, "limit", page_number) or 100
    if not 1 <= limit <= MAX_PAGE:
        raise bad(f"limit: must be between 1 and {MAX_PAGE}.", "bad_query")
    query = AuditQuery(
        action=request.query.get("action") or None,
        actor=request.query.get("actor") or None,
        since=query_value(request, "since", _since),
        after_id=query_value(request, "after", page_number) or 0,
        limit=limit,
    )
    entries = await actions.read_audit(request.app[ADMIN_KEY].uow_factory, query)
    return web.json_response({"entries": [audit_json(e) for e in entries]})


def add_admin_routes(
    web_app: web.Application, uow_factory: UnitOfWorkFactory, token: str | None
) -> None:
    """Mount the admin API on the app (its JSON errors come from ``create_web_app``'s
    middleware). With ``token`` None every route answers 404 ``admin_api_disabled``."""
    web_app[ADMIN_KEY] = AdminApi(uow_factory, token)
    p = ADMIN_PREFIX
    router = web_app.router
    router.add_post(p + "/cases/status", admin(set_case_status))
    router.add_post(p + "/cases/unlock-access", admin(unlock_case_access))
    router.add_post(p + "/cases/import", admin(import_cases))
    router.add_get(p + "/offices", admin(list_offices), allow_head=False)
    router.add_post(p + "/offices", admin(add_office))
    router.add_patch(p + "/offices/{code}", admin(update_office))
    router.add_put(p + "/offices/{code}/hours", admin(set_office_hours))
    router.add_put(p + "/offices/{code}/capacity", admin(set_office_capacity))
    router.add_put(p + "/offices/{code}/closures/{day}", admin(close_office_day))
    router.add_delete(p + "/offices/{code}/closures/{day}", admin(reopen_office_day))
    router.add_get(p + "/appointments", admin(list_appointments), allow_head=False)
    router.add_get(p + "/appointments/export", admin(export_appointments), allow_head=False)
    router.add_get(p + "/audit", admin(read_audit), allow_head=False)
