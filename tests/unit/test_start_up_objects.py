"""What `casebot serve` makes at start-up stays out of the garbage collector's full passes.

A full collection walks every tracked object; with the modules, the schema, the translations
and the model, that is hundreds of thousands, and one such pass paused the server for 74 ms in
the middle of `bench_web` (64 requests waited: the run's p99 went from about 45 ms to 105 ms).
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.serve import settle_start_up


class _Thing:
    partner: object = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the rest of the test session collects as usual


def _tracked(thing: object) -> bool:
    return any(candidate is thing for candidate in gc.get_objects())


@pytest.mark.usefixtures("unfrozen")
def test_what_start_up_made_is_left_out_of_later_collections() -> None:
    made_at_start = _Thing()

    settle_start_up()
    made_later = _Thing()

    assert not _tracked(made_at_start)
    assert _tracked(made_later)  # what requests make is still collected


@pytest.mark.usefixtures("unfrozen")
def test_start_up_garbage_is_collected_not_kept() -> None:
    a, b = _Thing(), _Thing()
    a.partner, b.partner = b, a  # a cycle: only the collector frees it
    gone = weakref.ref(a)
    del a, b

    settle_start_up()

    assert gone() is None
