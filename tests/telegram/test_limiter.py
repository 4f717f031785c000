"""The outgoing rate limiter, driven through process_request on an event loop with virtual time.

The loop's clock only moves when every task waits: a sleep of a minute takes no real time, and
each send is stamped with the exact loop time at which the limiter let it through.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import selectors
from collections import defaultdict, deque
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot
from telegram.request import BaseRequest, RequestData

from bot.channels.telegram.limiter import CasebotRateLimiter, chat_key, counts_as_message

T = TypeVar("T")
EPS = 1e-6
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


class _VirtualSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Never blocks: when nothing is ready it jumps the clock to the next timer instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[Any]:
        if timeout is None:
            raise RuntimeError("deadlock: every task waits and no timer is set")
        events = super().select(0)
        if not events and timeout > 0:
            self.now += timeout
        return events


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._virtual = _VirtualSelector()
        super().__init__(self._virtual)

    def time(self) -> float:
        return self._virtual.now


def run(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
        return runner.run(coro)


@dataclass
class FakeApi:
    """A Bot API stand-in: records every attempt with its loop time, fails on demand."""

    failures: dict[object, deque[Exception]] = field(default_factory=lambda: defaultdict(deque))
    attempts: list[tuple[float, str, object, object, str]] = field(default_factory=list)

    def fail(self, chat_id: object, *errors: Exception) -> None:
        self.failures[chat_id].extend(errors)

    async def call(self, endpoint: str, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        now = asyncio.get_running_loop().time()
        queue = self.failures.get(data.get("chat_id"))
        if queue:
            error = queue.popleft()
            self.attempts.append((now, endpoint, data.get("chat_id"), data.get("text"), "failed"))
            raise error
        self.attempts.append((now, endpoint, data.get("chat_id"), data.get("text"), "sent"))
        return {"ok": True}

    def sent(self, chat_id: object = None) -> list[tuple[float, object]]:
        return [
            (t, text)
            for t, _, chat, text, outcome in self.attempts
            if outcome == "sent" and (chat_id is None or chat == chat_id)
        ]


async def send(
    limiter: CasebotRateLimiter, api: FakeApi, endpoint: str = "sendMessage", **data: Any
) -> Any:
    return await limiter.process_request(api.call, (endpoint, data), {}, endpoint, data, None)


async def send_all(
    limiter: CasebotRateLimiter, api: FakeApi, *messages: tuple[object, str]
) -> None:
    """Start every send at once, in this order (tasks start in creation order)."""
    await asyncio.gather(*(send(limiter, api, chat_id=c, text=t) for c, t in messages))


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for u in times if t <= u < t + window - EPS) for t in times)


def test_spaces_the_messages_of_one_chat_a_second_apart_in_order() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter(chat_burst=1)
    run(send_all(limiter, api, *[(7, f"m{i}") for i in range(5)]))
    assert api.sent(7) == [(pytest.approx(float(i)), f"m{i}") for i in range(5)]


def test_a_quiet_chat_gets_a_short_burst_then_one_message_a_second() -> None:
    """A reply in two messages (or an edited button and the answer) arrives together; the
    sustained rate stays one a second."""
    api, limiter = FakeApi(), CasebotRateLimiter()
    run(send_all(limiter, api, *[(7, f"m{i}") for i in range(6)]))
    times = [t for t, _ in api.sent(7)]
    assert [text for _, text in api.sent(7)] == [f"m{i}" for i in range(6)]
    # The first three within the burst, only the overall slots (1/30 s) apart, then 1 a second.
    assert times[1] - times[0] < 0.1
    assert times[2] - times[0] < 0.1
    assert times[3] == pytest.approx(times[0] + 1.0)
    assert times[4] == pytest.approx(times[0] + 2.0)
    assert times[5] == pytest.approx(times[0] + 3.0)
    assert max_in_window(times, 1.0) == 3


def test_the_burst_refills_one_message_a_second() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter()

    async def scenario() -> None:
        await send_all(limiter, api, *[(7, f"a{i}") for i in range(3)])
        await asyncio.sleep(1.5)  # one message of the burst back, not three
        await send_all(limiter, api, *[(7, f"b{i}") for i in range(2)])
        await asyncio.sleep(10)  # a quiet chat: the whole burst back
        await send_all(limiter, api, *[(7, f"c{i}") for i in range(3)])

    run(scenario())
    sent = dict((text, t) for t, text in api.sent(7))
    assert sent["b0"] == pytest.approx(sent["a2"] + 1.5, abs=0.01)
    assert sent["b1"] == pytest.approx(sent["a0"] + 2.0, abs=0.01)  # 2 s: 2 messages refilled
    assert sent["c2"] - sent["c0"] < 0.1


def test_caps_the_overall_rate_at_thirty_a_second_evenly_spread() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter()
    run(send_all(limiter, api, *[(chat, "hi") for chat in range(1, 91)]))
    times = [t for t, _ in api.sent()]
    assert len(times) == 90
    assert max_in_window(times, 1.05) == 30  # 1 s plus the default margin for jitter
    assert min(b - a for a, b in itertools.pairwise(times)) >= 1 / 30 - EPS
    assert times[-1] == pytest.approx(89 / 30 + 2 * 0.05)  # two full windows, two margins


def test_counts_a_message_until_its_answer_so_latency_jitter_cannot_overfill_a_second() -> None:
    """Requests that bunch up on the way (client pool, network) still reach the server within
    the limits: the limiter dates each message by its answer, which comes after its arrival."""
    rng = random.Random(4)
    arrivals: list[tuple[float, object]] = []
    in_flight = peak = 0

    async def jittery_api(endpoint: str, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        nonlocal in_flight, peak
        loop = asyncio.get_running_loop()
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(rng.choice((0.0, 0.0, 0.3)))  # some requests queue on the way
        arrivals.append((loop.time(), data["chat_id"]))
        await asyncio.sleep(rng.uniform(0.0, 0.05))  # the answer's way back
        in_flight -= 1
        return {"ok": True}

    limiter = CasebotRateLimiter(overall_rate=30, margin=0.0, chat_burst=1)
    messages = [{"chat_id": c, "text": "hi"} for c in range(1, 151)]
    messages += [{"chat_id": 1, "text": f"again {i}"} for i in range(4)]

    async def scenario() -> None:
        await asyncio.gather(
            *(
                limiter.process_request(jittery_api, ("sendMessage", m), {}, "sendMessage", m, None)
                for m in messages
            )
        )

    run(scenario())
    times = [t for t, _ in arrivals]
    assert len(times) == len(messages)
    assert max_in_window(times, 1.0) <= 30
    assert peak <= 30
    one_chat = [t for t, chat in arrivals if chat == 1]
    assert min(b - a for a, b in itertools.pairwise(one_chat)) >= 1.0 - EPS
    # Still near the rate (a message holds its slot for 1 s plus its latency, 0.15 s on average
    # here), not serialized behind the answers.
    others = [t for t, chat in arrivals if chat != 1]
    assert max(others) < 150 / 30 * 1.25


def test_sends_at_most_twenty_messages_a_minute_to_a_group() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter(chat_burst=1)
    run(send_all(limiter, api, *[(-100, f"g{i}") for i in range(25)]))
    sent = api.sent(-100)
    assert [text for _, text in sent] == [f"g{i}" for i in range(25)]
    times = [t for t, _ in sent]
    assert max_in_window(times, 60.0) == 20
    assert times[19] == pytest.approx(19.0)
    assert times[20] == pytest.approx(60.0)  # the first message leaves the window
    assert times[24] == pytest.approx(64.0)


def test_treats_an_at_username_as_a_group_and_a_numeric_string_as_its_number() -> None:
    assert chat_key("@casebot_news") == ("@casebot_news", True)
    assert chat_key("42") == (42, False)
    assert chat_key("-1001") == (-1001, True)
    assert chat_key(None) is None


def test_a_busy_chat_does_not_starve_the_others() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter()

    async def scenario() -> None:
        busy = [asyncio.create_task(send(limiter, api, chat_id=1, text=f"b{i}")) for i in range(50)]
        await asyncio.sleep(0.01)  # the busy chat's queue is already long
        others = [send(limiter, api, chat_id=c, text="hello") for c in range(2, 12)]
        await asyncio.gather(*busy, *others)

    run(scenario())
    for chat in range(2, 12):
        [(when, _)] = api.sent(chat)
        assert when < 0.5
    assert [text for _, text in api.sent(1)] == [f"b{i}" for i in range(50)]


def test_a_429_storm_pauses_only_that_chat_and_delivers_everything_in_order() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter(chat_burst=1)
    api.fail(1, RetryAfter(3), RetryAfter(2), RetryAfter(4))
    run(send_all(limiter, api, *[(c, f"{c}-{i}") for i in range(6) for c in (1, 2)]))

    # The other chat never waits: one message a second from the start (its first waits for the
    # second overall slot, 1/30 s).
    assert [t for t, _ in api.sent(2)] == [pytest.approx(i + 1 / 30) for i in range(6)]
    # Nothing lost, nothing reordered, nothing sent before its time.
    chat1 = [(t, text, outcome) for t, _, c, text, outcome in api.attempts if c == 1]
    assert [text for _, text, outcome in chat1 if outcome == "sent"] == [f"1-{i}" for i in range(6)]
    assert [(t, text) for t, text, _ in chat1[:4]] == [
        (pytest.approx(0.0), "1-0"),
        (pytest.approx(3.0), "1-0"),
        (pytest.approx(5.0), "1-0"),
        (pytest.approx(9.0), "1-0"),
    ]
    sent_times = [t for t, _, outcome in chat1 if outcome == "sent"]
    assert sent_times == [pytest.approx(9.0 + i) for i in range(6)]


def test_after_a_429_the_chat_gets_no_burst() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter()
    api.fail(1, RetryAfter(3))
    run(send_all(limiter, api, *[(1, f"m{i}") for i in range(3)]))
    assert [t for t, _ in api.sent(1)] == [pytest.approx(3.0 + i) for i in range(3)]


def test_a_429_without_a_chat_pauses_only_that_request() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter()
    api.fail(None, RetryAfter(5))

    async def scenario() -> None:
        await asyncio.gather(
            send(limiter, api, "setMyCommands", commands="[]"),
            send(limiter, api, chat_id=3, text="hi"),
        )

    run(scenario())
    assert api.sent(3) == [(pytest.approx(0.0), "hi")]
    assert [t for t, e, *_ in api.attempts if e == "setMyCommands"] == [0.0, pytest.approx(5.0)]


def test_chat_actions_and_callback_answers_skip_the_message_queue() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter()

    async def scenario() -> None:
        queued = [
            asyncio.create_task(send(limiter, api, chat_id=4, text=f"r{i}")) for i in range(3)
        ]
        await asyncio.sleep(0)
        await send(limiter, api, "sendChatAction", chat_id=4, action="typing")
        await send(limiter, api, "answerCallbackQuery", callback_query_id="q1")
        await asyncio.gather(*queued)

    run(scenario())
    by_endpoint = {e: t for t, e, *_ in api.attempts if e != "sendMessage"}
    assert by_endpoint == {"sendChatAction": 0.0, "answerCallbackQuery": 0.0}
    assert not counts_as_message("sendChatAction")
    assert not counts_as_message("deleteMessage")
    assert counts_as_message("sendPhoto")
    assert counts_as_message("editMessageText")


def test_network_errors_are_retried_with_growing_jittered_waits_then_raised() -> None:
    api = FakeApi()
    limiter = CasebotRateLimiter(rng=random.Random(4), chat_burst=1)
    api.fail(5, *[NetworkError("Bad Gateway (502)") for _ in range(5)])

    with pytest.raises(NetworkError):
        run(send(limiter, api, chat_id=5, text="x"))
    times = [t for t, *_ in api.attempts]
    assert len(times) == 5
    waits = [b - a for a, b in itertools.pairwise(times)]
    # full jitter below 0.5, 1, 2, 4 s, never under the chat's own 1 s spacing
    for wait, bound in zip(waits, [0.5, 1, 2, 4], strict=True):
        assert 1.0 - EPS <= wait <= max(1.0, bound) + EPS


def test_a_timeout_is_retried_and_the_message_then_goes_out_once() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter(rng=random.Random(1))
    api.fail(6, TimedOut(), TimedOut())
    assert run(send(limiter, api, chat_id=6, text="x")) == {"ok": True}
    assert len(api.sent(6)) == 1
    assert len(api.attempts) == 3


def test_waits_are_capped_by_max_backoff() -> None:
    api = FakeApi()
    limiter = CasebotRateLimiter(network_tries=8, max_backoff=3.0, chat_interval=0)
    api.fail(None, *[TimedOut() for _ in range(8)])
    with pytest.raises(TimedOut):
        run(send(limiter, api, "getMe"))
    times = [t for t, *_ in api.attempts]
    assert max(b - a for a, b in itertools.pairwise(times)) <= 3.0 + EPS


def test_a_bad_request_is_raised_at_once() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter()
    api.fail(8, BadRequest("Chat not found"))
    with pytest.raises(BadRequest):
        run(send(limiter, api, chat_id=8, text="x"))
    assert len(api.attempts) == 1


def test_with_limits_off_nothing_waits() -> None:
    api, limiter = FakeApi(), CasebotRateLimiter(limits_enabled=False)
    run(send_all(limiter, api, *[(c % 3 - 1, f"{i}") for i, c in enumerate(range(300))]))
    assert {t for t, _ in api.sent()} == {0.0}
    assert [text for _, text in api.sent(-1)] == [f"{i}" for i in range(0, 300, 3)]


def test_refuses_a_rate_out_of_range_when_built() -> None:
    with pytest.raises(ValueError, match="overall_rate"):
        CasebotRateLimiter(overall_rate=0)
    with pytest.raises(ValueError, match="network_tries"):
        CasebotRateLimiter(network_tries=0)


class ScriptedRequest(BaseRequest):
    """python-telegram-bot's transport, replaced: answers each call from a script of replies."""

    def __init__(self, replies: list[tuple[int, bytes]]) -> None:
        self.replies = deque(replies)
        self.calls = 0

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: Any
    ) -> tuple[int, bytes]:
        self.calls += 1
        return self.replies.popleft()


MESSAGE = b'{"ok":true,"result":{"message_id":1,"date":0,"chat":{"id":9,"type":"private"}}}'


def test_the_real_bot_retries_a_5xx_as_a_network_error_and_a_429_after_its_wait() -> None:
    request = ScriptedRequest(
        [
            (500, b'{"ok":false,"error_code":500,"description":"Internal Server Error"}'),
            (503, b"<html>down</html>"),
            (429, b'{"ok":false,"error_code":429,"parameters":{"retry_after":2}}'),
            (200, MESSAGE),
        ]
    )
    bot = ExtBot("1:token", request=request, rate_limiter=CasebotRateLimiter())

    async def scenario() -> float:
        message = await bot.send_message(chat_id=9, text="hello")
        assert message.message_id == 1
        return asyncio.get_running_loop().time()

    finished = run(scenario())
    assert request.calls == 4
    assert finished >= 2.0
