"""Twilio's Programmable Messaging REST API: the SMS provider port's real adapter.

``POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json``, HTTP basic auth (the account
SID and its auth token), a form body ``To``, ``From``, ``Body`` and ``StatusCallback`` (where
Twilio posts the message's delivery status). A 201 answer carries the message's ``sid``.

Answers map to the port's errors: 429 (too many requests), a 5xx, a 401 (credentials the
operator must fix; the texts wait rather than be lost) and no answer at all are
``SmsUnavailable`` (tried again later); any other 4xx is ``SmsRefused`` with Twilio's error
``code`` (21610: the number replied STOP; 21211: not a valid number; ...), parked at once.

Twilio signs the requests it makes to us (status callbacks, inbound texts) with
``X-Twilio-Signature``: base64 of the HMAC-SHA1, keyed by the auth token, of the full URL it
called followed by every POST parameter's name and value, sorted by name (``signature``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Final

import aiohttp

from core.ports import OutgoingSms, SmsRefused, SmsUnavailable

__all__ = ["SIGNATURE_HEADER", "TwilioSms", "signature", "signature_ok"]

SIGNATURE_HEADER: Final = "X-Twilio-Signature"
API_VERSION: Final = "2010-04-01"


def signature(token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """Twilio's signature of a request it posts to ``url`` with these form parameters."""
    data = url + "".join(f"{name}{value}" for name, value in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_ok(token: str, url: str, params: Iterable[tuple[str, str]], given: str) -> bool:
    """Whether ``given`` is Twilio's signature of the request (compared in constant time)."""
    return hmac.compare_digest(signature(token, url, params).encode(), given.encode())


class TwilioSms:
    """Sends texts through Twilio's Messages API (implements ``core.ports.SmsProvider``).

    Args:
        base_url: ``CASEBOT_SMS_URL`` (``https://api.twilio.com``, or a local fake).
        account: ``CASEBOT_SMS_ACCOUNT``, the account SID.
        token: ``CASEBOT_SMS_TOKEN``, its auth token (never logged).
        sender: ``CASEBOT_SMS_FROM``, the number (E.164) or messaging service texts come from.
        status_callback: the URL Twilio posts delivery statuses to, or None for none.
        timeout: seconds one request may take.
    """

    def __init__(
        self,
        base_url: str,
        account: str,
        token: str,
        sender: str,
        *,
        status_callback: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.endpoint = f"{base_url.rstrip('/')}/{API_VERSION}/Accounts/{account}/Messages.json"
        self._auth = aiohttp.encode_basic_auth(account, token)
        self.sender = sender
        self.status_callback = status_callback
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:  # never the token
        return f"TwilioSms({self.endpoint!r})"

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                headers={
                    "Accept": "application/json",
                    "Authorization": self._auth,
                    "User-Agent": "casebot",
                },
            )
        return self._session

    async def send(self, sms: OutgoingSms) -> str:
        form = {"To": sms.to, "From": self.sender, "Body": sms.body}
        if self.status_callback is not None:
            form["StatusCallback"] = self.status_callback
        try:
            async with self._http().post(self.endpoint, data=form) as response:
                status = response.status
                try:
                    body = await response.json(content_type=None)
                except ValueError:
                    body = None
                retry_after = _seconds(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SmsUnavailable(None) from exc
        sid = body.get("sid") if isinstance(body, dict) else None
        if status in (200, 201) and isinstance(sid, str) and sid:
            return sid
        if status == 429 or status >= 500 or status == 401 or status < 400:
            raise SmsUnavailable(status, retry_after)
        code = body.get("code") if isinstance(body, dict) else None
        raise SmsRefused(status, code if isinstance(code, int) else None)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
