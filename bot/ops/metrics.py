"""What an operator reads at ``/metrics`` beyond the web chat's own counters.

- The funnel of every dialog: how many conversations entered each step, and how they left it:
  ``next`` (moved on, into the next step or a sub-flow), ``finished`` (the flow ended),
  ``back``, ``switched`` (to another flow they asked for), or gave up: ``menu`` (cancel, menu,
  start over) or ``timeout`` (came back after the idle limit). A step's entries minus its exits
  are the conversations still there, or walked away and never came back (a timeout is only
  seen when the person returns).
- Turn latency per channel (every channel; ``casebot_webchat_turn_seconds`` remains the web
  chat's own measure including its transcript).
- Notifications sent, failed (retried later) and parked (given up), per channel; which worker
  holds a channel's sender lock.
- Telegram updates from the webhook by outcome (handled, duplicate, late).

Every label is bounded: flow and step names of the registered dialogs (anything else is
``other``), channel names, and fixed outcome words. Never a chat id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.dialogs.base import Dialog

__all__ = ["GIVE_UP", "OUTCOMES", "CasebotMetrics", "HandoffMetrics", "funnel_moves"]

logger = logging.getLogger(__name__)

# Why a turn left its step, as the engine tags it (None: what the dialog did decides).
GIVE_UP: Final = ("menu", "timeout")
OUTCOMES: Final = ("next", "finished", "back", "switched", *GIVE_UP)
OTHER: Final = "other"
CHANNELS: Final = ("telegram", "webchat", "console")
TURN_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Step = tuple[str, str]  # (flow, step)
_Labelled = TypeVar("_Labelled", Counter, Histogram)


def _steps(state: Mapping[str, Any] | None) -> list[Step]:
    stack = (state or {}).get("stack") or []
    steps: list[Step] = []
    for frame in stack:
        if isinstance(frame, Mapping) and isinstance(frame.get("d"), str):
            steps.append((frame["d"], str(frame.get("s", ""))))
    return steps


def funnel_moves(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, reason: str | None
) -> tuple[Step | None, tuple[Step, str] | None]:
    """Which step a turn entered and which it left (and how), from the conversation's stack
    before and after it.

    Args:
        before: the conversation state before the turn (``{"stack": [{"d", "s"}, ...]}``).
        after: the state the turn committed.
        reason: the engine's tag for a turn that left by a global action or a timeout:
            ``menu``, ``timeout``, ``back``, ``switched``; None otherwise.

    Returns:
        ``(entered, (left, outcome))``; both None when the person stayed at the same step.
    """
    old, new = _steps(before), _steps(after)
    old_top = old[-1] if old else None
    new_top = new[-1] if new else None
    if old_top == new_top and len(old) == len(new):
        return None, None
    if old_top is None:
        return new_top, None
    if reason in OUTCOMES:
        outcome = reason
    elif len(new) < len(old):
        outcome = "finished"  # the flow ended and its parent (or the menu) took over
    else:
        outcome = "next"  # another step of the flow, a sub-flow, or a flow in its place
    return new_top, (old_top, outcome)


class CasebotMetrics:
    """The collectors, registered in one app's registry (the one ``/metrics`` serves).

    Args:
        registry: where to register (the web app's, so one page shows everything).
        dialogs: the registered dialogs: their flow and step names are the funnel's labels.
    """

    def __init__(self, registry: CollectorRegistry, dialogs: Mapping[str, Dialog[Any]]) -> None:
        self.registry = registry
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._known: dict[str, frozenset[str]] = {
            name: frozenset(str(state.value) for state in dialog.steps)
            for name, dialog in dialogs.items()
        }
        self.step_entered = Counter(
            "casebot_dialog_step_entered",
            "Conversations that arrived at a dialog step",
            ["flow", "step"],
            registry=registry,
        )
        self.step_left = Counter(
            "casebot_dialog_step_left",
            "Conversations that left a dialog step, by how: next, finished, back, switched, "
            "or gave up (menu: cancel/menu/start over; timeout: idle too long)",
            ["flow", "step", "outcome"],
            registry=registry,
        )
        self.turn_seconds = Histogram(
            "casebot_turn_seconds",
            "Time the dialog engine took for one turn, by channel",
            ["channel"],
            buckets=TURN_BUCKETS,
            registry=registry,
        )
        self.notifications = Counter(
            "casebot_notifications",
            "Outbox notifications by channel and outcome (sent; failed: retried later; "
            "parked: given up, the reason kept on the row; deferred: a text held for quiet "
            "hours or the daily cap)",
            ["channel", "outcome"],
            registry=registry,
        )
        self.sender_lock = Gauge(
            "casebot_outbox_sender_lock",
            "1 when this worker holds the channel's sender lock (one sender per bot)",
            ["channel"],
            registry=registry,
        )
        self.telegram_updates = Counter(
            "casebot_telegram_updates",
            "Telegram webhook updates by outcome (handled, duplicate, late)",
            ["outcome"],
            registry=registry,
        )

    # --- the engine's observer (bot.engine.TurnObserver) -----------------------------------

    def turn_finished(
        self,
        channel: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        reason: str | None,
        seconds: float,
    ) -> None:
        """Count one committed turn: the funnel moves and the latency."""
        self._child(self.turn_seconds, channel if channel in CHANNELS else OTHER).observe(seconds)
        entered, left = funnel_moves(before, after, reason)
        if left is not None:
            (flow, step), outcome = left
            self._child(self.step_left, *self._label(flow, step), outcome).inc()
        if entered is not None:
            self._child(self.step_entered, *self._label(*entered)).inc()
        if logger.isEnabledFor(logging.INFO):
            # One line a turn, for CASEBOT_LOG_FORMAT=json: the step's name, never its text.
            top = _steps(after)
            step_name = ".".join(self._label(*top[-1])) if top else None
            fields = {
                "channel": channel if channel in CHANNELS else OTHER,
                "step": step_name,
                "latency_ms": round(seconds * 1000, 1),
            }
            logger.info(
                "turn %s %s %.1f ms", fields["channel"], step_name, seconds * 1000, extra=fields
            )

    def _child(self, metric: _Labelled, *values: str) -> _Labelled:
        # ``labels()`` checks and sorts its arguments and takes a lock on every call; the labels
        # are bounded (see the module's docstring), so each child is looked up once.
        key = (id(metric), values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def _label(self, flow: str, step: str) -> Step:
        steps = self._known.get(flow)
        if steps is None:
            return OTHER, OTHER
        return flow, step if step in steps else OTHER

    # --- the dispatcher's -----------------------------------------------------------------------

    def notification(self, channel: str, outcome: str, count: int = 1) -> None:
        """Count notifications: ``outcome`` is sent, failed, parked or deferred."""
        if count:
            self.notifications.labels(channel=channel, outcome=outcome).inc(count)


# Waits for a live agent, in seconds: from a few seconds to an hour.
WAIT_BUCKETS: Final = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)


class HandoffMetrics:
    """The live agents' figures: people waiting per language and those who left the line in
    the last day (read from the database, the same on every worker), the wait before a claim
    (a histogram: p50/p95 with ``histogram_quantile``), and chats ended by outcome.

    Languages are the 11 supported ones (anything else is ``other``); outcomes a fixed set.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.queue_length = Gauge(
            "casebot_handoff_queue_length",
            "People waiting for a live agent, by language",
            ["language"],
            registry=registry,
        )
        self.abandoned = Gauge(
            "casebot_handoff_abandoned_last_day",
            "People who left the line before an agent took them, in the last 24 hours",
            registry=registry,
        )
        self.wait_seconds = Histogram(
            "casebot_handoff_wait_seconds",
            "How long a person waited before an agent claimed the chat, by language",
            ["language"],
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.handled = Counter(
            "casebot_handoff_handled",
            "Live chats an agent closed, by outcome",
            ["outcome"],
            registry=registry,
        )

    def queue(self, lengths: Mapping[str, int], languages: tuple[str, ...]) -> None:
        for language in languages:
            self.queue_length.labels(language=language).set(lengths.get(language, 0))

    def claimed(self, language: str, seconds: float) -> None:
        self.wait_seconds.labels(language=language).observe(max(0.0, seconds))

    def closed(self, outcome: str) -> None:
        self.handled.labels(outcome=outcome).inc()
