"""The OpenAPI paths of the SMS provider's requests to casebot (``bot.channels.web.sms``),
for ``bot.channels.web.openapi`` to add to its document. They exist when text messages are set
up (the ``CASEBOT_SMS_*`` settings); else they answer 404."""

from __future__ import annotations

from typing import Any, Final

from bot.channels.web.openapi_errors import error_response
from bot.channels.web.sms import INBOUND_PATH, MAX_BODY, MAX_FORM, STATUS_PATH
from core.sms.service import FINAL_STATUSES, STATUSES

__all__ = ["sms_paths"]

_SID: Final = {"type": "string", "pattern": "^(SM|MM)[0-9a-fA-F]{32}$"}
_NUMBER: Final = {"type": "string", "pattern": r"^\+[1-9][0-9]{6,14}$"}
_SIGNATURE: Final = {
    "name": "X-Twilio-Signature",
    "in": "header",
    "required": True,
    "description": "Base64 of the HMAC-SHA1, keyed by the auth token (CASEBOT_SMS_TOKEN), of "
    "the full URL followed by every form parameter's name and value, sorted by name.",
    "schema": {"type": "string"},
}
_STATUSES: Final = sorted(STATUSES | FINAL_STATUSES)


def _errors() -> dict[str, Any]:
    return {
        "400": error_response("A parameter is missing or malformed (code bad_request)."),
        "403": error_response("The signature is missing or wrong (code bad_signature)."),
        "404": error_response("Text messages are not set up on this server (code not_found)."),
        "413": error_response(f"The form is over {MAX_FORM} bytes (code body_too_large)."),
        "415": error_response("Not a form body (code unsupported_media_type)."),
    }


def _form(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "required": required, "properties": properties}
            }
        },
    }


def sms_paths() -> dict[str, Any]:
    """The status callback and the inbound webhook (a fresh dict each call)."""
    return {
        STATUS_PATH: {
            "post": {
                "operationId": "smsStatus",
                "tags": ["sms"],
                "summary": "A text's delivery status (Twilio's StatusCallback)",
                "description": "Kept per message; a final status (delivered, undelivered, "
                "failed) is never replaced by an earlier one arriving late.",
                "parameters": [_SIGNATURE],
                "requestBody": _form(
                    ["MessageSid", "MessageStatus", "To"],
                    {
                        "MessageSid": _SID,
                        "MessageStatus": {"type": "string", "enum": _STATUSES},
                        "To": _NUMBER,
                        "From": {"type": "string"},
                        "AccountSid": {"type": "string"},
                        "ErrorCode": {"type": "string", "pattern": "^[0-9]{1,9}$"},
                    },
                ),
                "responses": {"204": {"description": "Recorded."}, **_errors()},
            }
        },
        INBOUND_PATH: {
            "post": {
                "operationId": "smsInbound",
                "tags": ["sms"],
                "summary": "A text someone sent to casebot's number (Twilio's messaging webhook)",
                "description": "STOP, STOPALL, UNSUBSCRIBE, CANCEL, END or QUIT (the whole "
                "text, any case) ends every text to the number at once and is confirmed once; "
                "START or UNSTOP turns them on again; HELP or INFO says what casebot is and how "
                "to stop. Any other text gets no answer. The answer is TwiML.",
                "parameters": [_SIGNATURE],
                "requestBody": _form(
                    ["From", "Body"],
                    {
                        "From": _NUMBER,
                        "Body": {"type": "string", "maxLength": MAX_BODY},
                        "To": {"type": "string"},
                        "MessageSid": {"type": "string"},
                        "AccountSid": {"type": "string"},
                    },
                ),
                "responses": {
                    "200": {
                        "description": "TwiML: an empty <Response/>, or one <Message> to send "
                        "back.",
                        "content": {"text/xml": {"schema": {"type": "string"}}},
                    },
                    **_errors(),
                },
            }
        },
    }
