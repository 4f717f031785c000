"""The agent console's HTTP API (``/api/console/...``) and its page (``/console``).

Staff set up their account with the one-time code an operator gave them, sign in with email,
password and authenticator code, and get a bearer token of their own kind: the chat API never
accepts it, and this API never accepts a chat token (each looks in its own table).

It gets the chat API's treatment: bodies of at most 8 KiB read within a nesting budget, rate
limits in the shared ``rate_limits`` table (per client address, tighter for the password and
code checks, and per staff member), and every refusal a 4xx ``{"error": {"code", "message"}}``
(``bot.channels.web.api.error_middleware``). The page loads nothing from elsewhere and runs
under a Content-Security-Policy that allows only its own script.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final

from aiohttp import web

from bot.channels.web.api import ApiError
from bot.channels.web.client_address import Network, client_key
from bot.channels.web.json_budget import JsonRefused, parse_json
from bot.dialogs.accounts.qr import qr_png
from core import ratelimit
from core.accounts.password_budget import (
    DEFAULT_CHECKS_PER_SECOND,
    PasswordBudget,
    client_requester,
    spend_password_check,
)
from core.accounts.policy import MAX_PASSWORD_LENGTH
from core.errors import (
    AccountLocked,
    CodeReused,
    InvalidCode,
    InvalidCredentials,
    RateLimited,
    WeakPassword,
)
from core.staff.accounts import StaffView, begin_setup, confirm_setup
from core.staff.errors import (
    SetupCodeInvalid,
    SetupNotStarted,
    StaffSessionExpired,
    StaffUnauthorized,
)
from core.staff.hours import AgentHours, is_open, next_opening
from core.staff.sessions import (
    authenticate_staff,
    set_availability,
    sign_in_staff,
    sign_out_staff,
)
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "CONSOLE_CSP",
    "CONSOLE_KEY",
    "Console",
    "ConsoleConfig",
    "add_console_routes",
]

MAX_FIELD_LENGTH: Final = 254
# The page's policy: its own script and style, its own API, nothing inline, no frames.
CONSOLE_CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_UNAUTHORIZED: Final = {"WWW-Authenticate": 'Bearer realm="casebot-console"'}


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """The console API's limits.

    Attributes:
        max_body_bytes: the largest request body.
        rate_window: the window of the limits below.
        checks_per_client: sign-ins and set-up steps (password and code checks) one client
            address may try per window.
        requests_per_client: console requests one client address may send per window.
        requests_per_staff: requests one signed-in staff member may send per window.
        trusted_proxies: reverse proxies whose ``X-Forwarded-For`` names the client.
        password_checks_per_second: the service's budget of password checks, shared with the
            chat's sign-ins (``core.accounts.password_budget``); None: no service-wide rate.
    """

    max_body_bytes: int = 8 * 1024
    rate_window: timedelta = timedelta(minutes=1)
    checks_per_client: int = 10
    requests_per_client: int = 300
    requests_per_staff: int = 300
    trusted_proxies: tuple[Network, ...] = ()
    password_checks_per_second: int | None = DEFAULT_CHECKS_PER_SECOND


@dataclass
class Console:
    """What the console's handlers need: the database, the agents' hours, the limits."""

    uow_factory: UnitOfWorkFactory
    hours: AgentHours
    config: ConsoleConfig = field(default_factory=ConsoleConfig)


CONSOLE_KEY: Final = web.AppKey("console", Console)


# --- helpers -------------------------------------------------------------------------------


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE_KEY]


def _client(request: web.Request) -> str | None:
    return client_key(
        request.remote,
        request.headers.get("X-Forwarded-For"),
        _console(request).config.trusted_proxies,
    )


def _bearer(request: web.Request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _rate_limited(refusal: RateLimited) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        "Too many requests; wait a little.",
        {"Retry-After": str(refusal.retry_after_seconds)},
    )


async def _count(
    request: web.Request, uow: UnitOfWork, *, checks: bool = False, password: bool = True
) -> None:
    """Count the request against the client's limits; with ``checks`` (a password or code to
    check), the tighter one of checks too, and, with ``password`` as well, one password check
    from the budget the chat's sign-ins share (``core.accounts.password_budget``: per address,
    and the service's rate). A refused request counts too: the caller commits.

    Raises:
        RateLimited: over a limit (``PasswordChecksBusy``: the service's rate).
    """
    client = _client(request)
    config = _console(request).config
    if client is not None:
        limits = [(f"console:{client}", config.requests_per_client, config.rate_window)]
        if checks:
            limits.append(
                (f"console_checks:{client}", config.checks_per_client, config.rate_window)
            )
        await ratelimit.hit_all(uow, limits)
    if checks and password:
        requesters = () if client is None else (client_requester(client),)
        budget = PasswordBudget(config.password_checks_per_second, requesters)
        await spend_password_check(uow, budget)


async def _spend(request: web.Request, *, checks: bool = False) -> None:
    """Count the request in a unit of work of its own, before the slow checks (Argon2).

    Raises:
        ApiError: 429, over a limit.
    """
    async with _console(request).uow_factory() as uow:
        try:
            await _count(request, uow, checks=checks)
        except RateLimited as exc:
            await uow.commit()
            raise _rate_limited(exc) from None
        await uow.commit()


async def _body(request: web.Request) -> dict[str, Any]:
    limit = _console(request).config.max_body_bytes
    if (request.content_length or 0) > limit:
        raise ApiError(413, "body_too_large", "The request body is too large.")
    raw = await request.read()
    try:
        body = parse_json(raw, max_bytes=limit) if raw.strip() else {}
    except JsonRefused as refused:
        if refused.reason == "too_large":
            raise ApiError(413, "body_too_large", "The request body is too large.") from None
        raise ApiError(400, "bad_json", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return body


def _text(body: dict[str, Any], name: str, max_length: int = MAX_FIELD_LENGTH) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, "bad_request", f"{name!r} must be a non-empty string.")
    if len(value) > max_length:
        raise ApiError(400, "too_long", f"{name!r} is longer than {max_length} characters.")
    if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ApiError(400, "bad_request", f"{name!r} is not valid text.")
    return value


@contextmanager
def _auth_errors() -> Iterator[None]:
    try:
        yield
    except StaffUnauthorized:
        raise ApiError(
            401, "unauthorized", "A valid console token is required.", _UNAUTHORIZED
        ) from None
    except StaffSessionExpired:
        raise ApiError(
            401, "session_expired", "This console session has ended; sign in again.", _UNAUTHORIZED
        ) from None


async def _signed_in(request: web.Request, uow: UnitOfWork) -> StaffView:
    """The staff member of the request's token, counted against their rate (the caller
    commits, a refused request included)."""
    with _auth_errors():
        staff = await authenticate_staff(uow, _bearer(request))
    config = _console(request).config
    client = _client(request)
    limits = [(f"console_staff:{staff.id}", config.requests_per_staff, config.rate_window)]
    if client is not None:
        limits.append((f"console:{client}", config.requests_per_client, config.rate_window))
    try:
        await ratelimit.hit_all(uow, limits)
    except RateLimited as exc:
        await uow.commit()
        raise _rate_limited(exc) from None
    return staff


def _me(request: web.Request, staff: StaffView) -> dict[str, Any]:
    console = _console(request)
    now = console.uow_factory.clock.now()
    return {
        "id": staff.id,
        "email": staff.email,
        "display_name": staff.display_name,
        "languages": list(staff.languages),
        "role": staff.role.value,
        "available": staff.available,
        "hours": {
            "open": is_open(console.hours, now),
            "next_opening": next_opening(console.hours, now).isoformat(),
            "time_zone": console.hours.zone,
        },
    }


_WEAK: Final = {
    "too_short": "The password is too short: use at least 8 characters (a few words).",
    "too_long": f"The password is longer than {MAX_PASSWORD_LENGTH} characters.",
    "common": "The password is too common; choose another.",
    "contains_email": "The password may not contain your email address.",
    "repetitive": "The password repeats itself too much; choose another.",
}


# --- handlers ------------------------------------------------------------------------------


async def setup(request: web.Request) -> web.Response:
    body = await _body(request)
    code = _text(body, "code", 100)
    password = _text(body, "password", 4 * MAX_PASSWORD_LENGTH)
    await _spend(request, checks=True)
    try:
        started = await begin_setup(_console(request).uow_factory, code, password)
    except SetupCodeInvalid:
        raise ApiError(
            400,
            "setup_code_invalid",
            "This set-up link is not valid (used, expired or mistyped): ask for a new one.",
        ) from None
    except WeakPassword as weak:
        raise ApiError(400, "weak_password", _WEAK.get(weak.reason, "Choose another.")) from None
    qr = "data:image/png;base64," + base64.b64encode(qr_png(started.uri)).decode("ascii")
    return web.json_response(
        {
            "email": started.email,
            "secret": started.secret,
            "otpauth_uri": started.uri,
            "qr_png": qr,
        },
        headers={"Cache-Control": "no-store"},
    )


async def setup_confirm(request: web.Request) -> web.Response:
    body = await _body(request)
    code = _text(body, "code", 100)
    totp = _text(body, "totp", 20)
    refusal: ApiError | None = None
    console = _console(request)
    async with console.uow_factory() as uow:
        try:
            await _count(request, uow, checks=True, password=False)  # no Argon2 here
            staff = await confirm_setup(uow, code, totp)
        except RateLimited as exc:
            refusal = _rate_limited(exc)
        except SetupCodeInvalid:
            refusal = ApiError(
                400, "setup_code_invalid", "This set-up link is not valid: ask for a new one."
            )
        except SetupNotStarted:
            refusal = ApiError(409, "setup_not_started", "Choose a password first.")
        except AccountLocked as locked:
            refusal = _locked(console, locked)
        except (InvalidCode, CodeReused):
            refusal = ApiError(
                400, "invalid_code", "That code is not right: type the one the app shows now."
            )
        await uow.commit()  # a refused attempt counts too
    if refusal is not None:
        raise refusal
    return web.json_response({"email": staff.email, "display_name": staff.display_name})


def _locked(console: Console, locked: AccountLocked) -> ApiError:
    wait = max(1, int((locked.until - console.uow_factory.clock.now()).total_seconds()))
    return ApiError(
        401,
        "account_locked",
        "Too many failed attempts: this account is locked for a while.",
        {**_UNAUTHORIZED, "Retry-After": str(wait)},
    )


async def create_session(request: web.Request) -> web.Response:
    body = await _body(request)
    email = _text(body, "email")
    password = _text(body, "password", 4 * MAX_PASSWORD_LENGTH)
    code = _text(body, "code", 20)
    await _spend(request, checks=True)
    console = _console(request)
    try:
        signed_in = await sign_in_staff(console.uow_factory, email, password, code)
    except InvalidCredentials:
        raise ApiError(
            401,
            "invalid_credentials",
            "The email, password or authenticator code is not right.",
            _UNAUTHORIZED,
        ) from None
    except AccountLocked as locked:
        raise _locked(console, locked) from None
    return web.json_response(
        {"token": signed_in.token}, status=201, headers={"Cache-Control": "no-store"}
    )


async def delete_session(request: web.Request) -> web.Response:
    console = _console(request)
    async with console.uow_factory() as uow:
        await _signed_in(request, uow)
        token = _bearer(request)
        assert token is not None  # authenticated
        await sign_out_staff(uow, token)
        await uow.commit()
    return web.Response(status=204)


async def get_me(request: web.Request) -> web.Response:
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        await uow.commit()
    return web.json_response(_me(request, staff))


async def post_availability(request: web.Request) -> web.Response:
    body = await _body(request)
    available = body.get("available")
    if not isinstance(available, bool):
        raise ApiError(400, "bad_request", "'available' must be true or false.")
    async with _console(request).uow_factory() as uow:
        staff = await _signed_in(request, uow)
        with _auth_errors():
            staff = await set_availability(uow, staff.id, available)
        await uow.commit()
    return web.json_response(_me(request, staff))


def add_console_routes(app: web.Application, console: Console) -> None:
    """Mount the console API on ``app`` (the page is mounted with the other static files)."""
    app[CONSOLE_KEY] = console
    prefix = "/api/console"
    app.router.add_post(prefix + "/setup", setup)
    app.router.add_post(prefix + "/setup/confirm", setup_confirm)
    app.router.add_post(prefix + "/sessions", create_session)
    app.router.add_delete(prefix + "/sessions/current", delete_session)
    app.router.add_get(prefix + "/me", get_me, allow_head=False)
    app.router.add_post(prefix + "/me/availability", post_availability)
