"""How a dialog is declared: states, and for each a prompt, a parser and a handler.

A dialog is data. Each state's :class:`Step` says what to show (``prompt``), how typed text
becomes a value (``parse``, which raises ``ValueError`` or a domain error on bad input), and
what happens with the value (``handle``, which returns a :class:`Transition`). ``goes_to`` and
``starts`` declare the edges, so the graph is checked when the dialog is built (and can be
drawn) and every transition is checked against it when it happens.

Prompts and handlers receive a :class:`Context`; they never see a channel.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot.dialogs.model import Button, InputKind

if TYPE_CHECKING:
    from bot.dialogs.context import Context

__all__ = [
    "Button",
    "Dialog",
    "DialogError",
    "End",
    "Flow",
    "Next",
    "Prompt",
    "Replace",
    "Start",
    "Stay",
    "Step",
    "Transition",
]

S = TypeVar("S", bound=enum.Enum)
T = TypeVar("T")


class DialogError(Exception):
    """A dialog is declared wrongly (found when it is built, or when a transition breaks it)."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """What a step shows: text, buttons, files."""

    text: str
    choices: Sequence[Button] = ()
    attachments: Sequence[Any] = ()  # bot.dialogs.model.Attachment
    # The text with the secret it shows replaced (``Reply.kept_text``); None: it shows none.
    kept_text: str | None = None


# --- transitions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Next:
    """Go to another state of the same dialog and show its prompt."""

    state: enum.Enum


@dataclass(frozen=True, slots=True)
class Stay:
    """Stay at this step and show its prompt again (after whatever was said)."""

    prompt: bool = True


@dataclass(frozen=True, slots=True)
class End:
    """Finish the dialog; the one below it resumes (with ``result``), or the menu shows."""

    result: Any = None
    show_menu: bool = True


@dataclass(frozen=True, slots=True)
class Start:
    """Start another dialog on top of this one (``args`` become its data); when it ends, this
    dialog resumes at ``then`` (or stays where it is) and its ``resume`` hook gets the result."""

    dialog: str
    args: Mapping[str, Any] = field(default_factory=dict)
    then: enum.Enum | None = None


@dataclass(frozen=True, slots=True)
class Replace:
    """End this dialog and start another in its place (switching flows)."""

    dialog: str
    args: Mapping[str, Any] = field(default_factory=dict)


Transition = Next | Stay | End | Start | Replace

PromptFn = Callable[["Context"], Awaitable[Prompt | str] | Prompt | str]
# A parser returns the value (or an awaitable of it) or raises ValueError or a domain error.
ParseFn = Callable[["Context", str], "T | Awaitable[T]"]
HandleFn = Callable[["Context", T], Awaitable[Transition]]
ResumeFn = Callable[["Context", Any], Awaitable[Transition]]
EnterFn = Callable[["Context"], Awaitable[Transition | None]]


@dataclass(frozen=True, slots=True)
class Step(Generic[T]):
    """One state of a dialog, generic over the value its parser gives its handler (``str``
    for button values), so that mypy checks one against the other.

    Attributes:
        prompt: what to show on entering the state (and on re-prompting).
        handle: what to do with the value; None for a step that only shows (it takes no input:
            anything typed re-shows it).
        parse: turns typed text into the value; raises ``ValueError`` (its message is a
            translated reason) or a domain error. None means only the choices are accepted.
        example: a msgid showing a valid answer, added to the reason on bad input.
        secret: the input is a secret: masked by channels, deleted from Telegram, never logged
            and never analysed for another intent.
        input_kind: what kind of secret (``bot.dialogs.model.InputKind``; None: a password).
        goes_to: the states ``Next`` may go to from here.
        starts: the dialogs ``Start``/``Replace`` may open from here.
        resume: called with a started dialog's result when it ends (default: show the prompt).
        enter: on the initial step only: called when the dialog starts, with its arguments in
            ``ctx.data``; it may act on them (look up a receipt number given) and return a
            transition (``Next``, ``Start``, ...), or None to show the prompt. A domain error
            it raises is worded and the prompt shown.
        help: a msgid explaining this step, shown on "help".
    """

    prompt: PromptFn
    handle: HandleFn[T] | None = None
    parse: ParseFn[T] | None = None
    example: str | None = None
    secret: bool = False
    input_kind: InputKind | None = None
    goes_to: tuple[enum.Enum, ...] = ()
    starts: tuple[str, ...] = ()
    resume: ResumeFn | None = None
    enter: EnterFn | None = None
    help: str | None = None


@dataclass(frozen=True)
class Dialog(Generic[S]):
    """A dialog: its states, the first one, and a step for each.

    A flow declares here, once, everything the rest of the bot needs to know about it: the
    menu shows its ``title``, free text with its ``intent`` opens it (from the menu, or on top
    of a step of another flow that cannot read the text), and the registry lists it by
    ``name``.

    Attributes:
        name: stable id (persisted in conversations: never rename without a migration).
        sensitive: holds secrets or needs a signed-in user: it expires sooner when idle.
        title: msgid of its button on the menu; None keeps it off the menu.
        purpose: msgid naming what it does ("check a case status").
        intent: the free-text intent (``bot.understanding``) that leads here.
        refine: for free text that leads here, the name of a more precise flow the text asks
            for, or None ("I forgot my password" opens that flow, not the help that would ask).
        topic_action: the knowledge base's action (``bot/knowledge/topics.toml``) whose button
            starts this flow ("Check my case now"), or None.
        signed_out_only: its menu button shows only while the chat is signed out (sign in);
            signed in, "Sign out" takes its place, so the other buttons keep their numbers.
        signed_in_only: its menu button shows only while the chat is signed in, after every
            other button (Help and the rest keep their numbers).

    Raises:
        DialogError: a state without a step, a step of another enum, an edge to a state
            outside the dialog, or a state that cannot be reached from ``initial``.
    """

    name: str
    states: type[S]
    initial: S
    steps: Mapping[S, Step[Any]]
    sensitive: bool = False
    title: str | None = None
    purpose: str | None = None
    intent: str | None = None
    refine: Callable[[str], str | None] | None = None
    topic_action: str | None = None
    signed_out_only: bool = False
    signed_in_only: bool = False

    def __post_init__(self) -> None:
        missing = [s.name for s in self.states if s not in self.steps]
        if missing:
            raise DialogError(f"{self.name}: no step for {missing}")
        foreign = [s for s in self.steps if not isinstance(s, self.states)]
        if foreign or not isinstance(self.initial, self.states):
            raise DialogError(f"{self.name}: states of another enum: {foreign or [self.initial]}")
        for state, step in self.steps.items():
            bad = [t for t in step.goes_to if not isinstance(t, self.states)]
            if bad:
                raise DialogError(f"{self.name}.{state.name}: goes to foreign states {bad}")
        reachable = {self.initial}
        frontier = [self.initial]
        while frontier:
            for target in self.steps[frontier.pop()].goes_to:
                if target not in reachable:
                    reachable.add(target)  # type: ignore[arg-type]
                    frontier.append(target)  # type: ignore[arg-type]
        unreachable = [s.name for s in self.states if s not in reachable]
        if unreachable:
            raise DialogError(f"{self.name}: unreachable states {unreachable}")

    def step(self, state_value: str) -> tuple[S, Step[Any]]:
        """The state with this stored value and its step.

        Raises:
            DialogError: no such state (stored state from an older version).
        """
        try:
            state = self.states(state_value)
        except ValueError:
            raise DialogError(f"{self.name}: unknown state {state_value!r}") from None
        return state, self.steps[state]

    def edges(self) -> list[tuple[str, str]]:
        """Every declared edge as (from, to) names; dialogs started appear as ``dialog:name``."""
        out = []
        for state, step in self.steps.items():
            out += [(state.name, target.name) for target in step.goes_to]
            out += [(state.name, f"dialog:{name}") for name in step.starts]
        return out


@dataclass(frozen=True, slots=True)
class Flow:
    """A flow as the registry lists it: its name, and how its dialog is built once the name of
    every registered flow is known (flows start one another, and a flow offers a button
    towards another only when that one is registered).

    Attributes:
        name: the dialog's ``name``; the registry checks that ``build`` keeps it.
        build: makes the dialog, given the names of every registered flow.
    """

    name: str
    build: Callable[[Collection[str]], Dialog[Any]]

    @classmethod
    def of(cls, dialog: Dialog[Any]) -> Flow:
        """A flow whose dialog does not depend on which other flows exist."""
        return cls(dialog.name, lambda _available: dialog)
