"""The console API's part of the OpenAPI document (tag ``console``, bearer scheme
``consoleToken``): what ``bot.channels.web.console_api`` answers, held to it by schemathesis."""

from __future__ import annotations

from typing import Any, Final

from bot.channels.web.openapi_errors import RETRY_AFTER
from core.accounts.policy import MAX_PASSWORD_LENGTH
from core.staff.models import STAFF_LANGUAGES

__all__ = ["CONSOLE_ERROR_CODES", "add_console_document"]

CONSOLE_ERROR_CODES: Final = [
    "bad_request",
    "bad_json",
    "too_long",
    "body_too_large",
    "unauthorized",
    "session_expired",
    "invalid_credentials",
    "account_locked",
    "setup_code_invalid",
    "setup_not_started",
    "weak_password",
    "invalid_code",
    "rate_limited",
    "origin_not_allowed",
    "not_found",
    "method_not_allowed",
    "http_error",
    "unavailable",
    "request_timeout",
]
_CHALLENGE: Final = {
    "WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response = _json(_ref("ConsoleError"), description)
    if headers:
        response["headers"] = headers
    return response


_ERRORS: Final = {
    "400": _error("Bad input (the code says which)."),
    "401": _error(
        "No valid console token (unauthorized, session_expired); at sign-in, a wrong email, "
        "password or code (invalid_credentials, one answer for all), or a locked account "
        "(account_locked, with Retry-After).",
        _CHALLENGE,
    ),
    "403": _error("The request's Origin may not use the API (see CASEBOT_WEB_ORIGINS)."),
    "413": _error("The body is larger than 8 KiB."),
    "429": _error(
        "Over a rate limit: 10 password or code checks a minute per client address, 300 "
        "requests a minute per client address and per staff member; a password check also "
        "spends from the service's budget of password checks (CASEBOT_PASSWORD_CHECKS_PER_SECOND).",
        RETRY_AFTER,
    ),
    "503": _error("The database cannot be reached for a moment: try again.", RETRY_AFTER),
}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _ERRORS[code] for code in codes}


def _body(required: list[str], **properties: Any) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _operation(
    op_id: str, summary: str, responses: dict[str, Any], *, signed_in: bool = True, **more: Any
) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": ["console"],
        "security": [{"consoleToken": []}] if signed_in else [],
        "responses": responses,
        **more,
    }


def _text(max_length: int, description: str) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "description": description}


def _schemas() -> dict[str, Any]:
    return {
        "ConsoleError": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string", "enum": CONSOLE_ERROR_CODES},
                        "message": {"type": "string"},
                    },
                }
            },
        },
        "StaffMe": {
            "type": "object",
            "required": ["id", "email", "display_name", "languages", "role", "available", "hours"],
            "properties": {
                "id": {"type": "integer", "description": "The staff_id."},
                "email": {"type": "string"},
                "display_name": {"type": "string", "description": "The name people see."},
                "languages": {
                    "type": "array",
                    "items": {"type": "string", "enum": list(STAFF_LANGUAGES)},
                },
                "role": {"type": "string", "enum": ["agent", "supervisor"]},
                "available": {"type": "boolean", "description": "The available/away switch."},
                "hours": {
                    "type": "object",
                    "required": ["open", "next_opening", "time_zone"],
                    "description": "The agents' business hours (CASEBOT_AGENT_HOURS).",
                    "properties": {
                        "open": {"type": "boolean"},
                        "next_opening": {
                            "type": "string",
                            "format": "date-time",
                            "description": "Now while open.",
                        },
                        "time_zone": {"type": "string"},
                    },
                },
            },
        },
    }


