"""A circuit breaker: after a run of failures, stop asking USCIS for a while and answer at once.

Closed (asking) -> ``threshold`` failures in a row -> open (not asking) for ``cooldown`` ->
half-open: one trial request; its success closes the circuit, its failure opens it again. The
state is per process: each worker learns of an outage by itself, at the cost of ``threshold``
slow answers.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from core.clock import Clock

__all__ = ["CircuitBreaker"]

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD: Final = 3
DEFAULT_COOLDOWN: Final = timedelta(seconds=30)


class CircuitBreaker:
    """Counts consecutive failures of one dependency and says whether to try it.

    Raises:
        ValueError: (when built) a threshold below 1 or a cooldown that is not positive.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        threshold: int = DEFAULT_THRESHOLD,
        cooldown: timedelta = DEFAULT_COOLDOWN,
        name: str = "USCIS",
    ) -> None:
        if threshold < 1 or cooldown <= timedelta(0):
            raise ValueError("a breaker needs a threshold of 1 or more and a positive cooldown")
        self._clock = clock
        self.threshold = threshold
        self.cooldown = cooldown
        self.name = name
        self.failures = 0
        self.opened_at: datetime | None = None
        self._trial = False

    @property
    def is_open(self) -> bool:
        """Open: no request may go (a half-open trial is already out, or the cooldown runs)."""
        if self.opened_at is None:
            return False
        if self._trial:
            return True
        return self._clock.now() < self.opened_at + self.cooldown

    def allow(self) -> bool:
        """Whether a request may go now; after the cooldown, lets one trial through."""
        if self.opened_at is None:
            return True
        if self.is_open:
            return False
        self._trial = True
        return True

    def succeeded(self) -> None:
        if self.opened_at is not None:
            logger.info("%s answers again: circuit closed", self.name)
        self.failures = 0
        self.opened_at = None
        self._trial = False

    def abandoned(self) -> None:
        """The request allowed was never sent (no budget, cancelled): a half-open trial is
        given back, so that the next lookup may make it, instead of the circuit staying open."""
        self._trial = False

    def failed(self) -> None:
        self.failures += 1
        if self._trial or (self.opened_at is None and self.failures >= self.threshold):
            if not self._trial:
                logger.warning(
                    "%s failed %d times in a row: circuit open for %ds",
                    self.name,
                    self.failures,
                    self.cooldown.total_seconds(),
                )
            self.opened_at = self._clock.now()
        self._trial = False
