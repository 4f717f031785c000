"""What an engine is built with beyond its dialogs: idle timeouts, and the hooks a channel or
an operator plugs into every turn."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from bot.dialogs.model import Incoming, Turn
from core.uow import UnitOfWork

__all__ = ["AdmitHook", "EngineConfig", "TurnHook", "TurnObserver"]


@dataclass(frozen=True)
class EngineConfig:
    """Timeouts of idle conversations.

    Attributes:
        idle_timeout: an ordinary flow left alone this long starts again from the menu.
        sensitive_idle_timeout: the same for a flow that holds secrets or needs a signed-in
            user.
        signed_in_idle_timeout: a signed-in chat left alone this long is signed out, per
            channel; None keeps the link (Telegram: a private chat on the person's own phone,
            and the link is what carries their notifications).
    """

    idle_timeout: timedelta = timedelta(minutes=60)
    sensitive_idle_timeout: timedelta = timedelta(minutes=15)
    signed_in_idle_timeout: Mapping[str, timedelta | None] | None = None

    def link_timeout(self, channel: str) -> timedelta | None:
        table = self.signed_in_idle_timeout or {"telegram": None}
        return table.get(channel, self.sensitive_idle_timeout)


# Run in a turn's transaction before it commits (``Engine.handle(..., within=...)``).
TurnHook = Callable[[UnitOfWork, Turn], Awaitable[None]]
# Run first in a turn's transaction (``Engine.handle(..., admit=...)``): the message to handle,
# or None to refuse it.
AdmitHook = Callable[[UnitOfWork, Incoming], Awaitable[Incoming | None]]


class TurnObserver(Protocol):
    """Told about every committed turn (``bot.ops.metrics.CasebotMetrics``): the conversation
    state before and after, the engine's exit tag (``menu``, ``timeout``, ``back``,
    ``switched`` or None) and the time the turn took."""

    def turn_finished(
        self,
        channel: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        reason: str | None,
        seconds: float,
    ) -> None: ...
