"""The OpenAPI 3.1 document of the web chat API, served at ``/api/openapi.json``.

It describes exactly what ``bot.channels.web.api`` does; a schemathesis run in the tests holds
the server to it. Additions to the contract of ARCHITECTURE.md: each message object also has
``from`` (``user`` or ``bot``) and ``secret_input`` (the next input is a secret: mask the field).
"""

from __future__ import annotations

from typing import Any, Final

from bot.admin.openapi import add_admin_document
from bot.channels.web.api import MAX_PAYLOAD_LENGTH
from bot.channels.web.openapi_errors import (
    ERROR_CODES,
    QUERY_TOKEN,
    RETRY_AFTER,
    SESSION_ID,
    error_response,
    pick_errors,
)
from bot.engine import MAX_TEXT_LENGTH

__all__ = ["openapi_document"]


_LIVENESS: Final[dict[str, object]] = {
    "type": "object",
    "required": ["status", "pid"],
    "properties": {"status": {"const": "ok"}, "pid": {"type": "integer"}},
}
_READINESS: Final[dict[str, object]] = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {
        "status": {"enum": ["ok", "unavailable"]},
        "schema": {"type": ["string", "null"], "description": "the schema revision"},
        "checks": {
            "type": "object",
            "description": "database, schema, catalogs, and telegram when configured",
            "additionalProperties": {"enum": ["ok", "down", "behind", "missing"]},
        },
    },
}


def openapi_document() -> dict[str, Any]:
    """The whole document (a fresh dict each call)."""
    message = {
        "type": "object",
        "required": ["id", "from", "text", "buttons", "attachments", "secret_input"],
        "properties": {
            "id": {"type": "integer", "minimum": 1, "description": "Increasing in a session."},
            "from": {"type": "string", "enum": ["user", "bot"]},
            "text": {"type": "string", "description": "A secret input reads '••••••'."},
            "buttons": {"type": "array", "items": {"$ref": "#/components/schemas/Button"}},
            "attachments": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Attachment"},
            },
            "secret_input": {
                "type": "boolean",
                "description": "Addition to the contract: the next input is a secret "
                "(password, code): mask the input field.",
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
                        "url": {"type": "string", "description": "Relative; carries the token."},
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
                    "properties": {"payload": {"type": "string", "maxLength": MAX_PAYLOAD_LENGTH}},
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
                    "security": [{"bearer": []}],
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
                    "summary": "A file the assistant sent (QR code image, calendar file)",
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
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/livez": {
                "get": {
                    "operationId": "liveness",
                    "description": "Liveness: the process answers. Nothing else is checked, "
                    "so a database outage does not make an orchestrator restart the workers.",
                    "responses": {
                        "200": {
                            "description": "Alive; ``pid`` names the worker that answered.",
                            "content": {"application/json": {"schema": _LIVENESS}},
                        }
                    },
                }
            },
            "/readyz": {
                "get": {
                    "operationId": "readiness",
                    "description": "Readiness: the database answers at the schema this "
                    "version ships, every catalog is loaded, Telegram is connected when "
                    "configured. A load balancer sends traffic only while it answers 200.",
                    "responses": {
                        "200": {
                            "description": "Ready; every check ``ok``.",
                            "content": {"application/json": {"schema": _READINESS}},
                        },
                        "503": {
                            "description": "Not ready; ``checks`` names what is not ``ok`` "
                            "(database ``down``, schema ``behind``, catalogs ``missing``, "
                            "telegram ``down``).",
                            "content": {"application/json": {"schema": _READINESS}},
                        },
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "description": "The same as ``/readyz`` (kept for compatibility).",
                    "responses": {
                        "200": {
                            "description": "Ready, as ``/readyz``.",
                            "content": {"application/json": {"schema": _READINESS}},
                        },
                        "503": {
                            "description": "Not ready, as ``/readyz``.",
                            "content": {"application/json": {"schema": _READINESS}},
                        },
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "description": "Off unless CASEBOT_METRICS_TOKEN is set; then it asks for "
                    "Authorization: Bearer <that token> (not a chat or admin token).",
                    "responses": {
                        "200": {
                            "description": "Prometheus text format: casebot_webchat_turns_total, "
                            "casebot_webchat_turn_seconds, casebot_http_errors_total{code}.",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        },
                        "401": error_response("A missing or wrong metrics token (unauthorized)."),
                        "404": error_response(
                            "CASEBOT_METRICS_TOKEN is not set (metrics_disabled)."
                        ),
                    },
                }
            },
            "/": {
                "get": {
                    "operationId": "demoPage",
                    "responses": {
                        "200": {
                            "description": "The demo page with the widget.",
                            "content": {"text/html": {"schema": {"type": "string"}}},
                        },
                        "404": error_response("The widget is not installed."),
                    },
                }
            },
            "/widget.js": {
                "get": {
                    "operationId": "widget",
                    "responses": {
                        "200": {
                            "description": "The embeddable widget.",
                            "content": {"text/javascript": {"schema": {"type": "string"}}},
                        },
                        "404": error_response("The widget is not installed."),
                    },
                }
            },
        },
    }
    return add_admin_document(document)
