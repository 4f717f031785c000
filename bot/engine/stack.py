"""A conversation's stack of running dialogs, and everything one turn works on.

The stack is stored as JSON in the conversation row: the menu at the bottom, the flow the
person is in at the top, and between them the flows that started it and wait for its result.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from typing import Any

from bot.dialogs.actions import ROOT
from bot.dialogs.base import Button, Dialog, DialogError, Step
from bot.dialogs.context import Context
from core.conversations import ConversationRecord

__all__ = ["Frame", "TurnState"]


class Frame:
    """One running dialog on a conversation's stack (stored as JSON)."""

    __slots__ = ("back", "data", "detour", "dialog", "failures", "replaced", "state", "then")

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.dialog: str = raw["d"]
        self.state: str = raw["s"]
        self.data: dict[str, Any] = dict(raw.get("data", {}))
        self.back: list[str] = list(raw.get("back", []))
        self.failures: int = int(raw.get("fails", 0))
        self.then: str | None = raw.get("then")
        # Started by free text that asked for it at a step of the flow below, which could not
        # read it: "back" at its first step, or its end, returns to that step.
        self.detour: bool = bool(raw.get("detour"))
        # The flow this one took the place of (``Replace``: "I lost my phone" chosen in the
        # help), as it was: "back" at this flow's first step returns to it.
        self.replaced: dict[str, Any] | None = raw.get("replaced")

    @classmethod
    def new(cls, dialog: Dialog[Any], args: Mapping[str, Any] | None = None) -> Frame:
        return cls({"d": dialog.name, "s": dialog.initial.value, "data": dict(args or {})})

    def dump(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"d": self.dialog, "s": self.state}
        if self.data:
            raw["data"] = self.data
        if self.back:
            raw["back"] = self.back[-10:]
        if self.failures:
            raw["fails"] = self.failures
        if self.then is not None:
            raw["then"] = self.then
        if self.detour:
            raw["detour"] = True
        if self.replaced is not None:
            raw["replaced"] = self.replaced
        return raw


class TurnState:
    """Everything one turn works on: the conversation, the dialogs' context, the stack.

    Args:
        conversation: the conversation row, locked for the turn.
        ctx: what the dialogs see during the turn.
        dialogs: every dialog by name (the engine's).
        intents: the flow each free-text intent asks for (the engine's).
    """

    def __init__(
        self,
        conversation: ConversationRecord,
        ctx: Context,
        dialogs: Mapping[str, Dialog[Any]],
        intents: Mapping[str, str],
    ) -> None:
        self.conversation = conversation
        self.ctx = ctx
        self.dialogs = dialogs
        self.intents = intents
        raw = conversation.state or {}
        self.stack = [Frame(f) for f in raw.get("stack", [])]
        self.offer: dict[str, Any] | None = raw.get("offer")
        # Greeted on the conversation's first turn (whatever that turn showed), not again.
        ctx.greeted = bool(raw.get("stack"))
        # The buttons of the newest message that had any, as shown: typing a label or a
        # number answers them (without rendering the prompt again).
        self.shown: list[Button] = [Button(*shown) for shown in raw.get("shown", [])]
        self.secret_input = False
        # The flow timed out while waiting for a secret: what came is that secret (see
        # Engine._expire_if_idle), not an answer to the menu.
        self.expired_secret = False
        # How the turn left its step when a global action or a timeout decided it (metrics).
        self.exit_reason: str | None = None
        # An expired button only showed the step again: its buttons keep their number.
        self.only_reshown = False
        # The chat's handoff to a live agent (core/handoff), while one is open.
        self.handoff: int | None = raw.get("handoff")
        # The last knowledge-base topic or intent the person asked about: the topic of a
        # handoff, shown to the agents in the queue.
        self.topic: str | None = raw.get("topic")
        self._loaded = copy.deepcopy((raw.get("stack", []), raw.get("offer")))

    def unchanged(self) -> bool:
        """True while the stack and the switch offer are as the turn found them."""
        return ([f.dump() for f in self.stack], self.offer or None) == (
            self._loaded[0],
            self._loaded[1] or None,
        )

    def dump(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"stack": [f.dump() for f in self.stack]}
        if self.offer:
            raw["offer"] = self.offer
        if self.handoff is not None:
            raw["handoff"] = self.handoff
        if self.topic is not None:
            raw["topic"] = self.topic
        if self.shown:
            raw["shown"] = [
                [choice.label, choice.payload, *([choice.means] if choice.means else [])]
                for choice in self.shown
            ]
        return raw

    def back_to_menu(self, reason: str | None = "menu") -> None:
        """Leave every flow: only the menu stays on the stack and no switch offer is pending.

        Args:
            reason: the exit tag for metrics, unless the turn already has one; None for a
                move the person did not ask for as leaving (a notification's link).
        """
        if reason is not None:
            self.exit_reason = self.exit_reason or reason
        self.stack = [Frame.new(self.dialogs[ROOT])]
        self.offer = None

    def ensure_menu(self) -> None:
        """Put the menu back on an empty stack (a new conversation, or the last flow ended)."""
        if not self.stack:
            self.stack.append(Frame.new(self.dialogs[ROOT]))

    def activate_top(self) -> tuple[Dialog[Any], enum.Enum, Step[Any]]:
        """Make the frame at the top of the stack the current one, and return its dialog,
        state and step: ``ctx.data`` becomes that frame's data.

        A frame saved by an older version is repaired first: one whose dialog no longer
        exists starts the conversation again from the menu, one whose state no longer exists
        goes back to its dialog's first step.
        """
        frame = self.stack[-1]
        dialog = self.dialogs.get(frame.dialog)
        if dialog is None:
            self.stack = [Frame.new(self.dialogs[ROOT])]
            frame = self.stack[0]
            dialog = self.dialogs[ROOT]
        try:
            state, step = dialog.step(frame.state)
        except DialogError:
            frame.state = dialog.initial.value
            state, step = dialog.step(frame.state)
        self.ctx.data = frame.data
        return dialog, state, step
