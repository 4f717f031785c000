"""The dialog engine: it runs one turn of one conversation at a time.

A channel hands it an ``Incoming`` and gets a ``Turn`` of ``Reply`` objects back (the
channel-neutral model, declared beside the dialogs in ``bot.dialogs.model`` since dialogs say
replies too, and re-exported here for the channels). Between the two the engine loads the
conversation, runs the dialog at the top of its stack, and commits the state, the domain
change and any notification in one transaction. It may import ``core``, ``bot.dialogs`` (the
dialog toolkit and the dialogs' context), ``bot.wording`` and ``bot.understanding``; it never
imports a channel (``bot.channels``) or a transport library.
"""

from __future__ import annotations

from bot.dialogs.model import Attachment, Button, Incoming, Reply, Turn
from bot.engine.runner import (
    MAX_TEXT_LENGTH,
    AdmitHook,
    Engine,
    EngineConfig,
    TurnHook,
    TurnObserver,
)

__all__ = [
    "MAX_TEXT_LENGTH",
    "AdmitHook",
    "Attachment",
    "Button",
    "Engine",
    "EngineConfig",
    "Incoming",
    "Reply",
    "Turn",
    "TurnHook",
    "TurnObserver",
]
