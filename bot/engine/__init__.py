"""The dialog engine: it runs one turn of one conversation at a time.

A channel hands it an ``Incoming`` and gets a ``Turn`` of ``Reply`` objects back (the
channel-neutral model, declared beside the dialogs in ``bot.dialogs.model`` since dialogs say
replies too, and re-exported here for the channels). Between the two the engine loads the
conversation, runs the dialog at the top of its stack, and commits the state, the domain
change and any notification in one transaction.

One module per job: ``runner`` (the turn: lock, hash re-runs, transaction, undoing a turn whose
mail failed), ``stack`` (the frames and what a turn works on), ``input`` (what came in),
``matching`` (command words, typed labels, yes and no), ``interrupts`` (global actions, switch
offers), ``transitions``, ``render`` (prompts, button numbering), ``config`` (timeouts, hooks),
``handoff`` (the person's side of a live chat with an agent, and secure messages) and
``keyed_lock`` (one lock per conversation, also used by the channels). It may import
``core``, ``bot.dialogs`` (the dialog toolkit and the dialogs' context), ``bot.wording`` and
``bot.understanding``; it never imports a channel (``bot.channels``) or a transport library.
"""

from __future__ import annotations

from bot.dialogs.model import Attachment, Button, Incoming, Outcome, Reply, Turn
from bot.engine.config import AdmitHook, EngineConfig, TurnHook, TurnObserver
from bot.engine.input import MAX_TEXT_LENGTH
from bot.engine.keyed_lock import KeyedLock
from bot.engine.runner import Engine

__all__ = [
    "MAX_TEXT_LENGTH",
    "AdmitHook",
    "Attachment",
    "Button",
    "Engine",
    "EngineConfig",
    "Incoming",
    "KeyedLock",
    "Outcome",
    "Reply",
    "Turn",
    "TurnHook",
    "TurnObserver",
]
