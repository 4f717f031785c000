"""The admin API's part of the OpenAPI document (tag ``admin``, bearer scheme ``adminToken``).

Merged into ``/api/openapi.json`` by ``web_openapi.openapi_document``; it describes exactly
what ``admin_api.py`` answers, and the schemathesis run holds the server to it with the token.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["ADMIN_ERROR_CODES", "add_admin_document"]

ADMIN_ERROR_CODES: Final = [
    "admin_api_disabled",
    "unauthorized",
    "origin_not_allowed",
    "bad_request",
    "bad_json",
    "unknown_field",
    "bad_hours",
    "bad_day",
    "bad_query",
    "body_too_large",
    "bad_receipt_number",
    "unknown_status",
    "bad_office_data",
    "bad_date_range",
    "case_not_found",
    "office_not_found",
    "office_code_taken",
    "import_failed",
    "refused",
    "not_found",
    "method_not_allowed",
    "http_error",
]

_WEEKDAY_HOURS: Final = {"type": "string", "pattern": r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$"}
_DAY: Final = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_NULLABLE_TEXT: Final = {"type": ["string", "null"], "maxLength": 1000}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response = _json(_ref("AdminError"), description)
    if headers:
        response["headers"] = headers
    return response


_ERRORS: Final = {
    "400": _error("Bad input (code says which: bad_json, unknown_field, bad_office_data, ...)."),
    "401": _error(
        "No valid admin token.",
        {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    ),
    "403": _error("The request's Origin may not use the API."),
    "404": _error("The admin API is off (admin_api_disabled), or no such case or office."),
    "405": _error("Method not allowed."),
    "409": _error("The action clashes with the data (office_code_taken, refused)."),
    "413": _error("The body is too large (16 KiB of JSON, 32 MiB of CSV)."),
}


def _responses(ok: dict[str, Any], *codes: str, **extra: dict[str, Any]) -> dict[str, Any]:
    return {**ok, **{code: _ERRORS[code] for code in codes}, **extra}


def _operation(op_id: str, summary: str, responses: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": ["admin"],
        "security": [{"adminToken": []}],
        "responses": responses,
        **more,
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _path(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_CODE: Final = _path("code", {"type": "string"}, "The office code, e.g. NYC (any case).")
_DAY_PARAM: Final = _path("day", _DAY, "A local day of the office, YYYY-MM-DD.")
_FILTERS: Final = [
    _query("office", {"type": "string"}, "An office code."),
    _query("from", {"type": "string"}, "First local day, YYYY-MM-DD."),
    _query("to", {"type": "string"}, "Last local day, YYYY-MM-DD."),
    _query("status", {"type": "string", "enum": ["booked", "cancelled"]}, "Status."),
    _query("kind", {"type": "string", "enum": ["biometrics", "in_person"]}, "Type."),
]


def _obj(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _strict(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    return {**_obj(required, **properties), "additionalProperties": False}


_STR: Final = {"type": "string"}
_INT: Final = {"type": "integer"}
_BOOL: Final = {"type": "boolean"}
_TEXT: Final = {"type": "string", "maxLength": 1000}
_NUMBER: Final = {"type": "integer", "minimum": 0, "maximum": 1000000}
_STRINGS: Final = {"type": "array", "items": _STR}
_OFFICE_TEXT: Final = ("name", "address", "city", "state", "zip_code", "timezone")


def _schemas() -> dict[str, Any]:
    settable: dict[str, dict[str, Any]] = {name: _TEXT for name in _OFFICE_TEXT} | {
        "services": _STRINGS,
        "slot_minutes": _NUMBER,
    }
    closure = _obj(["day", "reason"], day=_DAY, reason=_STR)
    office_out = {name: _STR for name in ("code", *_OFFICE_TEXT)} | {
        "services": _STRINGS,
        "slot_minutes": _INT,
        "capacity": _INT,
        "hours": _ref("Hours"),
        "closures": {"type": "array", "items": closure},
    }
    appointment = {
        name: _STR
        for name in ("confirmation_code", "office", "local_start", "timezone", "starts_at")
    } | {
        "ends_at": _STR,
        "kind": {"type": "string", "enum": ["biometrics", "in_person"]},
        "status": {"type": "string", "enum": ["booked", "cancelled"]},
        "receipt_number": {"type": ["string", "null"]},
        "account_email": _STR,
        "reschedule_count": _INT,
        "cancel_reason": {"type": ["string", "null"]},
    }
    audit = {name: _STR for name in ("at", "actor", "action", "target")} | {
        "id": _INT,
        "params": {"type": "object"},
        "outcome": {"type": "string", "enum": ["changed", "unchanged", "read"]},
        "result": {"type": "object"},
    }
    error = _obj(
        ["code", "message"],
        code={"type": "string", "enum": ADMIN_ERROR_CODES},
        message=_STR,
        details={"type": "array", "items": {"type": "object"}},
    )
    return {
        "AdminError": _obj(["error"], error=error),
        "Hours": {
            "type": "object",
            "description": 'Weekly hours, e.g. {"mon": "08:00-16:00"}; a weekday left out is '
            "closed. Keys: mon..sun (or monday..sunday).",
            "additionalProperties": _WEEKDAY_HOURS,
        },
        "Office": _obj(list(office_out), **office_out),
        "NewOffice": _strict(
            ["code", *_OFFICE_TEXT], code=_TEXT, capacity=_NUMBER, hours=_ref("Hours"), **settable
        ),
        "OfficeChanges": _strict(
            None, **{k: {**v, "type": [v["type"], "null"]} for k, v in settable.items()}
        ),
        "Appointment": _obj(list(appointment), **appointment),
        "AuditEntry": _obj(list(audit), **audit),
    }


def _ok(schema: dict[str, Any], description: str, status: str = "200") -> dict[str, Any]:
    return {status: _json(schema, description)}


_READ_ERRORS: Final = ("400", "401", "403", "404", "405")
_WRITE_ERRORS: Final = ("400", "401", "403", "404", "405", "413")


def _paths() -> dict[str, Any]:
    office = _ref("Office")
    counts = _obj(["created", "updated", "unchanged", "notified"], created=_INT, updated=_INT,
                  unchanged=_INT, notified=_INT)  # fmt: skip
    closed = _obj(
        ["office", "day", "newly_closed", "cancelled", "notices"],
        office=_STR, day=_DAY, newly_closed=_BOOL, cancelled=_STRINGS, notices=_INT,
    )  # fmt: skip
    page = _obj(
        ["appointments", "offset", "limit"],
        appointments={"type": "array", "items": _ref("Appointment")}, offset=_INT, limit=_INT,
    )  # fmt: skip
    csv_ok = {"200": {"description": "CSV with a header row.",
                      "content": {"text/csv": {"schema": _STR}}}}  # fmt: skip
    paging = [
        _query("offset", {"type": "integer", "minimum": 0}, "Skip this many."),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "At most this many."),
    ]
    import_body = {
        "required": True,
        "description": "The CSV file: receipt_number, form_type, status and optionally "
        "received_date, owner_email, access_code.",
        "content": {"text/csv": {"schema": _STR}},
    }
    reason_body = {"required": False, "content": {"application/json": {
        "schema": _strict(None, reason=_NULLABLE_TEXT)}}}  # fmt: skip
    return {
        "/api/admin/cases/status": {
            "post": _operation(
                "adminSetCaseStatus",
                "Set a case's status (official title or code); its followers are notified",
                _responses(
                    _ok(_obj(["changed"], changed=_BOOL), "False: it had it already."),
                    *_WRITE_ERRORS,
                ),
                requestBody=_body(
                    _strict(["receipt_number", "status"], receipt_number=_TEXT, status=_TEXT)
                ),
            ),
        },
        "/api/admin/cases/unlock-access": {
            "post": _operation(
                "adminUnlockCaseAccess",
                "Give every account locked out of a paper-filed case by wrong access codes its "
                "tries back (a lock otherwise runs out after an hour)",
                _responses(
                    _ok(
                        _obj(["unlocked"], unlocked={"type": "integer", "minimum": 0}),
                        "How many accounts had wrong codes recorded for the case.",
                    ),
                    *_WRITE_ERRORS,
                ),
                requestBody=_body(_strict(["receipt_number"], receipt_number=_TEXT)),
            ),
        },
        "/api/admin/cases/import": {
            "post": _operation(
                "adminImportCases",
                "Import cases from CSV (all rows or none; importing again changes nothing)",
                _responses(
                    _ok(counts, "How many rows created, changed or left cases."),
                    *_WRITE_ERRORS,
                    **{"422": _error("Bad rows (import_failed; details by line).")},
                ),
                requestBody=import_body,
            ),
        },
        "/api/admin/offices": {
            "get": _operation(
                "adminListOffices",
                "Every active office with its hours and closures",
                _responses(
                    _ok(
                        _obj(["offices"], offices={"type": "array", "items": office}),
                        "The offices.",
                    ),
                    *_READ_ERRORS,
                ),
            ),
            "post": _operation(
                "adminAddOffice",
                "Add an office (hours default to Monday-Friday 08:00-16:00)",
                _responses(_ok(office, "The new office.", "201"), *_WRITE_ERRORS, "409"),
                requestBody=_body(_ref("NewOffice")),
            ),
        },
        "/api/admin/offices/{code}": {
            "parameters": [_CODE],
            "patch": _operation(
                "adminUpdateOffice",
                "Change an office's settings (bookings made stay)",
                _responses(
                    _ok(
                        _obj(["office", "changed"], office=office, changed=_STRINGS),
                        "The office and what changed.",
                    ),
                    *_WRITE_ERRORS,
                ),
                requestBody=_body(_ref("OfficeChanges")),
            ),
        },
        "/api/admin/offices/{code}/hours": {
            "parameters": [_CODE],
            "put": _operation(
                "adminSetOfficeHours",
                "Replace the weekly opening hours",
                _responses(_ok(office, "The office."), *_WRITE_ERRORS),
                requestBody=_body(_strict(["hours"], hours=_ref("Hours"))),
            ),
        },
        "/api/admin/offices/{code}/capacity": {
            "parameters": [_CODE],
            "put": _operation(
                "adminSetOfficeCapacity",
                "Set people per slot (1-500), for future slots too",
                _responses(
                    _ok(
                        _obj(
                            ["office", "slots_over_capacity"],
                            office=office,
                            slots_over_capacity=_INT,
                        ),
                        "The office; future slots holding more already.",
                    ),
                    *_WRITE_ERRORS,
                ),
                requestBody=_body(_strict(["capacity"], capacity=_NUMBER)),
            ),
        },
        "/api/admin/offices/{code}/closures/{day}": {
            "parameters": [_CODE, _DAY_PARAM],
            "put": _operation(
                "adminCloseOfficeDay",
                "Close a day: its appointments are cancelled and each person is told, with "
                "an offer to book again",
                _responses(_ok(closed, "What closing did."), *_WRITE_ERRORS),
                requestBody=reason_body,
            ),
            "delete": _operation(
                "adminReopenOfficeDay",
                "Open a closed day again",
                _responses(
                    _ok(_obj(["reopened"], reopened=_BOOL), "False: it was not closed."),
                    *_READ_ERRORS,
                ),
            ),
        },
        "/api/admin/appointments": {
            "get": _operation(
                "adminListAppointments",
                "Appointments by office, local days, status and type, in time order",
                _responses(_ok(page, "A page of appointments."), *_READ_ERRORS),
                parameters=[*_FILTERS, *paging],
            ),
        },
        "/api/admin/appointments/export": {
            "get": _operation(
                "adminExportAppointments",
                "The same as CSV (up to 100,000 rows)",
                _responses(csv_ok, *_READ_ERRORS),
                parameters=_FILTERS,
            ),
        },
        "/api/admin/audit": {
            "get": _operation(
                "adminReadAudit",
                "The audit log, oldest first",
                _responses(
                    _ok(
                        _obj(["entries"], entries={"type": "array", "items": _ref("AuditEntry")}),
                        "Entries after the id given.",
                    ),
                    *_READ_ERRORS,
                ),
                parameters=[
                    _query("action", _STR, "e.g. office.close_day"),
                    _query("actor", _STR, "e.g. cli:olga"),
                    _query("since", _STR, "A day, YYYY-MM-DD (UTC)."),
                    _query("after", {"type": "integer", "minimum": 0}, "After this id."),
                    paging[1],
                ],
            ),
        },
    }


def add_admin_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add the admin API's tag, security scheme, schemas and paths to ``document``."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})["adminToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "CASEBOT_ADMIN_TOKEN",
    }
    components.setdefault("schemas", {}).update(_schemas())
    document.setdefault("tags", []).append(
        {
            "name": "admin",
            "description": "Operators: cases, imports, offices, closures, appointments and the "
            "audit log. Needs CASEBOT_ADMIN_TOKEN as a bearer token; every action is audited.",
        }
    )
    document.setdefault("paths", {}).update(_paths())
    return document
