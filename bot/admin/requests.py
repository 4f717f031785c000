"""What the admin HTTP API's handlers share: the operator's authentication, reading and
checking requests, the refusals and the JSON shapes of answers (see ``admin_api.py``)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Final

from aiohttp import web

from bot.admin.errors import describe_refusal
from bot.admin.input import parse_day, parse_hours, parse_kind, parse_status
from bot.channels.web.api import ApiError
from bot.channels.web.json_budget import JsonRefused, parse_json
from core.admin import actions
from core.admin.audit import AuditRecord, api_actor
from core.appointments.listing import AppointmentQuery, AppointmentRecord
from core.appointments.views import OfficeWithSchedule
from core.errors import DomainError
from core.uow import UnitOfWorkFactory

__all__ = [
    "ADMIN_KEY",
    "MAX_JSON_BYTES",
    "MAX_PAGE",
    "AdminApi",
    "admin",
    "appointment_json",
    "appointment_query",
    "audit_json",
    "bad",
    "hours_field",
    "office_code",
    "office_json",
    "page_number",
    "path_day",
    "query_value",
    "read_json",
    "services_field",
    "text_field",
    "whole_field",
]

logger = logging.getLogger(__name__)

MAX_JSON_BYTES: Final = 16 * 1024
MAX_PAGE: Final = 1000
OFFICE_CODE: Final = re.compile(r"[A-Za-z0-9]{2,10}")
_CHALLENGE: Final = {"WWW-Authenticate": 'Bearer realm="casebot-admin"'}


@dataclass(frozen=True, slots=True)
class AdminApi:
    """What the admin routes need: the units of work and the configured token (or None)."""

    uow_factory: UnitOfWorkFactory
    token: str | None


ADMIN_KEY: Final = web.AppKey("casebot_admin_api", AdminApi)

Handler = Callable[[web.Request, str], Awaitable[web.StreamResponse]]


# --- authentication and refusals -------------------------------------------------------------


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()


def operator(request: web.Request) -> str:
    """The operator's audit identity, or an ApiError (404 when off, 401 without the token)."""
    api = request.app[ADMIN_KEY]
    if api.token is None:
        raise ApiError(
            404,
            "admin_api_disabled",
            "The admin API is off: set CASEBOT_ADMIN_TOKEN to turn it on.",
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    given = given.strip()
    valid = scheme.lower() == "bearer" and bool(given)
    # Compare even when there is nothing to compare, so both refusals take the same time.
    same = hmac.compare_digest(_digest(given), _digest(api.token))
    if not (valid and same):
        logger.warning("admin API: refused %s %s (no valid token)", request.method, request.path)
        raise ApiError(
            401, "unauthorized", "A valid admin token is required: Authorization: Bearer <token>.",
            dict(_CHALLENGE),
        )  # fmt: skip
    return api_actor(given)


def refused(error: DomainError) -> web.Response:
    refusal = describe_refusal(error)
    if refusal is None:  # pragma: no cover - describe_refusal words every DomainError
        raise error
    body: dict[str, Any] = {"code": refusal.code, "message": refusal.message}
    if refusal.details:
        body["details"] = refusal.details
    return web.json_response({"error": body}, status=refusal.status)


def admin(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        actor = operator(request)
        try:
            return await handler(request, actor)
        except DomainError as error:
            return refused(error)

    return wrapped


# --- reading requests ------------------------------------------------------------------------


def bad(message: str, code: str = "bad_request") -> ApiError:
    return ApiError(400, code, message)


async def read_json(request: web.Request, allowed: frozenset[str]) -> dict[str, Any]:
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise ApiError(413, "body_too_large", "The request body is larger than 16 KiB.")
    raw = await request.read()
    if not raw.strip():
        body: Any = {}
    else:
        try:
            body = parse_json(raw, max_bytes=MAX_JSON_BYTES)
        except JsonRefused as refused:
            if refused.reason == "too_large":
                message = "The request body is larger than 16 KiB."
                raise ApiError(413, "body_too_large", message) from None
            raise bad("The body is not valid JSON.", "bad_json") from None
    if not isinstance(body, dict):
        raise bad("The body must be a JSON object.")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise bad(f"Unknown field(s): {', '.join(unknown)}.", "unknown_field")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise bad(f"{name!r} is required.")
        return None
    if not isinstance(value, str) or "\x00" in value or len(value) > 1000:
        raise bad(f"{name!r} must be a string of at most 1000 characters.")
    return value


def whole_field(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**6:
        raise bad(f"{name!r} must be a whole number.")
    return value


def services_field(body: dict[str, Any]) -> list[str] | None:
    value = body.get("services")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad("'services' must be a list of strings (biometrics, in_person).")
    return value


def hours_field(value: Any) -> dict[int, tuple[time, time]]:
    if not isinstance(value, dict):
        raise bad('\'hours\' must be an object such as {"mon": "08:00-16:00"}.')
    try:
        return parse_hours(value)
    except ValueError as exc:
        raise bad(str(exc).capitalize() + ".", "bad_hours") from None


def office_code(request: web.Request) -> str:
    code = request.match_info["code"]
    if not OFFICE_CODE.fullmatch(code):
        raise ApiError(404, "office_not_found", f"There is no office {code!r}.")
    return code


def path_day(request: web.Request) -> date:
    try:
        return parse_day(request.match_info["day"])
    except ValueError as exc:
        raise bad(str(exc).capitalize() + ".", "bad_day") from None


def query_value(request: web.Request, name: str, parse: Callable[[str], Any]) -> Any:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse(raw)
    except ValueError as exc:
        raise bad(f"{name}: {exc}.", "bad_query") from None


def page_number(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ValueError("must be a whole number")
    return int(raw)


def appointment_query(request: web.Request, *, paged: bool) -> AppointmentQuery:
    office = request.query.get("office") or None
    if office is not None and not OFFICE_CODE.fullmatch(office):
        raise ApiError(404, "office_not_found", f"There is no office {office!r}.")
    limit = query_value(request, "limit", page_number) if paged else None
    if paged and limit is not None and not 1 <= limit <= MAX_PAGE:
        raise bad(f"limit: must be between 1 and {MAX_PAGE}.", "bad_query")
    return AppointmentQuery(
        office=office,
        first_day=query_value(request, "from", lambda v: parse_day(v, "from")),
        last_day=query_value(request, "to", lambda v: parse_day(v, "to")),
        status=query_value(request, "status", parse_status),
        kind=query_value(request, "kind", parse_kind),
        offset=(query_value(request, "offset", page_number) or 0) if paged else 0,
        limit=(limit or 100) if paged else None,
    )


# --- answers ---------------------------------------------------------------------------------


def office_json(office: OfficeWithSchedule) -> dict[str, Any]:
    """An office with its hours and closures (loaded)."""
    return {
        "code": office.code,
        "name": office.name,
        "address": office.address,
        "city": office.city,
        "state": office.state,
        "zip_code": office.zip_code,
        "timezone": office.timezone,
        "services": list(office.services),
        "slot_minutes": office.slot_minutes,
        "capacity": office.capacity,
        "hours": actions.hours_record({h.weekday: (h.opens, h.closes) for h in office.hours}),
        "closures": [
            {"day": c.day.isoformat(), "reason": c.reason}
            for c in sorted(office.closures, key=lambda c: c.day)
        ],
    }


def appointment_json(record: AppointmentRecord) -> dict[str, Any]:
    return {
        "confirmation_code": record.confirmation_code,
        "office": record.office_code,
        "kind": record.kind.value,
        "status": record.status.value,
        "local_start": record.local_start.isoformat(),
        "timezone": record.timezone,
        "starts_at": record.starts_at.isoformat(),
        "ends_at": record.ends_at.isoformat(),
        "receipt_number": record.receipt_number,
        "account_email": record.account_email,
        "reschedule_count": record.reschedule_count,
        "cancel_reason": record.cancel_reason,
    }


def audit_json(entry: AuditRecord) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "params": entry.params,
        "outcome": entry.outcome.value,
        "result": entry.result,
    }
