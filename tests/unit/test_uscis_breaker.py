"""The circuit breaker in front of USCIS (core.cases.uscis.breaker), on a fake clock."""

from __future__ import annotations

from core.cases.uscis import CircuitBreaker
from tests.fakes import FakeClock


def test_a_half_open_trial_that_was_never_sent_is_given_back() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker(clock, threshold=1)
    breaker.failed()
    assert not breaker.allow()
    clock.advance(seconds=31)
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # only one at a time
    breaker.abandoned()  # no budget left for it: nothing was learnt about USCIS
    assert breaker.allow()  # the next lookup makes the trial instead
    breaker.succeeded()
    assert not breaker.is_open
