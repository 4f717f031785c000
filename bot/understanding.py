"""Free-text understanding: which flow a message asks for, and any receipt number in it.

The public contract (``casebot understand``) prints ``{"intent", "receipt_number",
"language"}``; intents are case_status, link_account, appointment, password_reset, language,
help, cancel, greeting and unknown. This first version knows English keywords and guesses the
language from the script; the multilingual version replaces the tables, not the interface.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Final

from core.cases.receipt import find_receipt_number

__all__ = ["INTENTS", "Understanding", "account_help_topic", "understand"]

INTENTS: Final = (
    "case_status",
    "link_account",
    "appointment",
    "password_reset",
    "language",
    "help",
    "cancel",
    "greeting",
    "unknown",
)

# Ordered: the first intent with a matching pattern wins (password before sign-in: "I can't
# sign in, forgot my password" is a password problem).
_PATTERNS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("password_reset", (
        r"\b(forgot|forget|reset|lost|change)\b.*\b(password|pass|pw)\b",
        r"\bpassword\b", r"\blocked\b", r"\block(ed)? out\b", r"\bcan'?t (sign|log) ?in\b",
        r"\b(lost|new) (phone|device)\b", r"\bbackup code\b",
        r"\b(code|email).*not (received|arrive|come)",
        r"\bdidn'?t (get|receive)\b.*\bcode\b", r"\bcreate\b.*\baccount\b", r"\bsign ?up\b",
        r"\bregister\b", r"\bnew account\b",
    )),
    ("appointment", (
        r"\bappointments?\b", r"\bappt\b", r"\bbook(ing)?\b", r"\breschedul", r"\bbiometric",
        r"\bfingerprint", r"\binfopass\b", r"\bschedule\b", r"\bvisit\b.*\boffice\b",
    )),
    ("case_status", (
        r"\bstatus\b", r"\bcase\b", r"\breceipt\b", r"\bcheck\b.*\b(case|application)\b",
        r"\bapplication\b", r"\bwhere is my\b", r"\bapproved\b", r"\bi-?\d{2,3}\b",
    )),
    ("link_account", (
        r"\b(sign|log) ?in\b", r"\blink\b.*\baccount\b", r"\bmy account\b", r"\bconnect\b",
        r"\blogin\b",
    )),
    ("language", (r"\blanguage\b", r"\bidioma\b", r"\blangue\b", r"\bspanish\b", r"\benglish\b")),
    ("help", (r"\bhelp\b", r"^\?$", r"\bwhat can you do\b", r"\bhow does this work\b")),
    ("cancel", (r"\bcancel\b", r"\bstop\b", r"\bquit\b", r"\bexit\b", r"\bmenu\b",
                r"\bnevermind\b")),
    ("greeting", (r"^(hi|hello|hey|good (morning|afternoon|evening)|start)\b",)),
)  # fmt: skip
_COMPILED: Final = tuple(
    (intent, tuple(re.compile(p, re.IGNORECASE) for p in patterns))
    for intent, patterns in _PATTERNS
)

_SCRIPTS: Final = (
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("vi", re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)),
)


@dataclass(frozen=True, slots=True)
class Understanding:
    intent: str
    receipt_number: str | None
    language: str | None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def understand(text: str, locale: str | None = None) -> Understanding:
    """What a free-text message asks for.

    Args:
        text: what the person typed.
        locale: the conversation's language, if known (a hint; the text may differ).
    """
    receipt = find_receipt_number(text)
    folded = _fold(text)
    intent = "unknown"
    for candidate, patterns in _COMPILED:
        if any(p.search(folded) for p in patterns):
            intent = candidate
            break
    if receipt is not None and intent in ("unknown", "greeting", "help"):
        intent = "case_status"
    language = next((code for code, script in _SCRIPTS if script.search(text)), None)
    return Understanding(
        intent=intent,
        receipt_number=str(receipt) if receipt is not None else None,
        language=language,
    )


_HELP_TOPICS: Final = (
    (
        "create_account",
        re.compile(r"\b(create|open|make|new)\b.*\baccount\b|\bsign ?up\b|\bregister\b"),
    ),
    ("lost_device", re.compile(r"\b(lost|new|broken|stolen)\b.*\b(phone|device|authenticator)\b")),
    (
        "forgot_password",
        re.compile(r"\b(forgot|forget|forgotten|reset|lost)\b.*\b(password|pass|pw)\b"),
    ),
)


def account_help_topic(text: str) -> str | None:
    """Which part of the password and sign-in help a message asks for, when it is clear:
    ``forgot_password``, ``lost_device`` or ``create_account``; else None."""
    folded = _fold(text)
    return next((topic for topic, pattern in _HELP_TOPICS if pattern.search(folded)), None)
