"""The web chat HTTP API (``/api/chat/...``), its error answers, CORS and metrics.

Every refusal is a 4xx with ``{"error": {"code", "message"}}``; the database out of reach is a
503 ``unavailable`` with ``Retry-After`` (``core.outage``); any other unexpected exception is
logged and answered with a 500 of the same shape (a bug, never a reaction to input).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.channels.web.chat import WebChatHub
from bot.channels.web.client_address import client_key
from bot.channels.web.json_budget import JsonRefused, parse_json
from bot.engine import MAX_TEXT_LENGTH
from core.errors import RateLimited
from core.outage import RETRY_AFTER_SECONDS, is_database_unavailable
from core.web_sessions import WebSessionExpired, WebSessionNotFound, WebSessionUnauthorized

__all__ = ["HUB_KEY", "METRICS_TOKEN_KEY", "add_chat_routes", "error_middleware", "json_error"]

logger = logging.getLogger(__name__)

HUB_KEY: Final = web.AppKey("webchat_hub", WebChatHub)
# The bearer token /metrics asks for (CASEBOT_METRICS_TOKEN); None turns /metrics off.
METRICS_TOKEN_KEY: Final = web.AppKey("metrics_token", str)
MAX_PAYLOAD_LENGTH: Final = 200
_ID: Final = re.compile(r"[0-9a-f]{32}")
_LOCALE: Final = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8}){0,3}")
_LOCAL_HOSTS: Final = ("localhost", "127.0.0.1")
# The idempotency key of a message: the header the widget sends, letters, digits and -_.:
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 64
_IDEMPOTENCY_KEY: Final = re.compile(r"[A-Za-z0-9_.:-]{1,64}")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """A refusal to answer as JSON."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def json_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


_HTTP_CODES: Final = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer every refusal as a JSON error, count it, and add the CORS headers."""
    hub = request.app.get(HUB_KEY)
    origin = request.headers.get("Origin")
    allowed = origin is None or _origin_allowed(request, origin)
    try:
        if not allowed and request.path.startswith("/api/"):
            raise ApiError(403, "origin_not_allowed", "This origin may not use the chat API.")
        if request.method == "OPTIONS" and origin is not None:
            response: web.StreamResponse = web.Response(status=204)
            response.headers.update(
                {
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
                    "Access-Control-Max-Age": "600",
                }
            )
        else:
            response = await handler(request)
    except ApiError as exc:
        response = json_error(exc.status, exc.code, exc.message, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status, "http_error")
        headers = {k: v for k, v in exc.headers.items() if k.lower() != "content-type"}
        response = json_error(exc.status, code, exc.reason, headers)
    except Exception as exc:
        if is_database_unavailable(exc):
            # An outage, not a bug: 503 and when to try again (a Telegram webhook update is
            # delivered again by Telegram; the widget tells the person to try later).
            logger.warning("database unavailable on %s %s", request.method, request.path)
            response = json_error(
                503,
                "unavailable",
                "The service is unavailable for a moment; please try again shortly.",
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        else:
            logger.exception("unexpected error on %s %s", request.method, request.path)
            response = json_error(500, "internal_error", "Something went wrong on our side.")
    if response.status >= 400 and hub is not None:
        code = "error"
        if isinstance(response, web.Response) and response.body is not None:
            code = _code_of(response)
        hub.metrics.errors.labels(code=code).inc()
    if origin is not None and allowed and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    if not response.prepared:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def _code_of(response: web.Response) -> str:
    try:
        body = json.loads(bytes(response.body))  # type: ignore[arg-type]
        return str(body["error"]["code"])
    except (ValueError, TypeError, KeyError):
        return "error"


def _origin_allowed(request: web.Request, origin: str) -> bool:
    origin = origin.lower().rstrip("/")
    if origin == f"{request.scheme}://{request.host}".lower():
        return True
    hub = request.app.get(HUB_KEY)
    configured = hub.config.origins if hub is not None else None
    if configured is None:
        parts = urlsplit(origin)
        return parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS
    return "*" in configured or origin in configured


# --- helpers -------------------------------------------------------------------------------


def _session_id(request: web.Request) -> str:
    session_id = request.match_info["session_id"]
    if not _ID.fullmatch(session_id):
        raise ApiError(404, "session_not_found", "There is no such chat session.")
    return session_id


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


async def _authenticate(
    request: web.Request, session_id: str, token: str | None, *, count: bool = False
) -> str | None:
    with _session_errors():
        locale = await request.app[HUB_KEY].authenticate(session_id, token, count=count)
    return locale


@contextmanager
def _session_errors() -> Iterator[None]:
    """The session's refusals as API errors: 404, 401 (with its challenge), 429."""
    unauthorized = {"WWW-Authenticate": 'Bearer realm="casebot"'}
    try:
        yield
    except WebSessionNotFound:
        raise ApiError(404, "session_not_found", "There is no such chat session.") from None
    except WebSessionUnauthorized:
        raise ApiError(
            401, "unauthorized", "A valid session token is required.", unauthorized
        ) from None
    except WebSessionExpired:
        raise ApiError(
            401, "session_expired", "This chat session has expired; start a new one.", unauthorized
        ) from None
    except RateLimited as exc:
        raise _rate_limited(exc, "Too many messages; wait a little.") from None


