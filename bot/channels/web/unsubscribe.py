"""The unsubscribe page of emails (RFC 8058 one-click), which works without the chat.

- ``GET /unsubscribe?t=TOKEN``: a small page in the person's language with one button (a mail
  reader's link preview or a security scanner that follows links turns nothing off);
- ``POST /unsubscribe?t=TOKEN`` with the form ``List-Unsubscribe=One-Click`` (what a mail
  client sends on its own "Unsubscribe" button, RFC 8058 section 3.1; the page's button posts
  the same form, the token in a hidden field or in the query): every update to that contact
  point stops.

A forged or mistyped token answers 404 and a page saying nothing was changed; a token used
already answers 410 and says the updates are off. Neither ever changes anything, and nothing
here answers 5xx for what a client sends. The page loads nothing from elsewhere (inline style
only, ``Content-Security-Policy: default-src 'none'``), is never cached, and sends no referrer
(the token is in its address). The token is never logged: the access log writes the path alone.
"""

from __future__ import annotations

import html
from typing import Final

from aiohttp import web

from bot.app import App
from bot.wording.i18n import DEFAULT_LOCALE, LOCALES, Translator, normalize_locale, translator
from core.contacts.service import ContactView, contact_by_token, unsubscribe
from core.errors import UnsubscribeLinkInvalid

__all__ = ["ONE_CLICK", "add_unsubscribe_routes"]

ONE_CLICK: Final = "One-Click"  # the value of the List-Unsubscribe form field (RFC 8058)
_MAX_FORM: Final = 4096
_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_STYLE: Final = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1b1b1b}button{font-size:1.1rem;padding:.6rem 1.2rem;"
    "border-radius:.4rem;border:1px solid #1a4480;background:#1a4480;color:#fff}"
)


def _page(t: Translator, status: int, text: str, *, form_token: str | None = None) -> web.Response:
    direction = "rtl" if t.locale == "ar" else "ltr"
    form = ""
    if form_token is not None:
        form = (
            '<form method="post" action="/unsubscribe">'
            f'<input type="hidden" name="t" value="{html.escape(form_token)}">'
            f'<input type="hidden" name="List-Unsubscribe" value="{ONE_CLICK}">'
            f'<button type="submit">{html.escape(t._("Stop updates"))}</button></form>'
        )
    title = html.escape(t._("Email and text updates"))
    body = (
        f'<!doctype html><html lang="{t.locale}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{title}</h1><p>{html.escape(text)}</p>{form}</body></html>"
    )
    return web.Response(
        text=body, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
    )


def _translator_for(request: web.Request, contact: ContactView | None) -> Translator:
    if contact is not None and contact.locale in LOCALES:
        return translator(contact.locale)
    first = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0].strip()
    return translator(normalize_locale(first[:16]) or DEFAULT_LOCALE)


def add_unsubscribe_routes(web_app: web.Application, app: App) -> None:
    """Mount ``GET`` and ``POST /unsubscribe``."""

    async def show(request: web.Request) -> web.Response:
        token = request.query.get("t", "")
        async with app.uow_factory() as uow:
            contact = await contact_by_token(uow, token)
        t = _translator_for(request, contact)
        if contact is None:
            return _page(t, 404, t._("This link is not valid. Nothing was changed."))
        if contact.stopped:
            return _page(t, 410, t._("These updates are already turned off."))
        question = t._("Stop all updates sent to {address}?").format(address=contact.masked)
        return _page(t, 200, question, form_token=token)

    async def stop(request: web.Request) -> web.Response:
        t = _translator_for(request, None)
        if request.content_length is not None and request.content_length > _MAX_FORM:
            return _page(t, 413, t._("This link is not valid. Nothing was changed."))
        try:
            form = await request.post()
        except (ValueError, UnicodeDecodeError):
            form = {}  # type: ignore[assignment]
        token = request.query.get("t") or form.get("t")
        if form.get("List-Unsubscribe") != ONE_CLICK or not isinstance(token, str):
            return _page(t, 400, t._("This link is not valid. Nothing was changed."))
        async with app.uow_factory() as uow:
            try:
                contact = await unsubscribe(uow, token)
            except UnsubscribeLinkInvalid as refused:
                found = await contact_by_token(uow, token)
                t = _translator_for(request, found)
                if refused.reason == "used":
                    return _page(t, 410, t._("These updates are already turned off."))
                return _page(t, 404, t._("This link is not valid. Nothing was changed."))
            await uow.commit()
        t = _translator_for(request, contact)
        done = t._("Done. No more updates will be sent to {address}.").format(
            address=contact.masked
        )
        return _page(t, 200, done)

    web_app.router.add_get("/unsubscribe", show, allow_head=False)
    web_app.router.add_post("/unsubscribe", stop)
