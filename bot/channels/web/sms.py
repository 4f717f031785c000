"""Twilio's requests to casebot: delivery statuses and inbound texts (STOP, START, HELP).

``POST /api/sms/status`` is the ``StatusCallback`` of every text casebot sends: Twilio posts
the message's status (``sent``, ``delivered``, ``undelivered``, ``failed``) and casebot keeps it
(``core.sms.service.record_status``). ``POST /api/sms/inbound`` is the messaging webhook of the
sending number: a text that is a stop word (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT) ends
every text to that number at once (pending ones are parked) and is confirmed once; START or
UNSTOP turns texts on again; HELP or INFO answers with what casebot is and how to stop. The
answer is TwiML (``<Response><Message>...</Message></Response>``): Twilio sends the reply.

Both check ``X-Twilio-Signature`` against the auth token (403 when it is missing or wrong),
take only a form body of at most ``MAX_FORM`` bytes, and answer bad input with a 4xx JSON
error, never a 5xx.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from aiohttp import web

from bot.app import App
from bot.channels.web.api import ApiError
from bot.settings import SmsSettings
from bot.sms.twilio import SIGNATURE_HEADER, signature_ok
from bot.wording.i18n import DEFAULT_LOCALE, LOCALES, N_, translator
from core.sms.service import (
    FINAL_STATUSES,
    STATUSES,
    Keyword,
    keyword_of,
    number_locale,
    opt_in,
    opt_out,
    record_status,
)

__all__ = ["INBOUND_PATH", "MAX_FORM", "STATUS_PATH", "add_sms_routes"]

STATUS_PATH: Final = "/api/sms/status"
INBOUND_PATH: Final = "/api/sms/inbound"
MAX_FORM: Final = 8 * 1024
MAX_BODY: Final = 1600  # Twilio's longest text
FORM_TYPE: Final = "application/x-www-form-urlencoded"
TWIML_TYPE: Final = "text/xml"
_SID: Final = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}")
_NUMBER: Final = re.compile(r"\+[1-9]\d{6,14}")

STOPPED: Final = N_("You will get no more texts from casebot. Reply START to get them again.")
STARTED: Final = N_("Texts from casebot are on again. Reply STOP to stop.")
HELP: Final = N_(
    "casebot: updates on your US immigration case. Reply STOP to stop texts, START to get "
    "them again."
)

SMS_SETTINGS: Final = web.AppKey("sms_settings", SmsSettings)
SMS_APP: Final = web.AppKey("sms_app", App)


async def _signed_form(request: web.Request) -> dict[str, str]:
    """The request's form parameters, once its size, type and Twilio signature are checked.

    Raises:
        ApiError: 413, 415, 400 or 403.
    """
    if request.content_length is not None and request.content_length > MAX_FORM:
        raise ApiError(413, "body_too_large", f"The form may be at most {MAX_FORM} bytes.")
    if request.content_type != FORM_TYPE:
        raise ApiError(415, "unsupported_media_type", f"Send {FORM_TYPE}.")
    raw = await request.read()  # bounded by the server's client_max_size too
    if len(raw) > MAX_FORM:
        raise ApiError(413, "body_too_large", f"The form may be at most {MAX_FORM} bytes.")
    try:
        pairs = parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "bad_request", "The form is not valid UTF-8.") from None
    settings = request.app[SMS_SETTINGS]
    url = (
        settings.callback_url + request.path_qs
        if settings.callback_url is not None
        else str(request.url)
    )
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not given or not signature_ok(settings.token, url, pairs, given):
        raise ApiError(403, "bad_signature", "The request is not signed by the SMS provider.")
    form: dict[str, str] = {}
    for name, value in pairs:
        form.setdefault(name, value)
    return form


def _field(form: dict[str, str], name: str, pattern: re.Pattern[str]) -> str:
    value = form.get(name, "")
    if not pattern.fullmatch(value):
        raise ApiError(400, "bad_request", f"{name} is missing or malformed.")
    return value


async def status_callback(request: web.Request) -> web.Response:
    form = await _signed_form(request)
    sid = _field(form, "MessageSid", _SID)
    number = _field(form, "To", _NUMBER)
    status = form.get("MessageStatus", "")
    if status not in STATUSES and status not in FINAL_STATUSES:
        raise ApiError(400, "bad_request", "MessageStatus is not a message status.")
    raw_code = form.get("ErrorCode", "")
    if raw_code and not (raw_code.isdigit() and len(raw_code) <= 9):
        raise ApiError(400, "bad_request", "ErrorCode is not a number.")
    app = request.app[SMS_APP]
    async with app.uow_factory() as uow:
        await record_status(
            uow,
            sid,
            number=number,
            status=status,
            error_code=int(raw_code) if raw_code else None,
            now=app.clock.now(),
        )
        await uow.commit()
    return web.Response(status=204)


def _twiml(message: str | None) -> web.Response:
    inner = f"<Message>{escape(message)}</Message>" if message is not None else ""
    text = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
    return web.Response(text=text, content_type=TWIML_TYPE)


async def inbound(request: web.Request) -> web.Response:
    form = await _signed_form(request)
    number = _field(form, "From", _NUMBER)
    body = form.get("Body", "")
    if len(body) > MAX_BODY:
        raise ApiError(400, "bad_request", f"Body may be at most {MAX_BODY} characters.")
    keyword = keyword_of(body)
    if keyword is None:
        return _twiml(None)
    app = request.app[SMS_APP]
    async with app.uow_factory() as uow:
        if keyword is Keyword.STOP:
            done = await opt_out(uow, number, keyword=body.strip().upper(), now=app.clock.now())
            locale, answer = done.locale, STOPPED if done.new else None
        else:
            locale = await number_locale(uow, number)
            if keyword is Keyword.START:
                await opt_in(uow, number)
            answer = STARTED if keyword is Keyword.START else HELP
        await uow.commit()
    if answer is None:
        return _twiml(None)  # stopped already: confirmed once
    t = translator(locale if locale in LOCALES else DEFAULT_LOCALE)
    return _twiml(t._(answer))


def add_sms_routes(web_app: web.Application, app: App, settings: SmsSettings) -> None:
    """Mount the status callback and the inbound webhook (when text messages are set up)."""
    web_app[SMS_SETTINGS] = settings
    web_app[SMS_APP] = app
    web_app.router.add_post(STATUS_PATH, status_callback)
    web_app.router.add_post(INBOUND_PATH, inbound)
