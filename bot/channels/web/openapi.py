"""The OpenAPI 3.1 document of the web chat API, served at ``/api/openapi.json``.

It describes exactly what ``bot.channels.web.api`` does; a schemathesis run in the tests holds
the server to it. Additions to the contract of ARCHITECTURE.md: each message object also has
``from`` (``user`` or ``bot``), ``secret_input`` (the next input is a secret), ``input`` (which
field it wants: a masked password, a code, an answer) and ``at`` (when it was stored); a message
sent with an ``Idempotency-Key`` header runs its turn once, however often it is sent.
What it says of errors is in ``openapi_errors``; the paths of the probes, the metrics, the page
and the widget in ``openapi_service``; the SMS provider's callbacks in ``openapi_sms``.
"""

from __future__ import annotations

from typing import Any

from bot.admin.openapi import add_admin_document
from bot.channels.web.api import MAX_PAYLOAD_LENGTH
from bot.channels.web.openapi_console import add_console_document
from bot.channels.web.openapi_errors import (
    ERROR_CODES,
    QUERY_TOKEN,
    RETRY_AFTER,
    SESSION_ID,
    error_response,
    pick_errors,
)
from bot.channels.web.openapi_links import add_links
from bot.channels.web.openapi_service import service_paths
from bot.channels.web.openapi_sms import sms_paths
from bot.engine import MAX_TEXT_LENGTH

__all__ = ["openapi_document"]


