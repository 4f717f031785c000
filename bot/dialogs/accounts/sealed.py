"""Secrets a flow keeps between turns, sealed so that the stored conversation cannot reveal them.

Some services need several secrets at once (a password reset takes the mailed code, the answer
to a question and the new password; a registration takes the code, the password and the
answers), while a chat asks for them one message at a time. A conversation's state lives in the
database, so a secret kept there in plain text would sit in dumps, backups and query logs. A
flow keeps such a secret only sealed: encrypted and authenticated with Fernet (AES-128-CBC and
HMAC-SHA256) under a key derived from ``CASEBOT_SECRET_KEY``, with the time it was sealed, so
it cannot be read or altered without the key and stops opening after ``max_age``. Every process
of one deployment shares the key, so a restart or another worker continues the flow.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken

__all__ = ["DEVELOPMENT_KEY", "open_sealed", "seal"]

# Settings allow no key in development (and refuse that in webhook mode); the seal then only
# keeps secrets out of plain sight, which is all a development database needs.
DEVELOPMENT_KEY: Final = "casebot development key: set CASEBOT_SECRET_KEY in production"
_PURPOSE: Final = b"casebot/sealed-chat-secrets/v1\x00"


@functools.lru_cache(maxsize=4)
def _fernet(secret_key: str | None) -> Fernet:
    # A purpose label keeps this key apart from anything else derived from the same setting.
    digest = hashlib.sha256(_PURPOSE + (secret_key or DEVELOPMENT_KEY).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret_key: str | None, values: Mapping[str, Any], now: datetime) -> str:
    """Encrypt JSON-able values, stamped with ``now``; the text is safe to store."""
    plain = json.dumps(dict(values), separators=(",", ":")).encode()
    return _fernet(secret_key).encrypt_at_time(plain, int(now.timestamp())).decode("ascii")


def open_sealed(
    secret_key: str | None, token: str, now: datetime, max_age: timedelta
) -> dict[str, Any] | None:
    """The values of a sealed text, or None when it is older than ``max_age``, was sealed under
    another key, or was altered."""
    try:
        plain = _fernet(secret_key).decrypt_at_time(
            token.encode("ascii"), int(max_age.total_seconds()), int(now.timestamp())
        )
    except (InvalidToken, UnicodeEncodeError):
        return None
    values = json.loads(plain)
    return values if isinstance(values, dict) else None
