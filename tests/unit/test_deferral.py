"""Slow work deferred out of a piece of work that runs again (core.deferral)."""

from __future__ import annotations

import pytest

from core.deferral import Deferral, WorkNeeded, active_deferral


async def test_an_error_kept_as_a_value_is_a_result_not_a_failure() -> None:
    deferral = Deferral()
    answer = LookupError("no such case")  # an outcome, returned, not raised

    async def work() -> object:
        return answer

    with deferral.scope(), pytest.raises(WorkNeeded):
        deferral.known_or_pending("lookup", work)
    await deferral.compute()
    with deferral.scope():
        assert deferral.known_or_pending("lookup", work) is answer


async def test_each_piece_of_work_runs_once_and_a_raised_error_propagates() -> None:
    deferral = Deferral()
    runs: list[str] = []

    async def fine() -> object:
        runs.append("fine")
        return 42

    async def broken() -> object:
        runs.append("broken")
        raise RuntimeError("down")

    for _ in range(2):
        with deferral.scope():
            for key, work in (("fine", fine), ("broken", broken)):
                with pytest.raises(WorkNeeded):
                    deferral.known_or_pending(key, work)
    with pytest.raises(RuntimeError):
        await deferral.compute()
    assert sorted(runs) == ["broken", "fine"]
    assert deferral.knows("fine")
    assert not deferral.knows("broken")
    assert not deferral.pending
    assert active_deferral() is None