def openapi_document() -> dict[str, Any]:
    """The whole document (a fresh dict each call)."""
    message = {
        "type": "object",
        "required": ["id", "from", "text", "buttons", "attachments", "secret_input"],
        "properties": {
            "id": {"type": "integer", "minimum": 1, "description": "Increasing in a session."},
            "from": {"type": "string", "enum": ["user", "bot"]},
            "text": {
                "type": "string",
                "description": "A secret input reads '••••••'. A secret shown once (an "
                "authenticator key, a new backup code) is in the answer to its turn only; the "
                "transcript has a placeholder in the conversation's language instead.",
            },
            "buttons": {"type": "array", "items": {"$ref": "#/components/schemas/Button"}},
            "attachments": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Attachment"},
            },
            "secret_input": {
                "type": "boolean",
                "description": "Addition to the contract: the next input is a secret "
                "(password, code): do not echo it or keep it.",
            },
            "input": {
                "type": "string",
                "enum": ["text", "password", "digits", "code", "answer"],
                "description": "Addition to the contract: the field the next input wants. "
                "password: masked (the widget has a show toggle); digits: a code of digits "
                "(numeric keyboard, one-time code); code: a code of letters and digits (an "
                "Online Access Code, a backup code); answer: a reset question's answer. "
                "Codes and answers are secrets too, but copied from paper or a phone: not "
                "masked.",
            },
            "at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "Addition to the contract: when the message was stored (UTC).",
            },
        },
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "casebot web chat API",
            "version": "1.0.0",
            "description": "Chat with casebot from a web page. Create a session, then send "
            "text or pressed buttons with its bearer token. Every error is "
            '{"error": {"code", "message"}}.',
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string", "enum": ERROR_CODES},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Button": {
                    "type": "object",
                    "required": ["label", "payload"],
                    "properties": {"label": {"type": "string"}, "payload": {"type": "string"}},
                },
                "Attachment": {
                    "type": "object",
                    "required": ["kind", "name", "url"],
                    "properties": {
                        "kind": {"type": "string", "enum": ["image", "file"]},
                        "name": {"type": "string"},
                        "url": {
                            "type": "string",
                            "description": "Relative; carries the token. A file shown once "
                            "(an authenticator's QR code) comes as a data: URL in the answer to "
                            "its turn and is never kept.",
                        },
                    },
                },
                "Message": message,
                "NewSession": {
                    "type": "object",
                    "properties": {
                        "locale": {
                            "type": ["string", "null"],
                            "pattern": "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8}){0,3}$",
                            "maxLength": 16,
                            "description": "The page's language, e.g. es or zh-CN.",
                        }
                    },
                },
                "Session": {
                    "type": "object",
                    "required": ["session_id", "token"],
                    "properties": {
                        "session_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                        "token": {"type": "string", "minLength": 32},
                    },
                },
                "Text": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {"text": {"type": "string", "maxLength": MAX_TEXT_LENGTH}},
                    "not": {"required": ["payload"]},
                },
                "Press": {
                    "type": "object",
                    "required": ["payload"],
                    "properties": {
                        "payload": {
                            "type": "string",
                            "maxLength": MAX_PAYLOAD_LENGTH,
                            "description": "A button's payload, shown in the transcript as "
                            "the button's label. A language switch of the current prompt "
                            "('{seq}:g:setlang:es', seq as in the buttons shown, or 0 when none "
                            "is shown: a language switch is never stale), which the "
                            "widget's language picker sends, is shown as nothing: the person "
                            "said nothing.",
                        }
                    },
                    "not": {"required": ["text"]},
                },
            },
        },
        "paths": {
            "/api/chat/sessions": {
                "post": {
                    "operationId": "createSession",
                    "summary": "Start a chat session",
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/NewSession"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "The session and its bearer token (kept hashed; "
                            "expires after 24 idle hours).",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Session"}
                                }
                            },
                        },
                        **pick_errors("400", "403", "413", "503"),
                        "429": error_response(
                            "More than 10 new sessions a minute from one client address "
                            "(requests from this machine itself are not counted; behind a "
                            "proxy listed in CASEBOT_TRUSTED_PROXIES, the address it forwarded "
                            "for).",
                            RETRY_AFTER,
                        ),
                    },
                }
            },
            "/api/chat/sessions/{session_id}/messages": {
                "parameters": [SESSION_ID],
                "post": {
                    "operationId": "sendMessage",
                    "summary": "Send typed text or a pressed button's payload",
                    "description": "Send each message with an Idempotency-Key header of its "
                    "own and send it again with the same key when the answer did not arrive "
                    "(the server restarting, the network gone): the turn runs once. A key the "
                    "session already used runs no turn and counts against no limit: the answer "
                    "is the first turn's replies as the transcript keeps them (a secret shown "
                    "once has its placeholder). A turn that failed and was undone keeps no "
                    "key: sending it again runs it.",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "A key chosen by the client for this message (a "
                            "random UUID), unique in the session; stored with the turn's "
                            "messages in the turn's own transaction.",
                            "schema": {
                                "type": "string",
                                "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
                            },
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Text"},
                                        {"$ref": "#/components/schemas/Press"},
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The assistant's replies to this message.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["replies"],
                                        "properties": {
                                            "replies": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Message"},
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        **pick_errors("400", "401", "403", "404", "413", "503"),
                        "429": error_response(
                            "More than 30 messages a minute in this session, or 60 from this "
                            "client address across its sessions.",
                            RETRY_AFTER,
                        ),
                    },
                },
                "get": {
                    "operationId": "listMessages",
                    "summary": "The transcript after a message id (secrets masked)",
                    "description": "What the session showed, secrets masked or hidden (a "
                    "secret shown once has a placeholder, its QR code is left out). A sign-out "
                    "ends it: the messages before the turn that signed the chat out are never "
                    "listed again, and their files are deleted.",
                    "security": [{"bearer": []}],
                    "parameters": [
                        {
                            "name": "after",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 0, "default": 0},
                            "description": "Only messages with a larger id (at most 500).",
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The messages, oldest first.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["messages"],
                                        "properties": {
                                            "messages": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Message"},
                                            }
                                        },
                                    }
                                }
                            },
                        },
                        **pick_errors("400", "401", "403", "404", "503"),
                    },
                },
            },
            "/api/chat/sessions/{session_id}/attachments/{attachment_id}": {
                "parameters": [
                    SESSION_ID,
                    {
                        "name": "attachment_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                    QUERY_TOKEN,
                ],
                "get": {
                    "operationId": "getAttachment",
                    "summary": "A file the assistant sent (a calendar file)",
                    "security": [{"bearer": []}, {}],
                    "responses": {
                        "200": {
                            "description": "The file.",
                            "content": {
                                "image/png": {"schema": {"type": "string"}},
                                "text/calendar": {"schema": {"type": "string"}},
                                "application/octet-stream": {"schema": {"type": "string"}},
                            },
                        },
                        **pick_errors("401", "403"),
                        "404": error_response("No such session or file."),
                    },
                },
            },
            "/api/chat/sessions/{session_id}/ws": {
                "parameters": [SESSION_ID, QUERY_TOKEN],
                "get": {
                    "operationId": "openWebSocket",
                    "summary": "A WebSocket carrying every new message of the session as a "
                    "JSON text frame (a Message): the person's, the replies, and messages "
                    "pushed later (notifications). Frames sent by the page are ignored.",
                    "responses": {
                        "101": {"description": "Switching to the WebSocket protocol."},
                        "400": error_response(
                            "Not a WebSocket handshake (code websocket_expected)."
                        ),
                        **pick_errors("401", "403", "404"),
                    },
                },
            },
            **service_paths(),
            **sms_paths(),
        },
    }
    return add_links(add_console_document(add_admin_document(document)))
