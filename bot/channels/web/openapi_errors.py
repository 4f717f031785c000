"""What the web chat API's OpenAPI document says about errors, in one place: the error
codes, each error response, and the parameters that can be refused (the session's id, the
token in a query string), for ``bot.channels.web.openapi`` to refer to."""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "ERRORS",
    "ERROR_CODES",
    "QUERY_TOKEN",
    "RETRY_AFTER",
    "SESSION_ID",
    "error_response",
    "pick_errors",
]


ERROR_CODES: Final = [
    "bad_request",
    "bad_json",
    "bad_locale",
    "bad_idempotency_key",
    "too_long",
    "body_too_large",
    "unauthorized",
    "session_expired",
    "session_not_found",
    "attachment_not_found",
    "websocket_expected",
    "origin_not_allowed",
    "rate_limited",
    "not_found",
    "method_not_allowed",
    "http_error",
    "unavailable",
    "metrics_disabled",
    "request_timeout",
    "bad_signature",
    "unsupported_media_type",
]


def error_response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER: Final = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    }
}
SESSION_ID: Final = {
    "name": "session_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The session id returned when the session was created (32 hex digits).",
}
QUERY_TOKEN: Final = {
    "name": "token",
    "in": "query",
    "required": False,
    "schema": {"type": "string"},
    "description": "The session token (where a header cannot be sent: <img>, WebSocket).",
}
ERRORS: Final = {
    "400": error_response("Bad input: not JSON, wrong types, both or neither of text and payload."),
    "401": error_response(
        "Missing, wrong or expired token (code unauthorized or session_expired)."
    ),
    "403": error_response("The request's Origin may not use the API (see CASEBOT_WEB_ORIGINS)."),
    "404": error_response("No such session."),
    "413": error_response("The body is larger than 8 KiB."),
    "503": error_response(
        "The database cannot be reached for a moment (code unavailable): try again after "
        "Retry-After seconds.",
        {
            "Retry-After": {
                "description": "Seconds to wait before trying again.",
                "schema": {"type": "string", "pattern": "^[0-9]+$"},
            }
        },
    ),
}


def pick_errors(*codes: str) -> dict[str, Any]:
    return {code: ERRORS[code] for code in codes}
