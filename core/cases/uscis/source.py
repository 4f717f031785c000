"""The case-status source port: where a case's status comes from when it is not ours.

The real source is USCIS's Case Status API (``bot.uscis``, over HTTP); tests use a fake server
through that same adapter, or a :class:`CaseStatusSource` of their own. What a source raises::

    SourceError
    ├── NotAtSource          the source has no case with this receipt number (HTTP 404)
    ├── RefusedBySource      the source refused the receipt number's format (HTTP 422)
    └── SourceUnavailable    no usable answer: timeouts, 5xx, 429 beyond the time allowed,
        │                    a malformed body, a refused token (``reason`` says which)
        └── OutOfBudget      the rate or the daily budget allows no request now (``reason``
                             is ``"busy"`` or ``"quota"``); the source was not asked

Before each request the source calls the ``permit`` it was given: that is where the shared rate
limit and daily budget (``core.cases.uscis.quota``) are taken, so a retry counts as a request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from core.cases.receipt import ReceiptNumber
from core.cases.uscis.answer import UscisCase

__all__ = [
    "CaseStatusSource",
    "NotAtSource",
    "OutOfBudget",
    "Permit",
    "RefusedBySource",
    "SourceError",
    "SourceUnavailable",
]

Permit = Callable[[], Awaitable[float]]
"""Called before each request to the source: the seconds to wait before sending it; raises
:class:`OutOfBudget` to stop it."""


class SourceError(Exception):
    """The source gave no case status."""


class NotAtSource(SourceError):
    """The source holds no case with this receipt number."""


class RefusedBySource(SourceError):
    """The source refused the receipt number (its format)."""


class SourceUnavailable(SourceError):
    """No usable answer; ``reason`` is a short text for operators (never shown to people)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutOfBudget(SourceUnavailable):
    """The shared rate limit (``"busy"``) or today's budget (``"quota"``) forbids a request."""


class CaseStatusSource(Protocol):
    """Looks a case up at its source."""

    async def fetch(self, receipt: ReceiptNumber, *, permit: Permit, within: float) -> UscisCase:
        """The case as the source reports it, within ``within`` seconds in all (retries
        included).

        Raises:
            NotAtSource, RefusedBySource, SourceUnavailable: see the module docstring.
        """
        ...
