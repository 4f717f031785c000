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
    "conversation_not_found",
    "already_claimed",
    "not_your_conversation",
    "not_your_language",
    "conversation_not_open",
    "unknown_language",
    "unknown_staff",
    "bad_outcome",
    "message_not_found",
    "already_replied",
    "websocket_expected",
    "supervisors_only",
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


_CONVERSATION_ID: Final = {
    "name": "conversation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
    "description": "The conversation's id, from the queue.",
}
_MESSAGE_ID: Final = {
    "name": "message_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
    "description": "The secure message's id.",
}
_NOT_FOUND: Final = _error("No such conversation (conversation_not_found).")
_FORBIDDEN: Final = _error(
    "Not this agent's: in a language they do not take (not_your_language), or held by "
    "another agent (not_your_conversation); or the Origin may not use the API."
)
_NOT_OPEN: Final = _error("It is not open: waiting for a claim, or ended (conversation_not_open).")
_LANGUAGE: Final = {"type": "string", "enum": list(STAFF_LANGUAGES)}
_NULLABLE_STRING: Final = {"type": ["string", "null"]}


def _line_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["sender", "text", "at", "event", "masked"],
        "properties": {
            "sender": {"type": "string", "enum": ["person", "bot", "agent", "system"]},
            "text": {
                "type": "string",
                "description": "As written: plain text, never markup (show it as text). "
                "Empty for an event and for a masked secret.",
            },
            "at": {"type": ["string", "null"], "format": "date-time"},
            "event": {
                **_NULLABLE_STRING,
                "description": "A system line's event: requested, claimed, transferred, "
                "withheld, closed, ended_by_person.",
            },
            "masked": {
                "type": "boolean",
                "description": "A password or code the person typed: withheld, no text.",
            },
        },
    }


def _figures_schema() -> dict[str, Any]:
    count = {"type": "integer", "minimum": 0}
    wait = {
        "type": ["integer", "null"],
        "minimum": 0,
        "description": "Seconds (a nearest-rank percentile: a wait someone had); null when "
        "no one was claimed in the window.",
    }
    return {
        "type": "object",
        "required": [
            "waiting",
            "longest_wait_seconds",
            "with_agent",
            "claims",
            "wait_p50_seconds",
            "wait_p95_seconds",
            "handled_today",
            "abandoned_today",
        ],
        "properties": {
            "waiting": {**count, "description": "People in the line now."},
            "longest_wait_seconds": {
                **count,
                "description": "How long the one who has waited longest has waited (0: nobody).",
            },
            "with_agent": {**count, "description": "People chatting with an agent now."},
            "claims": {
                **count,
                "description": "First claims in the window: the waits p50 and p95 are of. "
                "A wait runs from the request to the first claim.",
            },
            "wait_p50_seconds": wait,
            "wait_p95_seconds": wait,
            "handled_today": {
                **count,
                "description": "Chats an agent held, closed today (by the agent or the person).",
            },
            "abandoned_today": {
                **count,
                "description": "People who left the line before an agent took them, today.",
            },
        },
    }


