"""Confirmation codes: short, random, easy to read aloud and to type back."""

from __future__ import annotations

import re
import secrets
from typing import Final

__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "new_confirmation_code", "normalize_code"]

# No 0/O, 1/I/L: nothing a person could read two ways. 31**8 is about 8.5e11 codes.
CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH: Final = 8


def new_confirmation_code() -> str:
    """A fresh random code of ``CODE_LENGTH`` characters from ``CODE_ALPHABET``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """A code as typed (any case, spaces, dashes, a leading ``#``) in its stored form."""
    return re.sub(r"[\s\-#]+", "", text).upper()
