"""Adding a flow is one module plus one line in the registry: the menu's button, the free text
that opens it, the switch offer that names it and the names other flows may start all come from
what the flow declares, so nothing else is edited."""

from __future__ import annotations

import ast
import enum
from pathlib import Path

from bot.dialogs.base import Dialog, End, Flow, Step, Transition
from bot.dialogs.context import Context, Services
from bot.dialogs.registry import FLOWS, build_dialogs
from bot.engine import Engine
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

BOT = Path(__file__).resolve().parents[2] / "bot"


# --- what the new module holds ---------------------------------------------------------------


class Greeter(enum.Enum):
    HELLO = "hello"


async def _handle(ctx: Context, value: str) -> Transition:
    return End()


GREETER = Dialog(
    name="greeter",
    states=Greeter,
    initial=Greeter.HELLO,
    title="Say hello",
    purpose="say hello",
    intent="greeting",
    steps={Greeter.HELLO: Step(prompt=lambda ctx: "Hello from the new flow!", handle=_handle)},
)

# --- and the one line of the registry --------------------------------------------------------

WITH_GREETER = (*FLOWS, Flow.of(GREETER))


def _chat(uow_factory: UnitOfWorkFactory, clock: FakeClock, chat_id: str = "chat-1") -> FakeChat:
    engine = Engine(Services(uow_factory, FakeMailer(), clock), build_dialogs(WITH_GREETER))
    return FakeChat(engine, chat_id=chat_id)


async def test_a_new_flow_gets_its_menu_button(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = _chat(uow_factory, clock)
    await chat.send("menu")
    assert "Say hello" in chat.buttons
    await chat.press("Say hello")
    assert "Hello from the new flow!" in chat.text


async def test_free_text_with_its_intent_opens_it_from_the_menu(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = _chat(uow_factory, clock)
    await chat.send("menu")
    await chat.send("hello")
    assert "Hello from the new flow!" in chat.text


async def test_free_text_with_its_intent_opens_it_elsewhere_and_back_returns(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    chat = _chat(uow_factory, clock)
    await chat.send("menu")
    await chat.press("Check a case status")
    await chat.send("hello")
    assert "Hello from the new flow!" in chat.text
    await chat.press("Back")
    assert "Please type your receipt number" in chat.text


def test_the_menu_may_start_every_registered_flow() -> None:
    menu = build_dialogs(WITH_GREETER)["menu"]
    assert set(menu.steps[menu.initial].starts) == {flow.name for flow in WITH_GREETER} | {
        "language"
    }


def test_the_registry_lists_each_flow_on_one_line() -> None:
    tree = ast.parse((BOT / "dialogs" / "registry.py").read_text(encoding="utf-8"))
    (flows,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign) and ast.unparse(node.target) == "FLOWS"
    ]
    assert isinstance(flows, ast.Tuple)
    assert len(flows.elts) == len(FLOWS)
    assert all(isinstance(item, ast.Attribute) and item.attr == "FLOW" for item in flows.elts)
    assert len({item.lineno for item in flows.elts}) == len(FLOWS)


def test_no_module_outside_a_flow_names_the_flows() -> None:
    """The menu and the engine know no flow by name: they read what the dialogs declare."""
    shared = [BOT / "dialogs" / "menu.py", *sorted((BOT / "engine").glob("*.py"))]
    for path in shared:
        strings = {
            node.value
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        }
        named = sorted(strings & {flow.name for flow in FLOWS})
        assert named == [], f"{path.name} names {named}"
