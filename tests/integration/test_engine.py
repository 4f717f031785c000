"""The engine's shared behaviour, on a small dialog made for the test (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.dialogs.base import (
    Button,
    Dialog,
    DialogError,
    End,
    Next,
    Prompt,
    Start,
    Stay,
    Step,
    Transition,
)
from bot.dialogs.context import Context, Services
from bot.dialogs.language import language_dialog
from bot.dialogs.model import Incoming, Turn
from bot.engine import AdmitHook, Engine, EngineConfig
from bot.wording.i18n import N_
from core import ratelimit
from core.conversations import Conversation
from core.ports import OutgoingMail
from core.uow import UnitOfWork, UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer


class Root(enum.Enum):
    MAIN = "main"


class Toy(enum.Enum):
    NUMBER = "number"
    COLOUR = "colour"
    PIN = "pin"
    DONE = "done"


class Child(enum.Enum):
    ONLY = "only"


class Counter(enum.Enum):
    COUNT = "count"


def _root() -> Dialog[Root]:
    async def handle(ctx: Context, value: str) -> Transition:
        return Start(value)

    return Dialog(
        name="menu",
        states=Root,
        initial=Root.MAIN,
        steps={
            Root.MAIN: Step(
                prompt=lambda ctx: Prompt("Main menu", [Button("Play", "case_status"),
                                                        Button("Count", "counter")]),
                handle=handle,
                starts=("case_status", "counter", "account_help"),
            )
        },
    )  # fmt: skip


def _parse_number(ctx: Context, text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 10:
        raise ValueError(ctx._("Please type a number from 1 to 10."))
    return int(text)


async def _got_number(ctx: Context, value: int) -> Transition:
    ctx.data["number"] = value
    return Next(Toy.COLOUR)


async def _got_colour(ctx: Context, value: str) -> Transition:
    if value == "boom":
        raise RuntimeError("a bug in a handler")
    if value == "child":
        return Start("child", then=Toy.PIN)
    if value == "illegal":
        return Next(Toy.DONE)  # not declared: a bug the engine must catch
    ctx.data["colour"] = value
    return Next(Toy.PIN)


async def _got_pin(ctx: Context, value: str) -> Transition:
    ctx.send_mail(OutgoingMail(to="ana@example.com", subject="PIN", body="PIN changed"))
    return Next(Toy.DONE)


async def _resumed(ctx: Context, result: Any) -> Transition:
    ctx.data["child_said"] = result
    return Stay()


def _toy() -> Dialog[Toy]:
    return Dialog(
        name="case_status",
        intent="case_status",  # free text asking for a case status leads here
        states=Toy,
        initial=Toy.NUMBER,
        steps={
            Toy.NUMBER: Step(
                prompt=lambda ctx: "Pick a number",
                parse=_parse_number,
                handle=_got_number,
                example=N_("7"),
                goes_to=(Toy.COLOUR,),
                help=N_("Any number from 1 to 10 will do."),
            ),
            Toy.COLOUR: Step(
                prompt=lambda ctx: Prompt("Pick a colour", [Button("Red", "red"),
                                                             Button("Blue", "blue"),
                                                             Button("Child", "child"),
                                                             Button("Boom", "boom"),
                                                             Button("Illegal", "illegal")]),
                handle=_got_colour,
                goes_to=(Toy.PIN,),
                starts=("child",),
            ),
            Toy.PIN: Step(
                prompt=lambda ctx: f"Your PIN please (child said {ctx.data.get('child_said')})",
                parse=lambda ctx, text: text,
                handle=_got_pin,
                secret=True,
                goes_to=(Toy.DONE,),
                resume=_resumed,
            ),
            Toy.DONE: Step(prompt=lambda ctx: f"Done: {ctx.data}"),
        },
        sensitive=True,
    )  # fmt: skip


def _child() -> Dialog[Child]:
    async def handle(ctx: Context, value: str) -> Transition:
        return End(result="hello from the child")

    return Dialog(
        name="child",
        states=Child,
        initial=Child.ONLY,
        steps={Child.ONLY: Step(prompt=lambda ctx: Prompt("Child step", [Button("Finish", "f")]),
                                handle=handle)},
    )  # fmt: skip


def _counter() -> Dialog[Counter]:
    async def handle(ctx: Context, value: str) -> Transition:
        ctx.data["n"] = ctx.data.get("n", 0) + 1
        await asyncio.sleep(0)  # let other turns of the same chat try to interleave
        return Stay()

    return Dialog(
        name="counter",
        states=Counter,
        initial=Counter.COUNT,
        steps={Counter.COUNT: Step(prompt=lambda ctx: "Count", parse=lambda c, t: t,
                                   handle=handle)},
    )  # fmt: skip


def _engine(uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock) -> Engine:
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock)
    dialogs: dict[str, Dialog[Any]] = {
        "menu": _root(),
        "language": language_dialog,
        "case_status": _toy(),
        "child": _child(),
        "counter": _counter(),
        "account_help": Dialog(
            name="account_help",
            intent="password_reset",  # for switch offers
            purpose=N_("get help with your password or sign-in"),
            states=Child,
            initial=Child.ONLY,
            steps={Child.ONLY: Step(prompt=lambda ctx: "Password help here")},
        ),
    }
    return Engine(services, dialogs, EngineConfig())


@pytest.fixture
def toy_chat(uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock) -> FakeChat:
    return FakeChat(_engine(uow_factory, mailer, clock))


async def _at_colour(chat: FakeChat) -> None:
    await chat.send("hello")
    await chat.press("Play")
    await chat.send("7")
    assert "Pick a colour" in chat.text


async def _stored_state(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> dict[str, Any]:
    async with uow_factory() as uow:
        conversation = await uow.session.scalar(
            select(Conversation).where(Conversation.chat_id == chat.chat_id)
        )
        assert conversation is not None
        return dict(conversation.state)


async def test_typing_a_label_or_its_number_is_pressing_the_button(toy_chat: FakeChat) -> None:
    await _at_colour(toy_chat)
    await toy_chat.send("blue")
    assert "Your PIN please" in toy_chat.text
    await toy_chat.send("back")
    assert "Pick a colour" in toy_chat.text
    await toy_chat.send("1")
    assert "Your PIN please" in toy_chat.text


async def test_a_button_from_an_old_message_says_the_menu_expired(toy_chat: FakeChat) -> None:
    await toy_chat.send("hello")
    old_play = toy_chat.button("Play")
    await toy_chat.press("Play")
    await toy_chat.send("7")
    await toy_chat.press_payload(old_play.payload)
    assert "This menu has expired" in toy_chat.text
    assert "Pick a colour" in toy_chat.text


async def test_a_press_sent_twice_leaves_the_buttons_it_answered_working(
    toy_chat: FakeChat,
) -> None:
    # A double tap, or a press sent again after its answer was lost: the second copy finds
    # the menu expired and shows where the conversation is, changing nothing, so the
    # buttons of the first answer (the ones the person may be looking at) still work.
    await toy_chat.send("hello")
    play = toy_chat.button("Play")
    await toy_chat.press("Play")
    first_answer = {label: toy_chat.button(label).payload for label in toy_chat.buttons}
    await toy_chat.press_payload(play.payload)
    assert "This menu has expired" in toy_chat.text
    assert {toy_chat.button(label).payload for label in toy_chat.buttons} == set(
        first_answer.values()
    )
    await toy_chat.press_payload(first_answer["Back"])
    assert "This menu has expired" not in toy_chat.text
    assert "Play" in toy_chat.buttons


async def test_bad_input_gives_a_reason_and_an_example_then_escalates_after_three(
    toy_chat: FakeChat,
) -> None:
    await toy_chat.send("hello")
    await toy_chat.press("Play")
    await toy_chat.send("eleven")
    assert "Please type a number from 1 to 10." in toy_chat.text
    assert "For example: 7" in toy_chat.text
    assert "Contact Center" not in toy_chat.text
    await toy_chat.send("twelve")
    await toy_chat.send("zero")
    assert "1-800-375-5283" in toy_chat.text
    assert {"Help", "Menu"} <= set(toy_chat.buttons)
    assert "Pick a number" in toy_chat.text  # and the step is still asked


async def test_help_explains_the_step_and_asks_again(toy_chat: FakeChat) -> None:
    await toy_chat.send("hello")
    await toy_chat.press("Play")
    await toy_chat.send("help")
    assert "Any number from 1 to 10 will do." in toy_chat.text
    assert toy_chat.text.rstrip().endswith("Pick a number")


async def test_menu_and_back_work_at_any_step(toy_chat: FakeChat) -> None:
    await _at_colour(toy_chat)
    await toy_chat.press("Back")
    assert "Pick a number" in toy_chat.text
    await toy_chat.send("MENU")
    assert "Main menu" in toy_chat.text


async def test_changing_language_shows_the_current_step_again(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await _at_colour(toy_chat)
    await toy_chat.send("language")
    assert "Español" in toy_chat.buttons
    await toy_chat.press("Español")
    assert "Pick a colour" in toy_chat.text
    assert toy_chat.turn.locale == "es"
    async with uow_factory() as uow:
        locale = await uow.session.scalar(select(Conversation.locale))
    assert locale == "es"


async def test_free_text_asking_for_another_flow_goes_there_and_back_returns(
    toy_chat: FakeChat,
) -> None:
    await toy_chat.send("hello")
    await toy_chat.press("Play")
    await toy_chat.send("I forgot my password")
    assert "Shall we switch" not in toy_chat.text
    assert "Password help here" in toy_chat.text
    await toy_chat.press("Back")
    assert "Pick a number" in toy_chat.text


async def test_no_switch_is_offered_for_the_flow_already_running(toy_chat: FakeChat) -> None:
    await toy_chat.send("hello")
    await toy_chat.press("Play")
    await toy_chat.send("check my case status please")  # this toy flow is "case_status"
    assert "Shall we switch" not in toy_chat.text
    assert "Please type a number from 1 to 10." in toy_chat.text


async def test_a_secret_step_is_flagged_and_the_secret_is_not_stored(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _at_colour(toy_chat)
    await toy_chat.press("Red")
    assert toy_chat.asks_secret
    turn = await toy_chat.send("s3cret-pin-4411")
    assert turn.input_was_secret
    assert "Done" in toy_chat.text
    assert "s3cret-pin-4411" not in str(await _stored_state(uow_factory, toy_chat))
    assert "s3cret-pin-4411" not in caplog.text


async def test_mail_is_sent_only_after_the_turn_commits(
    toy_chat: FakeChat, mailer: FakeMailer
) -> None:
    await _at_colour(toy_chat)
    await toy_chat.press("Red")
    await toy_chat.send("1234")
    assert [m.subject for m in mailer.sent] == ["PIN"]


async def test_a_failing_mail_server_does_not_break_the_conversation(
    toy_chat: FakeChat, mailer: FakeMailer
) -> None:
    mailer.fail = True
    await _at_colour(toy_chat)
    await toy_chat.press("Red")
    await toy_chat.send("1234")
    assert "Done" in toy_chat.text


async def test_a_started_flow_returns_to_the_one_that_started_it(toy_chat: FakeChat) -> None:
    await _at_colour(toy_chat)
    await toy_chat.press("Child")
    assert "Child step" in toy_chat.text
    await toy_chat.press("Finish")
    assert "child said hello from the child" in toy_chat.text


async def test_a_bug_in_a_handler_is_an_apology_and_the_turn_is_rolled_back(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await _at_colour(toy_chat)
    before = await _stored_state(uow_factory, toy_chat)
    await toy_chat.press("Boom")
    assert "Sorry, something went wrong" in toy_chat.text
    assert await _stored_state(uow_factory, toy_chat) == before
    await toy_chat.send("Red")  # the conversation goes on where it was
    assert "Your PIN please" in toy_chat.text


async def test_an_undeclared_transition_is_caught(
    toy_chat: FakeChat, caplog: pytest.LogCaptureFixture
) -> None:
    await _at_colour(toy_chat)
    await toy_chat.press("Illegal")
    assert "Sorry, something went wrong" in toy_chat.text
    assert "may not go to" in caplog.text


async def test_an_idle_sensitive_flow_expires_by_timestamp(
    toy_chat: FakeChat, clock: FakeClock
) -> None:
    await _at_colour(toy_chat)
    clock.advance(minutes=16)
    await toy_chat.send("Red")
    assert "timed out" in toy_chat.text
    assert "Main menu" in toy_chat.text


async def test_a_restart_resumes_every_conversation_at_its_step(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    await _at_colour(toy_chat)
    restarted = FakeChat(_engine(uow_factory, mailer, clock), chat_id=toy_chat.chat_id)
    await restarted.send("Blue")
    assert "Your PIN please" in restarted.text


async def test_an_update_delivered_twice_is_handled_once(toy_chat: FakeChat) -> None:
    await toy_chat.send("hello", update_id=100)
    first = await toy_chat.send("x", update_id=101)
    again = await toy_chat.send("x", update_id=101)
    assert not first.duplicate
    assert again.duplicate
    assert again.replies == []


async def test_turns_of_one_chat_never_interleave(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await toy_chat.send("hello")
    await toy_chat.press("Count")
    await asyncio.gather(*(toy_chat.send(f"tick {n}") for n in range(20)))
    state = await _stored_state(uow_factory, toy_chat)
    assert state["stack"][-1]["data"]["n"] == 20


def test_a_dialog_with_an_unreachable_state_is_refused_when_built() -> None:
    class Broken(enum.Enum):
        A = "a"
        B = "b"

    with pytest.raises(DialogError, match="unreachable"):
        Dialog(name="broken", states=Broken, initial=Broken.A,
               steps={Broken.A: Step(prompt=lambda ctx: "a"),
                      Broken.B: Step(prompt=lambda ctx: "b")})  # fmt: skip


def test_an_engine_whose_dialog_starts_an_unknown_one_is_refused(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock)
    with pytest.raises(DialogError, match="starts unknown"):
        Engine(services, {"menu": _root(), "language": language_dialog})


async def test_a_secret_is_never_read_as_a_button_number_and_keeps_its_spaces(
    toy_chat: FakeChat, mailer: FakeMailer
) -> None:
    await _at_colour(toy_chat)
    await toy_chat.press("Red")
    assert toy_chat.asks_secret
    await toy_chat.send("1")  # "1" would be the first button ("Back") at an ordinary step
    assert "Done" in toy_chat.text
    assert mailer.sent  # the PIN step's handler ran


def test_a_typed_time_matches_a_label_with_cldr_spacing() -> None:
    from bot.dialogs.base import Button
    from bot.engine.matching import match_choice as _match_choice

    shown = [Button("9:00\u202fAM", "a"), Button("9:30\u202fAM", "b")]
    assert _match_choice("9:30 am", shown) == "b"
    assert _match_choice("2", shown) == "b"
    assert _match_choice("2", shown, numbers=False) is None


# --- the admit hook: a channel's own checks in the turn's transaction --------------------------

_ADMIT_KEY = "test:admitted"
_ADMIT_WINDOW = timedelta(minutes=1)


async def _admitted_count(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        return (await ratelimit.usage(uow, _ADMIT_KEY, window=_ADMIT_WINDOW)).count


def _counting_admit(*, refuse: bool = False, hint: str | None = None) -> AdmitHook:
    async def admit(uow: UnitOfWork, incoming: Incoming) -> Incoming | None:
        await ratelimit.increment(uow, _ADMIT_KEY, window=_ADMIT_WINDOW)
        return None if refuse else dataclasses.replace(incoming, locale_hint=hint)

    return admit


async def _press_play(
    chat: FakeChat, uow_factory: UnitOfWorkFactory, admit: AdmitHook
) -> tuple[dict[str, Any], Turn]:
    """At the menu, press "Play" through ``admit``; the state before and the turn."""
    await chat.send("hello")
    before = await _stored_state(uow_factory, chat)
    play = Incoming(chat.channel, chat.chat_id, payload=chat.button("Play").payload)
    return before, await chat.engine.handle(play, admit=admit)


async def test_an_admitted_message_is_one_transaction_with_its_turn(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    before, turn = await _press_play(toy_chat, uow_factory, _counting_admit(hint="es"))
    assert not turn.refused
    assert "Pick a number" in turn.replies[-1].text
    assert await _admitted_count(uow_factory) == 1
    assert await _stored_state(uow_factory, toy_chat) != before
    # What admit returned is what the turn handled: its hint chose the language.
    fresh = Incoming(toy_chat.channel, "chat-hinted", text="hello")
    assert (await toy_chat.engine.handle(fresh, admit=_counting_admit(hint="es"))).locale == "es"


async def test_a_refused_message_keeps_what_admit_wrote_and_runs_no_turn(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    before, turn = await _press_play(toy_chat, uow_factory, _counting_admit(refuse=True))
    assert turn.refused
    assert turn.replies == []
    assert await _admitted_count(uow_factory) == 1
    assert await _stored_state(uow_factory, toy_chat) == before


async def test_what_admit_raises_propagates_and_nothing_is_kept(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    class Unauthorized(Exception):
        pass

    async def admit(uow: UnitOfWork, incoming: Incoming) -> Incoming | None:
        await ratelimit.increment(uow, _ADMIT_KEY, window=_ADMIT_WINDOW)
        raise Unauthorized()

    with pytest.raises(Unauthorized):
        await toy_chat.engine.handle(Incoming(toy_chat.channel, "chat-x", text="hi"), admit=admit)
    assert await _admitted_count(uow_factory) == 0


async def test_a_failing_turn_undoes_what_admit_wrote_with_it(
    toy_chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await _at_colour(toy_chat)
    boom = toy_chat.button("Boom").payload
    incoming = Incoming(toy_chat.channel, toy_chat.chat_id, payload=boom)
    turn = await toy_chat.engine.handle(incoming, admit=_counting_admit())
    assert turn.failed
    assert "Sorry, something went wrong" in turn.replies[0].text
    assert await _admitted_count(uow_factory) == 0
