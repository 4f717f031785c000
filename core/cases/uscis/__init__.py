"""Case statuses from USCIS's Case Status API, behind the case-status source port.

The port and its errors (``source``), the answer's shape (``answer``), the shared rate and
daily budget (``quota``), the circuit breaker (``breaker``) and the lookup, cache and poller
(``service``). The HTTP adapter is ``bot.uscis``: the core speaks no HTTP.
"""

from __future__ import annotations

from core.cases.uscis.answer import MalformedAnswer, UscisCase, UscisEvent, parse_answer
from core.cases.uscis.breaker import CircuitBreaker
from core.cases.uscis.quota import Budget
from core.cases.uscis.source import (
    CaseStatusSource,
    NotAtSource,
    OutOfBudget,
    Permit,
    RefusedBySource,
    SourceError,
    SourceUnavailable,
)

__all__ = [
    "Budget",
    "CaseStatusSource",
    "CircuitBreaker",
    "MalformedAnswer",
    "NotAtSource",
    "OutOfBudget",
    "Permit",
    "RefusedBySource",
    "SourceError",
    "SourceUnavailable",
    "UscisCase",
    "UscisEvent",
    "parse_answer",
]
