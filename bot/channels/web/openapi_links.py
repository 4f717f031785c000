"""The OpenAPI links of the published document: which answer's values the next request takes.

A client (and schemathesis's stateful run) follows them: a new chat session's ``session_id``
and ``token`` open its messages, transcript and WebSocket; a new office's ``code`` is the one
its settings, hours, capacity, closures and appointment listing take; a closed day is the one
to reopen. The bearer tokens are security schemes, not parameters, so links cannot carry
them: the chat's is sent as ``Authorization`` by whoever created the session.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = ["add_links"]

_SESSION: Final = {"session_id": "$response.body#/session_id"}
_SAME_SESSION: Final = {"session_id": "$request.path.session_id"}
_NEW_OFFICE: Final = {"code": "$response.body#/code"}
_SAME_OFFICE: Final = {"code": "$request.path.code"}

# (path, method, status): {link name: (operationId, parameters, description)}
_LINKS: Final[dict[tuple[str, str, str], dict[str, tuple[str, dict[str, str], str]]]] = {
    ("/api/chat/sessions", "post", "201"): {
        "SendMessage": ("sendMessage", _SESSION, "Send the first message of the session."),
        "ListMessages": ("listMessages", _SESSION, "Read the session's transcript."),
        "OpenWebSocket": (
            "openWebSocket",
            {**_SESSION, "token": "$response.body#/token"},
            "Open the session's push socket (the token in the query).",
        ),
    },
    ("/api/chat/sessions/{session_id}/messages", "post", "200"): {
        "SendAnother": ("sendMessage", _SAME_SESSION, "Go on with the conversation."),
        "ListMessages": ("listMessages", _SAME_SESSION, "Read the transcript so far."),
    },
    ("/api/admin/offices", "post", "201"): {
        "UpdateOffice": ("adminUpdateOffice", _NEW_OFFICE, "Change the new office."),
        "SetOfficeHours": ("adminSetOfficeHours", _NEW_OFFICE, "Set its weekly hours."),
        "SetOfficeCapacity": ("adminSetOfficeCapacity", _NEW_OFFICE, "Set its capacity."),
        "CloseOfficeDay": ("adminCloseOfficeDay", _NEW_OFFICE, "Close one of its days."),
        "ListAppointments": (
            "adminListAppointments",
            {"office": "$response.body#/code"},
            "Its appointments.",
        ),
    },
    ("/api/admin/offices/{code}", "patch", "200"): {
        "SetOfficeHours": ("adminSetOfficeHours", _SAME_OFFICE, "Then its hours."),
        "CloseOfficeDay": ("adminCloseOfficeDay", _SAME_OFFICE, "Then close a day."),
    },
    ("/api/admin/offices/{code}/closures/{day}", "put", "200"): {
        "ReopenOfficeDay": (
            "adminReopenOfficeDay",
            {"code": "$request.path.code", "day": "$request.path.day"},
            "Open the same day again.",
        ),
        "ListAppointments": (
            "adminListAppointments",
            {"office": "$request.path.code", "from": "$request.path.day"},
            "What is left of that day and after.",
        ),
    },
}


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Add the links to the responses of ``document`` (the chat and admin paths in it)."""
    paths = document["paths"]
    for (path, method, status), links in _LINKS.items():
        response = paths[path][method]["responses"][status]
        response["links"] = {
            name: {"operationId": target, "parameters": dict(parameters), "description": text}
            for name, (target, parameters, text) in links.items()
        }
    return document
