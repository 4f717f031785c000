"""The real engine, on SQLite with the demo data, driven by hypothesis: random texts (unicode,
control characters, lone surrogates as a terminal may hand over, huge, empty), shown and
forged button payloads (other flows' values, stale prompt numbers, link payloads), interrupts,
language switches, sign-ins and sign-outs, clock jumps past the idle timeouts, and restarts.
After every turn:

- the turn answered (at least one reply) and never with the engine's catch-all apology, which
  means a flow crashed;
- the stored conversation loads: a stack with the menu at its root, every frame a registered
  dialog in one of its states, the locale supported, the prompt number the buttons carry.

Bounded in time (about 15-40 s here): a fixed number of examples and steps, no deadline (a turn may
wait for Argon2), and derandomized on CI (``CI=true``) so the lead's runs cannot flake; locally
each run explores new cases and hypothesis replays any failure it found.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from bot.dialogs.base import DialogError
from bot.dialogs.context import Services
from bot.dialogs.model import Turn
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.wording.i18n import LOCALES
from core.accounts.links import link_chat, unlink_chat
from core.accounts.otp import totp
from core.accounts.service import find_account_by_email
from core.conversations import Conversation
from core.db import Database
from core.demo import DEMO_BACKUP_CODE, DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer
from tests.fuzzing import examples

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CRASH = "Sorry, something went wrong"
CHANNELS = ("test", "web", "console")

words = st.sampled_from(
    [
        "menu", "back", "cancel", "help", "?", "language", "start over", "/start", "restart",
        "stop", "menú", "ayuda", "atrás", "菜单", "帮助", "меню", "назад", "مساعدة", "retour",
        "yes", "no", "sí", "oui", "네", "không", "1", "2", "3", "9", "0",
        "check my case", "book an appointment", "I forgot my password", "sign in",
        "my cases", "sign out", "change language", "en español",
        "WAC2212345678", "ioe-091-234-5679", "EAC2190012345", "LIN 23 900 01234", "A123456789",
        "AB12CD34EF56", "7K3Q-9WXM-2PLD", DEMO_EMAIL, "nobody@example.com", "not an email",
        DEMO_PASSWORD, "123456", "٤/٣", "3/4", "Wednesday", "9:30 AM", "14h", "上午9点",
        "Texas", "TX", "85004", "00000", "Phoenix", "maple",
    ]
)  # fmt: skip
texts = st.one_of(
    words,
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.text(alphabet="\x00\x01\x07\x1b\t\r\n\u200b\u202e\ufeff \ud800\udfff", max_size=20),
    st.text(alphabet=st.characters(categories=["Cs", "Co", "Cn", "Mn", "Zs"]), max_size=20),
    st.builds(lambda n, c: c * n, st.integers(1990, 2100), st.sampled_from("a9 😀")),
    st.just(""),
)
forged_values = st.one_of(
    st.sampled_from(
        [
            "g:menu", "g:help", "g:back", "g:lang", "g:restart", "g:switch", "g:stay",
            "g:setlang:es", "g:setlang:xx", "g:setlang:", "c:IOE0912345679", "c:WAC2212345678",
            "r:ABCD1234", "c:ABCD1234", "sub", "unsub", "book", "another", "yes", "no",
            "signin", "sign_out", "view", "keep", "forgot", "retry", "other_email",
            "my_cases|IOE0912345679", "appointments|", "case_status|WAC2212345678",
            "biometrics", "in_person", "o1", "o999999", "2026-03-04", "29560410", "-1", "",
        ]
    ),
    st.text(max_size=30),
)  # fmt: skip
links = st.sampled_from(
    [
        "go:book:biometrics", "go:book:in_person", "go:book:biometrics:IOE0912345679",
        "go:book:biometrics:WAC2212345678", "go:book:nothing", "go:book:biometrics:junk",
        "go:", "go:other:x", "go:book:biometrics:IOE0912345679:extra",
    ]
)  # fmt: skip


class EngineMachine(RuleBasedStateMachine):
    """One chat with the engine, on its own copy of a database holding the demo data, with its
    own clock: every example starts from the same world, so hypothesis can replay and shrink."""

    world: ClassVar[dict[str, Any]] = {}  # set by the test: the loop, the seeded file, a folder

    def __init__(self) -> None:
        super().__init__()
        self.loop: asyncio.AbstractEventLoop = self.world["loop"]
        self.world["examples"] += 1
        self.path: Path = self.world["folder"] / f"example-{self.world['examples']}.sqlite3"
        shutil.copyfile(self.world["seeded"], self.path)
        self.db = Database(f"sqlite+aiosqlite:///{self.path}")
        self.clock = FakeClock()
        self.uow_factory = UnitOfWorkFactory(self.db, self.clock)
        services = Services(uow_factory=self.uow_factory, mailer=FakeMailer(), clock=self.clock)
        self.engine = Engine(services, self.world["dialogs"])
        self.chat: FakeChat | None = None
        self.last: Turn | None = None

    def teardown(self) -> None:
        self.run(self.db.dispose())
        for leftover in self.path.parent.glob(f"{self.path.name}*"):
            leftover.unlink()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    @initialize(channel=st.sampled_from(CHANNELS), hint=st.sampled_from([None, "es", "zz", "ar"]))
    def open_chat(self, channel: str, hint: str | None) -> None:
        self.chat = FakeChat(self.engine, channel=channel, chat_id="prop-chat", locale_hint=hint)

    # --- what a person (or a forger) sends ----------------------------------------------------

    def _turn(self, turn: Turn) -> None:
        self.last = turn
        assert turn.duplicate or turn.replies, "a turn with no answer"
        text = "\n".join(reply.text for reply in turn.replies)
        assert CRASH not in text, f"a flow crashed; the engine apologised: {text!r}"
        for reply in turn.replies:
            for button in reply.buttons:
                assert len(button.payload.encode()) <= 64, button.payload  # Telegram's limit

    def _seq(self) -> str:
        if self.last is not None:
            for reply in self.last.replies:
                for button in reply.buttons:
                    return button.payload.partition(":")[0]
        return "0"

    @rule(text=texts)
    def send_text(self, text: str) -> None:
        assert self.chat is not None
        self._turn(self.run(self.chat.send(text)))

    @precondition(lambda self: self.last is not None and any(r.buttons for r in self.last.replies))
    @rule(index=st.integers(0, 63))
    def press_a_shown_button(self, index: int) -> None:
        assert self.chat is not None
        assert self.last is not None
        buttons = [b for r in self.last.replies for b in r.buttons]
        self._turn(self.run(self.chat.press_payload(buttons[index % len(buttons)].payload)))

    @rule(value=forged_values, stale=st.booleans())
    def press_a_forged_button(self, value: str, stale: bool) -> None:
        assert self.chat is not None
        seq = self._seq()
        if stale:
            seq = str(int(seq) - 1) if seq.isdigit() else "x"
        self._turn(self.run(self.chat.press_payload(f"{seq}:{value}")))

    @rule(payload=st.one_of(links, st.text(max_size=80)))
    def press_a_link_or_garbage(self, payload: str) -> None:
        assert self.chat is not None
        self._turn(self.run(self.chat.press_payload(payload)))

    @rule(locale=st.sampled_from([*LOCALES, "pt-BR", "xx"]))
    def switch_language(self, locale: str) -> None:
        assert self.chat is not None
        self._turn(self.run(self.chat.press_payload(f"{self._seq()}:g:setlang:{locale}")))

    @rule(code_kind=st.sampled_from(["totp", "backup", "wrong"]))
    def sign_in_through_the_flow(self, code_kind: str) -> None:
        assert self.chat is not None
        for text in ("menu", "sign in", DEMO_EMAIL, DEMO_PASSWORD):
            self._turn(self.run(self.chat.send(text)))
        code = {
            "totp": totp(DEMO_TOTP_SECRET, self.clock.now()),
            "backup": DEMO_BACKUP_CODE,
            "wrong": "000000",
        }[code_kind]
        self._turn(self.run(self.chat.send(code)))

    @rule(signed_in=st.booleans())
    def link_or_unlink_behind_the_chat(self, signed_in: bool) -> None:
        """Another device signs the account in or out between turns."""
        assert self.chat is not None
        self.run(self._link(signed_in))

    async def _link(self, signed_in: bool) -> None:
        assert self.chat is not None
        async with self.uow_factory() as uow:
            if signed_in:
                found = await find_account_by_email(uow, DEMO_EMAIL)
                assert found is not None
                await link_chat(uow, found.id, self.chat.channel, self.chat.chat_id)
            else:
                await unlink_chat(uow, self.chat.channel, self.chat.chat_id)
            await uow.commit()

    @rule(minutes=st.sampled_from([1, 10, 14, 16, 30, 61, 60 * 25, 60 * 24 * 40]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule()
    def restart_the_process(self) -> None:
        """A new engine on the same database continues the chat (the state is all stored)."""
        assert self.chat is not None
        services = self.engine.services
        self.chat.engine = Engine(
            Services(uow_factory=services.uow_factory, mailer=services.mailer, clock=self.clock),
            all_dialogs(),
        )

    # --- what must always hold ----------------------------------------------------------------

    @invariant()
    def the_stored_conversation_is_valid(self) -> None:
        if self.chat is None or self.last is None:
            return
        conversation = self.run(self._stored())
        assert conversation is not None
        assert conversation.locale is None or conversation.locale in LOCALES
        stack = (conversation.state or {}).get("stack")
        assert isinstance(stack, list), conversation.state
        assert stack, conversation.state
        assert stack[0]["d"] == "menu", stack
        for frame in stack:
            dialog = self.engine.dialogs.get(frame["d"])
            assert dialog is not None, frame
            try:
                dialog.step(frame["s"])
            except DialogError as error:
                raise AssertionError(f"stored state {frame} is not a state: {error}") from None
            assert isinstance(frame.get("data", {}), dict)
        prefixes = {b.payload.partition(":")[0] for r in self.last.replies for b in r.buttons}
        if prefixes and not self.last.duplicate:
            assert prefixes == {str(conversation.prompt_seq)}, (prefixes, conversation.prompt_seq)

    async def _stored(self) -> Conversation | None:
        assert self.chat is not None
        async with self.uow_factory() as uow:
            found: Conversation | None = await uow.session.scalar(
                select(Conversation).where(
                    Conversation.channel == self.chat.channel,
                    Conversation.chat_id == self.chat.chat_id,
                )
            )
            return found


def test_the_engine_answers_every_turn_and_keeps_a_valid_state(
    sqlite_template: Path, tmp_path: Path
) -> None:
    seeded = tmp_path / "seeded.sqlite3"
    shutil.copyfile(sqlite_template, seeded)
    loop = asyncio.new_event_loop()

    async def load() -> None:
        db = Database(f"sqlite+aiosqlite:///{seeded}")
        await load_demo(UnitOfWorkFactory(db, FakeClock()))
        await db.dispose()  # the file is whole (no write-ahead log left) before it is copied

    try:
        loop.run_until_complete(load())
        EngineMachine.world = {
            "loop": loop,
            "seeded": seeded,
            "folder": tmp_path,
            "dialogs": all_dialogs(),
            "examples": 0,
        }
        machine = settings(
            max_examples=examples(100),
            stateful_step_count=40,
            deadline=None,
            derandomize=ON_CI,
            database=None if ON_CI else settings.default.database,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )(EngineMachine)
        machine.TestCase().runTest()
    finally:
        EngineMachine.world = {}
        loop.close()
