"""Secrets kept at rest, encrypted: the authenticator (TOTP) secrets of accounts.

An authenticator secret cannot be hashed like a password: every sign-in needs it back to compute
the expected code. So it is stored encrypted and authenticated with Fernet (AES-128-CBC and
HMAC-SHA256) under a key derived from ``CASEBOT_SECRET_KEY``; a copy of the database (a dump, a
backup, a stolen disk) holds no secret that an attacker could put into an authenticator app.

The stored form is ``enc1:<key id>:<Fernet token>``. The key id (8 hex digits of a hash of the
key, under its own label) says which key sealed a value, so that:

- a value sealed under an older key still opens while that key is listed among the old keys
  (``CASEBOT_OLD_SECRET_KEYS``), and is sealed again under the current key (key rotation);
- a value whose key is not configured at all is named as such (:class:`SecretUnreadable` with
  the key id), never mistaken for a wrong code;
- finding the values still to re-seal is a plain ``LIKE`` on the prefix, with no decryption.

Rows written before encryption existed (migration 0001 stored the Base32 secret as is) hold no
``enc1:`` prefix: they are read as they are (Base32 never contains a colon) and sealed on their
next use or by :func:`core.accounts.totp_store.reseal_totp_secrets` at start-up.

Without ``CASEBOT_SECRET_KEY`` (development, the demo) the development key is used: it is
public, so it only keeps secrets out of plain sight. The development key is always accepted
for reading, so that a database begun without a key moves to a real key by itself.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from typing import Final

from cryptography.fernet import Fernet, InvalidToken

from core.errors import SecretUnreadable

__all__ = [
    "DEVELOPMENT_KEY",
    "SEALED_PREFIX",
    "SecretBox",
    "SecretUnreadable",
    "is_sealed",
    "key_id",
]

# The same text as bot.dialogs.accounts.sealed's: one development key for every secret of a
# development setup.
DEVELOPMENT_KEY: Final = "casebot development key: set CASEBOT_SECRET_KEY in production"
SEALED_PREFIX: Final = "enc1:"
_PURPOSE: Final = b"casebot/secrets-at-rest/v1\x00"
_KEY_ID_PURPOSE: Final = b"casebot/secrets-at-rest/key-id/v1\x00"


def key_id(secret_key: str) -> str:
    """The public name of a key: 8 hex digits of a labelled hash (it reveals nothing)."""
    return hashlib.sha256(_KEY_ID_PURPOSE + secret_key.encode()).hexdigest()[:8]


def _fernet(secret_key: str) -> Fernet:
    # A purpose label keeps this key apart from others derived from the same setting
    # (bot.dialogs.accounts.sealed derives the key of the secrets a chat keeps between turns).
    digest = hashlib.sha256(_PURPOSE + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class SecretBox:
    """Seals secrets under the current key and opens what any configured key sealed.

    Args:
        secret_key: ``CASEBOT_SECRET_KEY``; None means the (public) development key.
        old_keys: keys used before (``CASEBOT_OLD_SECRET_KEYS``): read, never written.
    """

    def __init__(self, secret_key: str | None = None, old_keys: Sequence[str] = ()) -> None:
        current = secret_key or DEVELOPMENT_KEY
        self.uses_development_key = secret_key is None
        self.key_id = key_id(current)
        self._current = _fernet(current)
        self._readers: dict[str, Fernet] = {}
        for key in (current, *old_keys, DEVELOPMENT_KEY):
            self._readers.setdefault(key_id(key), _fernet(key))
        self._current_prefix = f"{SEALED_PREFIX}{self.key_id}:"

    def seal(self, plain: str) -> str:
        """The stored form of a secret, under the current key (a new random IV each time)."""
        token = self._current.encrypt(plain.encode("utf-8")).decode("ascii")
        return f"{self._current_prefix}{token}"

    def open(self, stored: str) -> str:
        """The secret a stored value holds; a legacy plain value is returned as it is.

        Raises:
            SecretUnreadable: sealed under a key that is not configured, or altered.
        """
        if not is_sealed(stored):
            return stored
        name, _, token = stored[len(SEALED_PREFIX) :].partition(":")
        reader = self._readers.get(name)
        if reader is None:
            raise SecretUnreadable(key_id=name or None)
        try:
            return reader.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretUnreadable(key_id=name) from exc

    def is_current(self, stored: str) -> bool:
        """Whether a stored value is sealed under the current key (nothing to re-seal)."""
        return stored.startswith(self._current_prefix)

    @property
    def current_prefix(self) -> str:
        """What every value sealed under the current key begins with."""
        return self._current_prefix


def is_sealed(stored: str) -> bool:
    """Whether a stored value is sealed (as opposed to a legacy plain value)."""
    return stored.startswith(SEALED_PREFIX)