def _paths() -> dict[str, Any]:
    password = _text(4 * MAX_PASSWORD_LENGTH, "At most 128 characters after normalisation.")
    setup_code = _text(100, "The code of the set-up link (after #setup=).")
    return {
        "/console": {
            "get": {
                "operationId": "consolePage",
                "summary": "The agent console page (its script and style at /console.js and "
                "/console.css); a set-up link is /console#setup=CODE",
                "tags": ["console"],
                "responses": {
                    "200": {
                        "description": "The page, under a Content-Security-Policy that lets it "
                        "load nothing but its own files.",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    "404": _error("The page is not installed."),
                },
            }
        },
        "/api/console/setup": {
            "post": _operation(
                "consoleSetup",
                "Choose a password with the one-time set-up code; get an authenticator secret",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["email", "secret", "otpauth_uri", "qr_png"],
                            "properties": {
                                "email": {"type": "string"},
                                "secret": {"type": "string", "description": "Base32."},
                                "otpauth_uri": {"type": "string"},
                                "qr_png": {
                                    "type": "string",
                                    "description": "The URI as a QR code, a data: URL.",
                                },
                            },
                        },
                        "Scan the secret into an authenticator app, then confirm with a code. "
                        "Asked again before the confirmation, it draws another secret.",
                    ),
                    **_errors("400", "403", "413", "429", "503"),
                },
                signed_in=False,
                requestBody=_body(["code", "password"], code=setup_code, password=password),
            )
        },
        "/api/console/setup/confirm": {
            "post": _operation(
                "consoleSetupConfirm",
                "Prove the authenticator app holds the secret; the set-up code is used up",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["email", "display_name"],
                            "properties": {
                                "email": {"type": "string"},
                                "display_name": {"type": "string"},
                            },
                        },
                        "The account is set up: sign in.",
                    ),
                    **_errors("400", "401", "403", "413", "429", "503"),
                    "409": _error("No password was chosen yet (setup_not_started)."),
                },
                signed_in=False,
                requestBody=_body(
                    ["code", "totp"], code=setup_code, totp=_text(20, "The app's 6 digits.")
                ),
            )
        },
        "/api/console/sessions": {
            "post": _operation(
                "consoleSignIn",
                "Sign in with email, password and authenticator code",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["token"],
                            "properties": {"token": {"type": "string", "minLength": 32}},
                        },
                        "The console's bearer token: kept hashed, it ends at sign-out, after 8 "
                        "idle hours or 12 hours after sign-in. Never valid for the chat API.",
                    ),
                    **_errors("400", "401", "403", "413", "429", "503"),
                },
                signed_in=False,
                description="Five failures in a row lock the account for 20 minutes, then "
                "longer (the applicants' rule).",
                requestBody=_body(
                    ["email", "password", "code"],
                    email=_text(254, "The staff email."),
                    password=password,
                    code=_text(20, "The authenticator app's code."),
                ),
            )
        },
        "/api/console/me": {
            "get": _operation(
                "consoleMe",
                "Who is signed in, their availability and the agents' hours",
                {
                    "200": _json(_ref("StaffMe"), "The signed-in staff member."),
                    **_errors("401", "403", "429", "503"),
                },
            )
        },
        "/api/console/me/availability": {
            "post": _operation(
                "consoleAvailability",
                "Turn the available/away switch",
                {
                    "200": _json(_ref("StaffMe"), "The staff member after the change."),
                    **_errors("400", "401", "403", "413", "429", "503"),
                },
                requestBody=_body(["available"], available={"type": "boolean"}),
            )
        },
        "/api/console/sessions/current": {
            "delete": _operation(
                "consoleSignOut",
                "Sign out: the token stops working (the last session ending sets away)",
                {
                    "204": {"description": "Signed out."},
                    **_errors("401", "403", "429", "503"),
                },
            )
        },
    }


def add_console_document(document: dict[str, Any]) -> dict[str, Any]:
    """Add the console API's tag, security scheme, schemas and paths to ``document``."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})["consoleToken"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "A console token from POST /api/console/sessions (not a chat token).",
    }
    components.setdefault("schemas", {}).update(_schemas())
    document.setdefault("tags", []).append(
        {
            "name": "console",
            "description": "The agent console: staff set-up, sign-in, availability. Staff "
            "accounts are added by an operator (casebot admin staff add).",
        }
    )
    document.setdefault("paths", {}).update(_paths())
    return document
