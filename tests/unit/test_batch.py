"""Work asked for in one pass of the event loop runs back to back (``bot.channels.web.batch``)."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from bot.channels.web.batch import Batch

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


async def test_work_asked_for_together_runs_together_and_the_answers_follow_together() -> None:
    batch: Batch[str] = Batch()
    events: list[str] = []

    async def work(name: str) -> str:
        events.append(f"work {name}")
        return name.upper()

    async def request(name: str) -> str:
        events.append(f"read {name}")
        answer = await batch.run(lambda: work(name))
        events.append(f"answer {answer}")
        return answer

    answers = await asyncio.gather(*(request(name) for name in "abc"))

    assert answers == ["A", "B", "C"]
    # Called directly, each request would read, work and answer before the next one: the
    # phases would alternate (read a, work a, answer A, read b...).
    assert events == [
        "read a", "read b", "read c",
        "work a", "work b", "work c",
        "answer A", "answer B", "answer C",
    ]  # fmt: skip


async def test_an_error_reaches_its_caller_only() -> None:
    batch: Batch[int] = Batch()

    async def fails() -> int:
        raise LookupError("no such session")

    async def works() -> int:
        return 7

    results = await asyncio.gather(batch.run(fails), batch.run(works), return_exceptions=True)

    assert isinstance(results[0], LookupError)
    assert str(results[0]) == "no such session"
    assert results[1] == 7


async def test_work_runs_in_the_context_of_its_caller() -> None:
    batch: Batch[str] = Batch()

    async def who() -> str:
        return WHO.get()

    async def caller(name: str) -> str:
        WHO.set(name)
        return await batch.run(who)

    assert await asyncio.gather(caller("ana"), caller("bo")) == ["ana", "bo"]


async def test_work_whose_caller_left_before_it_began_does_not_run() -> None:
    batch: Batch[None] = Batch()
    ran: list[str] = []

    async def work() -> None:
        ran.append("work")

    caller = asyncio.create_task(batch.run(work))
    await asyncio.sleep(0)  # the caller has asked; the work starts at the loop's next pass
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await batch.wait_idle()

    assert ran == []


async def test_work_that_began_runs_to_its_end_when_its_caller_leaves() -> None:
    batch: Batch[None] = Batch()
    began, release = asyncio.Event(), asyncio.Event()
    done: list[str] = []

    async def work() -> None:
        began.set()
        await release.wait()
        done.append("kept")  # a turn's commit: cut short, the person's message would be lost

    await _leave_once_begun(batch, work, began, release)

    assert done == ["kept"]


async def test_wait_idle_waits_for_work_begun_and_asked_for() -> None:
    batch: Batch[None] = Batch()
    release = asyncio.Event()
    done: list[int] = []

    async def work(n: int) -> None:
        await release.wait()
        done.append(n)

    callers = [asyncio.create_task(batch.run(lambda n=n: work(n))) for n in range(3)]
    await asyncio.sleep(0)
    idle = asyncio.create_task(batch.wait_idle())
    await asyncio.sleep(0.01)
    assert not idle.done()
    release.set()
    await idle

    assert sorted(done) == [0, 1, 2]
    await asyncio.gather(*callers)


async def test_an_error_nobody_waits_for_is_logged_without_its_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    batch: Batch[None] = Batch()
    began, release = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        began.set()
        await release.wait()
        raise LookupError("session 0123abcd and its token")

    await _leave_once_begun(batch, work, began, release)

    assert [r.getMessage() for r in caplog.records] == [
        "work whose caller had gone ended with LookupError"
    ]


async def _leave_once_begun(
    batch: Batch[None],
    work: Callable[[], Coroutine[Any, Any, None]],
    began: asyncio.Event,
    release: asyncio.Event,
) -> None:
    """Ask for ``work``, cancel the caller once the work has begun, then let the work end."""
    caller = asyncio.create_task(batch.run(work))
    await began.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await batch.wait_idle()