def _rate_limited(refusal: RateLimited, message: str) -> ApiError:
    return ApiError(429, "rate_limited", message, {"Retry-After": str(refusal.retry_after_seconds)})


async def _json_body(request: web.Request) -> dict[str, Any]:
    hub = request.app[HUB_KEY]
    if (request.content_length or 0) > hub.config.max_body_bytes:
        raise ApiError(413, "body_too_large", "The request body is too large.")
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = parse_json(raw, max_bytes=hub.config.max_body_bytes)
    except JsonRefused as refused:
        if refused.reason == "too_large":
            raise ApiError(413, "body_too_large", "The request body is too large.") from None
        raise ApiError(400, "bad_json", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return body


def _clean_string(body: dict[str, Any], name: str, max_length: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, "bad_request", f"{name!r} must be a string.")
    if len(value) > max_length:
        raise ApiError(400, "too_long", f"{name!r} is longer than {max_length} characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(400, "bad_request", f"{name!r} is not valid Unicode text.") from None
    if "\x00" in value:
        raise ApiError(400, "bad_request", f"{name!r} may not contain NUL characters.")
    return value


# --- handlers ------------------------------------------------------------------------------


async def create_session(request: web.Request) -> web.Response:
    body = await _json_body(request)
    locale = _clean_string(body, "locale", 16)
    if locale is not None and not _LOCALE.fullmatch(locale):
        raise ApiError(
            400, "bad_locale", "'locale' must be a language tag such as 'es' or 'zh-CN'."
        )
    hub = request.app[HUB_KEY]
    client = client_key(
        request.remote, request.headers.get("X-Forwarded-For"), hub.config.trusted_proxies
    )
    try:
        session_id, token = await hub.open_session(locale, client=client)
    except RateLimited as exc:
        message = "Too many new chat sessions from this address; wait a little."
        raise _rate_limited(exc, message) from None
    return web.json_response({"session_id": session_id, "token": token}, status=201)


async def post_message(request: web.Request) -> web.Response:
    session_id = _session_id(request)
    token = _bearer(request)
    body = await _json_body(request)
    text = _clean_string(body, "text", MAX_TEXT_LENGTH)
    payload = _clean_string(body, "payload", MAX_PAYLOAD_LENGTH)
    if (text is None) == (payload is None):
        raise ApiError(400, "bad_request", "Send exactly one of 'text' and 'payload'.")
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(
            400,
            "bad_idempotency_key",
            f"'{IDEMPOTENCY_HEADER}' must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} letters, digits "
            "or '-_.:'.",
        )
    hub = request.app[HUB_KEY]
    # The client's address keys its budget of password checks across all its sessions.
    client = client_key(
        request.remote, request.headers.get("X-Forwarded-For"), hub.config.trusted_proxies
    )
    with _session_errors():
        replies = await hub.send(
            session_id,
            token,
            text=text,
            payload=payload,
            headers=request.headers,
            client=client,
            key=key,
        )
    assert token is not None  # authenticated
    return web.json_response({"replies": [r.to_json(session_id, token) for r in replies]})


async def get_messages(request: web.Request) -> web.Response:
    session_id = _session_id(request)
    raw_after = request.query.get("after", "0")
    if not raw_after.isascii() or not raw_after.isdigit() or len(raw_after) > 18:
        raise ApiError(400, "bad_request", "'after' must be a message id (a whole number).")
    token = _bearer(request)
    await _authenticate(request, session_id, token)
    assert token is not None
    messages = await request.app[HUB_KEY].transcript(session_id, int(raw_after))
    return web.json_response({"messages": [m.to_json(session_id, token) for m in messages]})


async def get_attachment(request: web.Request) -> web.Response:
    session_id = _session_id(request)
    token = request.query.get("token") or _bearer(request)
    await _authenticate(request, session_id, token)
    attachment_id = request.match_info["attachment_id"]
    found = None
    if _ID.fullmatch(attachment_id):
        found = await request.app[HUB_KEY].attachment(session_id, attachment_id)
    if found is None:
        raise ApiError(404, "attachment_not_found", "There is no such file in this session.")
    name, content_type, data = found
    safe_name = re.sub(r"[^A-Za-z0-9._-]", "_", name) or "file"
    return web.Response(
        body=data,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{safe_name}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


async def websocket(request: web.Request) -> web.StreamResponse:
    session_id = _session_id(request)
    token = request.query.get("token")
    await _authenticate(request, session_id, token)
    assert token is not None
    ws = web.WebSocketResponse(heartbeat=30)
    if not ws.can_prepare(request).ok:
        raise ApiError(400, "websocket_expected", "This address speaks WebSocket only.")
    await ws.prepare(request)
    hub = request.app[HUB_KEY]
    hub.connect(session_id, ws, token)
    try:
        async for message in ws:  # the socket only delivers; what the page sends is ignored
            if message.type == WSMsgType.ERROR:
                break
    finally:
        hub.disconnect(session_id, ws)
    return ws


def _sha256(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).digest()


def _check_metrics_token(request: web.Request) -> None:
    expected = request.app.get(METRICS_TOKEN_KEY)
    if expected is None:
        raise ApiError(
            404, "metrics_disabled", "/metrics is off: set CASEBOT_METRICS_TOKEN to turn it on."
        )
    given = _bearer(request) or ""
    # Digests of equal length, compared in constant time, a missing token included.
    if not (hmac.compare_digest(_sha256(given), _sha256(expected)) and given):
        raise ApiError(
            401,
            "unauthorized",
            "A valid metrics token is required: Authorization: Bearer <token>.",
            {"WWW-Authenticate": 'Bearer realm="casebot-metrics"'},
        )


async def metrics(request: web.Request) -> web.Response:
    _check_metrics_token(request)
    body = generate_latest(request.app[HUB_KEY].metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _close_sockets(app: web.Application) -> None:
    await app[HUB_KEY].close_sockets()


async def web_chat(app: web.Application) -> AsyncIterator[None]:
    """The web chat, as an aiohttp ``cleanup_ctx`` entry: nothing to start; at the stop, the
    turns still running end (a turn outlives a request cancelled at shutdown), before what
    was started earlier, such as the database, stops."""
    yield
    await app[HUB_KEY].finish_turns()


def add_chat_routes(
    app: web.Application, hub: WebChatHub, metrics_token: str | None = None
) -> None:
    """Mount the chat API and /metrics on ``app`` (its middleware comes from ``create_web_app``);
    /metrics answers only ``Authorization: Bearer <metrics_token>``, and 404 when it is None.

    At shutdown (``on_shutdown``, before the server waits for its requests and before any
    ``cleanup_ctx`` entry stops) every WebSocket is told to reconnect; then :func:`web_chat`,
    appended to ``cleanup_ctx`` here, lets the running turns end when its turn to stop comes.
    """
    app[HUB_KEY] = hub
    if metrics_token is not None:
        app[METRICS_TOKEN_KEY] = metrics_token
    prefix = "/api/chat/sessions"
    app.router.add_post(prefix, create_session)
    app.router.add_post(prefix + "/{session_id}/messages", post_message)
    app.router.add_get(prefix + "/{session_id}/messages", get_messages, allow_head=False)
    app.router.add_get(
        prefix + "/{session_id}/attachments/{attachment_id}", get_attachment, allow_head=False
    )
    app.router.add_get(prefix + "/{session_id}/ws", websocket, allow_head=False)
    app.router.add_get("/metrics", metrics, allow_head=False)
    app.on_shutdown.append(_close_sockets)
    app.cleanup_ctx.append(web_chat)
