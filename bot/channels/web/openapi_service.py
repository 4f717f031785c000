"""The OpenAPI paths of what the web server serves besides the chat API: this document, the
liveness and readiness probes, the metrics, the demo page, the widget and the unsubscribe page
of emails, for
``bot.channels.web.openapi`` to add to its document."""

from __future__ import annotations

from typing import Any, Final

from bot.channels.web.openapi_errors import error_response

__all__ = ["service_paths"]

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


_TOKEN_PARAMETER: Final[dict[str, object]] = {
    "name": "t",
    "in": "query",
    "required": False,
    "description": "The unsubscribe token of the link in the email (``List-Unsubscribe``).",
    "schema": {"type": "string"},
}
_PAGE: Final[dict[str, object]] = {"text/html": {"schema": {"type": "string"}}}


def _page(description: str) -> dict[str, object]:
    return {"description": description, "content": _PAGE}


def service_paths() -> dict[str, Any]:
    """The paths of the probes, the metrics, this document, the page and the widget (a fresh
    dict each call)."""
    return {
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
                "version ships and takes writes (after a write failed, each call tries "
                "one), every catalog is loaded, Telegram is connected when "
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
                    "404": error_response("CASEBOT_METRICS_TOKEN is not set (metrics_disabled)."),
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
        "/unsubscribe": {
            "get": {
                "operationId": "unsubscribePage",
                "summary": "The unsubscribe link of an email: a page with one button",
                "description": "A small page in the person's language (no script, nothing "
                "loaded from elsewhere, never cached, no referrer) asking to stop the updates, "
                "with a button that posts the one-click form. Opening it changes nothing.",
                "parameters": [_TOKEN_PARAMETER],
                "responses": {
                    "200": _page("The question and the button."),
                    "404": _page("A forged or mistyped link; nothing was changed."),
                    "410": _page("The updates are off already."),
                },
            },
            "post": {
                "operationId": "unsubscribe",
                "summary": "One-click unsubscribe (RFC 8058)",
                "description": "What a mail client sends for ``List-Unsubscribe-Post: "
                "List-Unsubscribe=One-Click``, and the page's button: every update to that "
                "email address (or number) stops. The token comes in the query (the link "
                "itself) or in the form's ``t``. A forged or used token changes nothing.",
                "parameters": [_TOKEN_PARAMETER],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "required": ["List-Unsubscribe"],
                                "properties": {
                                    "List-Unsubscribe": {"const": "One-Click"},
                                    "t": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _page("Done: no more updates go to that address."),
                    "400": _page("No token, or not the one-click form; nothing was changed."),
                    "404": _page("A forged or mistyped token; nothing was changed."),
                    "410": _page("The token was used already; the updates are off."),
                    "413": _page("The form is too large; nothing was changed."),
                },
            },
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
    }
