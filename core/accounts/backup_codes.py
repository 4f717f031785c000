"""Backup codes: one code per account, shown once, used instead of the one-time code.

A code reads like ``7K3Q-9WXM-2PLD``: three groups of four characters from a 32-character
alphabet, so 60 random bits. The alphabet leaves out the letters O and I, so a typed O can only
mean zero and a typed I only one; S and U are left out too (they read like 5 and V). Input is
forgiving: case, spaces and dashes do not matter.

The code is stored as an Argon2id hash (``core.accounts.passwords``) of its normalised form:
60 bits would survive a fast hash for a while, not for ever.
"""

from __future__ import annotations

import secrets
from typing import Final

from core.errors import InvalidCode

__all__ = [
    "BACKUP_CODE_ALPHABET",
    "format_backup_code",
    "generate_backup_code",
    "looks_like_backup_code",
    "normalize_backup_code",
]

BACKUP_CODE_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTVWXYZ"
GROUPS: Final = 3
GROUP_LENGTH: Final = 4
CODE_LENGTH: Final = GROUPS * GROUP_LENGTH
# Letters that are not in the alphabet but can stand for only one character that is.
_CONFUSIONS: Final = str.maketrans({"O": "0", "I": "1"})
_IGNORED: Final = str.maketrans("", "", " -_.\t")


def generate_backup_code() -> str:
    """A new random backup code in its display form (``XXXX-XXXX-XXXX``)."""
    raw = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return format_backup_code(raw)


def normalize_backup_code(typed: str) -> str:
    """The canonical form of a typed backup code: 12 characters, upper case, no separators.

    Raises:
        InvalidCode: not 12 characters of the alphabet once separators are dropped and O/I
            read as 0/1.
    """
    text = typed.upper().translate(_IGNORED).translate(_CONFUSIONS)
    if len(text) != CODE_LENGTH or any(char not in BACKUP_CODE_ALPHABET for char in text):
        raise InvalidCode()
    return text


def looks_like_backup_code(typed: str) -> bool:
    """Whether the text can be read as a backup code (as opposed to a 6-digit one-time code)."""
    try:
        normalize_backup_code(typed)
    except InvalidCode:
        return False
    return True


def format_backup_code(code: str) -> str:
    """The display form, ``XXXX-XXXX-XXXX``, of a typed or canonical code.

    Raises:
        InvalidCode: as ``normalize_backup_code``.
    """
    raw = normalize_backup_code(code)
    return "-".join(raw[i : i + GROUP_LENGTH] for i in range(0, CODE_LENGTH, GROUP_LENGTH))