def _desk_schemas() -> dict[str, Any]:
    return {
        "ConsoleLine": _line_schema(),
        "ConsoleQueue": {
            "type": "object",
            "required": ["waiting"],
            "properties": {
                "waiting": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "conversation_id",
                            "language",
                            "channel",
                            "waiting_seconds",
                            "topic",
                            "signed_in",
                        ],
                        "properties": {
                            "conversation_id": {"type": "integer"},
                            "language": _LANGUAGE,
                            "channel": {"type": "string", "description": "webchat, telegram, ..."},
                            "waiting_seconds": {"type": "integer", "minimum": 0},
                            "topic": {
                                **_NULLABLE_STRING,
                                "description": "What the person last asked about.",
                            },
                            "signed_in": {"type": "boolean"},
                        },
                    },
                }
            },
        },
        "ConsoleConversation": {
            "type": "object",
            "required": [
                "conversation_id",
                "status",
                "language",
                "channel",
                "topic",
                "signed_in",
                "staff_id",
                "agent_name",
                "created_at",
                "outcome",
                "bot_transcript",
                "messages",
                "context",
            ],
            "properties": {
                "conversation_id": {"type": "integer"},
                "status": {
                    "type": "string",
                    "enum": ["waiting", "claimed", "closed", "abandoned"],
                },
                "language": _LANGUAGE,
                "channel": {"type": "string"},
                "topic": _NULLABLE_STRING,
                "signed_in": {"type": "boolean"},
                "staff_id": {"type": ["integer", "null"]},
                "agent_name": _NULLABLE_STRING,
                "created_at": {"type": "string", "format": "date-time"},
                "outcome": _NULLABLE_STRING,
                "bot_transcript": {
                    "type": "array",
                    "items": _ref("ConsoleLine"),
                    "description": "The web chat's transcript (its newest 200 lines; secrets "
                    "masked). Other channels keep none: empty.",
                },
                "messages": {"type": "array", "items": _ref("ConsoleLine")},
                "context": {
                    "type": "object",
                    "required": ["cases", "appointments"],
                    "description": "A signed-in person's cases and appointments, read-only.",
                    "properties": {
                        "cases": {"type": "array", "items": {"type": "object"}},
                        "appointments": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
        "ConsoleDone": {
            "type": "object",
            "required": ["conversation_id", "status"],
            "properties": {
                "conversation_id": {"type": "integer"},
                "status": {"type": "string", "enum": ["claimed", "transferred", "closed"]},
            },
        },
        "ConsoleLineFigures": _figures_schema(),
        "ConsoleStats": {
            "type": "object",
            "required": ["time_zone", "day_start", "window_seconds", "languages", "all"],
            "properties": {
                "time_zone": {
                    "type": "string",
                    "description": "The agents' time zone (CASEBOT_AGENT_HOURS): its midnight "
                    "begins the day of handled_today and abandoned_today.",
                },
                "day_start": {"type": "string", "format": "date-time"},
                "window_seconds": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "The waits of p50 and p95 are those of first claims in "
                    "this many seconds before now.",
                },
                "languages": {
                    "type": "array",
                    "description": "Every supported language's line, in a fixed order (then "
                    "any other line that has people in it).",
                    "items": {
                        "allOf": [
                            {
                                "type": "object",
                                "required": ["language"],
                                "properties": {"language": {"type": "string"}},
                            },
                            _ref("ConsoleLineFigures"),
                        ]
                    },
                },
                "all": _ref("ConsoleLineFigures"),
            },
        },
        "SecureMessage": {
            "type": "object",
            "required": [
                "id",
                "language",
                "channel",
                "topic",
                "signed_in",
                "text",
                "created_at",
                "replied_at",
                "reply_text",
            ],
            "properties": {
                "id": {"type": "integer"},
                "language": {"type": "string"},
                "channel": {"type": "string"},
                "topic": _NULLABLE_STRING,
                "signed_in": {"type": "boolean"},
                "text": {"type": "string", "description": "As written: plain text."},
                "created_at": {"type": "string", "format": "date-time"},
                "replied_at": {"type": ["string", "null"], "format": "date-time"},
                "reply_text": _NULLABLE_STRING,
            },
        },
    }


def _desk_paths() -> dict[str, Any]:
    conversation = "/api/console/conversations/{conversation_id}"
    common = _errors("401", "429", "503")
    return {
        "/api/console/queue": {
            "get": _operation(
                "consoleQueue",
                "The people waiting for an agent, oldest first: of the agent's languages "
                "(a supervisor sees all)",
                {
                    "200": _json(_ref("ConsoleQueue"), "The waiting line."),
                    **common,
                    "403": _ERRORS["403"],
                },
            )
        },
        conversation + "/claim": {
            "parameters": [_CONVERSATION_ID],
            "post": _operation(
                "consoleClaim",
                "Take a waiting conversation: one agent wins, however many claim at once",
                {
                    "200": _json(_ref("ConsoleDone"), "It is this agent's now."),
                    "403": _FORBIDDEN,
                    "404": _NOT_FOUND,
                    "409": _error("Someone else has it, or it ended (already_claimed)."),
                    **common,
                },
            ),
        },
        conversation: {
            "parameters": [_CONVERSATION_ID],
            "get": _operation(
                "consoleConversation",
                "A conversation: the bot's transcript, its messages with the agent, and a "
                "signed-in person's cases and appointments",
                {
                    "200": _json(_ref("ConsoleConversation"), "The conversation."),
                    "403": _FORBIDDEN,
                    "404": _NOT_FOUND,
                    **common,
                },
            ),
        },
        conversation + "/messages": {
            "parameters": [_CONVERSATION_ID],
            "post": _operation(
                "consoleWrite",
                "Write to the person (the agent must hold the conversation); it reaches them "
                "in their channel",
                {
                    "201": _json(
                        {
                            "type": "object",
                            "required": ["id"],
                            "properties": {"id": {"type": "integer"}},
                        },
                        "Sent.",
                    ),
                    "400": _ERRORS["400"],
                    "403": _FORBIDDEN,
                    "404": _NOT_FOUND,
                    "409": _NOT_OPEN,
                    "413": _ERRORS["413"],
                    **common,
                },
                requestBody=_body(["text"], text=_text(4000, "Plain text.")),
            ),
        },
        conversation + "/transfer": {
            "parameters": [_CONVERSATION_ID],
            "post": _operation(
                "consoleTransfer",
                "Pass the conversation on: to the line of another language (it waits again) "
                "or to another agent (who has it at once)",
                {
                    "200": _json(_ref("ConsoleDone"), "Passed on."),
                    "400": _error(
                        "Bad input: neither or both fields (bad_request), an unknown language "
                        "(unknown_language) or staff member (unknown_staff)."
                    ),
                    "403": _FORBIDDEN,
                    "404": _NOT_FOUND,
                    "409": _NOT_OPEN,
                    "413": _ERRORS["413"],
                    **common,
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {
                                        "type": "object",
                                        "required": ["language"],
                                        "properties": {"language": _LANGUAGE},
                                        "additionalProperties": False,
                                    },
                                    {
                                        "type": "object",
                                        "required": ["staff_id"],
                                        "properties": {
                                            "staff_id": {"type": "integer", "minimum": 1}
                                        },
                                        "additionalProperties": False,
                                    },
                                ]
                            }
                        }
                    },
                },
            ),
        },
        conversation + "/close": {
            "parameters": [_CONVERSATION_ID],
            "post": _operation(
                "consoleClose",
                "End the conversation with an outcome; the person is back with the assistant",
                {
                    "200": _json(_ref("ConsoleDone"), "Closed."),
                    "400": _error("Bad input (bad_request, bad_json, bad_outcome)."),
                    "403": _FORBIDDEN,
                    "404": _NOT_FOUND,
                    "409": _NOT_OPEN,
                    "413": _ERRORS["413"],
                    **common,
                },
                requestBody=_body(
                    ["outcome"],
                    outcome={
                        "type": "string",
                        "enum": ["resolved", "referred", "no_response", "other"],
                    },
                ),
            ),
        },
        "/api/console/messages": {
            "get": _operation(
                "consoleSecureMessages",
                "Secure messages of the agent's languages (a supervisor: all), oldest first",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["messages"],
                            "properties": {
                                "messages": {"type": "array", "items": _ref("SecureMessage")}
                            },
                        },
                        "The messages (at most 500).",
                    ),
                    "400": _ERRORS["400"],
                    "403": _ERRORS["403"],
                    **common,
                },
                parameters=[
                    {
                        "name": "answered",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["true", "false"]},
                        "description": "true: the answered ones too (default false).",
                    }
                ],
            )
        },
        "/api/console/messages/{message_id}/reply": {
            "parameters": [_MESSAGE_ID],
            "post": _operation(
                "consoleSecureReply",
                "Answer a secure message: sent to the person's chat and, when signed in, "
                "their email",
                {
                    "200": _json(_ref("SecureMessage"), "Answered."),
                    "400": _ERRORS["400"],
                    "403": _FORBIDDEN,
                    "404": _error("No such message (message_not_found)."),
                    "409": _error("It was answered already (already_replied)."),
                    "413": _ERRORS["413"],
                    **common,
                },
                requestBody=_body(["text"], text=_text(2000, "Plain text.")),
            ),
        },
        "/api/console/canned": {
            "get": _operation(
                "consoleCanned",
                "Canned replies for a language (bot/console_replies.toml)",
                {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["language", "replies"],
                            "properties": {
                                "language": _LANGUAGE,
                                "replies": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["label", "text"],
                                        "properties": {
                                            "label": {"type": "string"},
                                            "text": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                        "The replies: an English label, the text in the language.",
                    ),
                    "400": _error("An unknown language (unknown_language)."),
                    "403": _ERRORS["403"],
                    **common,
                },
                parameters=[
                    {
                        "name": "language",
                        "in": "query",
                        "required": False,
                        "schema": _LANGUAGE,
                        "description": "Default en.",
                    }
                ],
            )
        },
        "/api/console/stats": {
            "get": _operation(
                "consoleStats",
                "Supervisors only: the waiting-time figures of every line and of all of them",
                {
                    "200": _json(_ref("ConsoleStats"), "The figures, as of now."),
                    "403": _error(
                        "Not a supervisor (supervisors_only); or the Origin may not use the API."
                    ),
                    **common,
                },
            )
        },
        "/api/console/ws": {
            "get": _operation(
                "consoleLive",
                "A WebSocket of live events, for the agent's languages and conversations",
                {
                    "101": {"description": "Switching to the WebSocket protocol."},
                    "400": _error("Not a WebSocket handshake (websocket_expected)."),
                    "403": _ERRORS["403"],
                    **_errors("401", "429", "503"),
                },
                signed_in=False,
                parameters=[
                    {
                        "name": "token",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "The console token (a browser cannot set a header on "
                        "a WebSocket).",
                    }
                ],
                description='JSON text frames: first {"type": "ready"}, then '
                '{"type": "handoff", "id", "language", "event", "sender", '
                '"staff_id"} for every change of a conversation (event: requested, claimed, '
                "transferred, message, withheld, closed, ended_by_person) and "
                '{"type": "secure_message", "id", "language", "event": "new"}. '
                "Frames name what changed; read it with the API. Frames sent by the page are "
                "ignored.",
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
    components.setdefault("schemas", {}).update({**_schemas(), **_desk_schemas()})
    document.setdefault("tags", []).append(
        {
            "name": "console",
            "description": "The agent console: staff set-up, sign-in, availability, the "
            "waiting line, conversations with people, secure messages, live events. Staff "
            "accounts are added by an operator (casebot admin staff add).",
        }
    )
    document.setdefault("paths", {}).update({**_paths(), **_desk_paths()})
    return document
