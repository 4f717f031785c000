"""The dialog funnel and turn latency: where people move on, finish or give up, counted from the
engine's committed turns, with labels bounded to the registered flows and steps."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.ops.metrics import CasebotMetrics, funnel_moves
from tests.chat import FakeChat
from tests.fakes import FakeClock


def state(*frames: tuple[str, str]) -> dict[str, Any]:
    return {"stack": [{"d": flow, "s": step} for flow, step in frames]}


MENU = ("menu", "main")
CHECK = ("case_status", "check")


@pytest.mark.parametrize(
    ("before", "after", "reason", "expected"),
    [
        (state(MENU), state(MENU), None, (None, None)),
        (None, state(MENU), None, (MENU, None)),
        (state(MENU), state(MENU, CHECK), None, (CHECK, (MENU, "next"))),
        (state(MENU, CHECK), state(MENU), None, (MENU, (CHECK, "finished"))),
        (state(MENU, CHECK), state(MENU), "menu", (MENU, (CHECK, "menu"))),
        (state(MENU, CHECK), state(MENU, ("my_cases", "list")), "timeout",
         (("my_cases", "list"), (CHECK, "timeout"))),
        (state(MENU, ("link_account", "email")), state(MENU, ("link_account", "password")),
         None, (("link_account", "password"), (("link_account", "email"), "next"))),
        (state(MENU, ("link_account", "password")), state(MENU, ("link_account", "email")),
         "back", (("link_account", "email"), (("link_account", "password"), "back"))),
        ({"stack": "not a list"}, state(MENU), None, (MENU, None)),
    ],
)  # fmt: skip
def test_a_turn_enters_at_most_one_step_and_leaves_at_most_one(
    before: dict[str, Any] | None,
    after: dict[str, Any],
    reason: str | None,
    expected: tuple[Any, Any],
) -> None:
    assert funnel_moves(before, after, reason) == expected


@pytest.fixture
def metrics(engine: Engine) -> CasebotMetrics:
    collected = CasebotMetrics(CollectorRegistry(), all_dialogs())
    engine.observer = collected
    return collected


def count(metrics: CasebotMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def left(metrics: CasebotMetrics, flow: str, step: str, outcome: str) -> float:
    return count(metrics, "casebot_dialog_step_left_total", flow=flow, step=step, outcome=outcome)


async def test_the_funnel_shows_who_gave_up_at_a_step_and_how(
    chat: FakeChat, metrics: CasebotMetrics, clock: FakeClock, demo: None
) -> None:
    await chat.send("hi")
    await chat.press("Check a case status")
    await chat.send("menu")  # gives up at the question
    await chat.press("Check a case status")
    clock.advance(minutes=61)
    await chat.send("hi")  # comes back after the idle limit: gave up by timeout
    await chat.press("Check a case status")
    await chat.send("WAC2212345678")  # answered: the case shows at the same step
    await chat.press("Back")

    entered = count(metrics, "casebot_dialog_step_entered_total", flow="case_status", step="check")
    assert entered == 3
    assert left(metrics, "case_status", "check", "menu") == 1
    assert left(metrics, "case_status", "check", "timeout") == 1
    assert left(metrics, "case_status", "check", "back") == 1
    assert left(metrics, "case_status", "check", "next") == 0
    assert left(metrics, "menu", "main", "next") == 3
    turns = count(metrics, "casebot_turn_seconds_count", channel="other")  # the test channel
    assert turns == len(chat.turns) == 8


async def test_labels_never_carry_a_chat_or_an_unknown_name(
    chat: FakeChat, metrics: CasebotMetrics, demo: None
) -> None:
    await chat.send("hi")
    await chat.press("Check a case status")
    metrics.turn_finished("x" * 50, state(("made_up", "s")), state(MENU), None, 0.1)
    page = generate_latest(metrics.registry).decode()

    assert chat.chat_id not in page
    assert "made_up" not in page
    assert "x" * 50 not in page
    assert 'flow="other",outcome="next",step="other"' in page
