"""The terminal channel: ``casebot chat``. Buttons become a numbered list; type the number or
the label. Secret steps say in words that what is typed stays hidden, and read the input
without echo when the terminal allows it. Lines are broken between words to fit the terminal
(``bot.channels.terminal_text``): ``COLUMNS`` if set, else the terminal's width; output that
goes to a file or a pipe is not broken.

What the outbox has for the terminal's chat (an agent joined the chat, wrote, passed it on,
ended it; the answer to a secure message; a case update) shows while the person chats: the
terminal runs the outbox dispatcher for its own chat alone (``TerminalSender``), and a message
that comes while the prompt waits is printed above a fresh prompt."""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TextIO

from bot.channels.terminal_text import wrap
from bot.dialogs.model import Incoming, Reply, Turn
from bot.engine import Engine
from bot.notify.dispatcher import OutboxDispatcher
from bot.notify.senders import ExternalSender
from bot.wording.i18n import translator

__all__ = ["TerminalSender", "render", "run_console"]

CHANNEL = "console"


def terminal_width(stdout: TextIO) -> int | None:
    """The columns to fill: ``COLUMNS`` if set, else the terminal's; None for a file or pipe."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if stdout.isatty():
            return shutil.get_terminal_size().columns
    except (OSError, ValueError):
        pass
    return None


def secret_prompt(turn: Turn) -> str:
    """What a secret step shows before the input: in words, that the typing stays hidden."""
    _ = translator(turn.locale)._
    return _(
        "Type your answer, then press Enter. It stays hidden: nothing shows on the screen as "
        "you type."
    )


def render(turn: Turn, attachments_dir: Path, width: int | None = None) -> str:
    """A turn as terminal text: replies, numbered buttons, saved attachments; lines broken
    between words to fit ``width`` columns (None: not broken)."""
    return render_replies(turn.replies, attachments_dir, width)


def render_replies(replies: Sequence[Reply], attachments_dir: Path, width: int | None) -> str:
    lines: list[str] = []
    for reply in replies:
        lines.append(reply.text)
        lines += [f"  {n}. {b.label}" for n, b in enumerate(reply.buttons, start=1)]
        for attachment in reply.attachments:
            attachments_dir.mkdir(parents=True, exist_ok=True)
            path = attachments_dir / attachment.name
            path.write_bytes(attachment.data)
            lines.append(f"  [{attachment.kind}: {path}]")
        lines.append("")
    return wrap("\n".join(lines), width)


class TerminalSender(ExternalSender):
    """The outbox's sender for one terminal's chat: shows each message in the terminal.

    Args:
        chat_id: the terminal's chat (only its rows are sent; another terminal on the same
            database sends its own).
        show: prints a message (between the chat's turns).
    """

    channel = CHANNEL
    exclusive = False  # every terminal sends its own chat

    def __init__(self, chat_id: str, show: Callable[[Reply], Awaitable[None]]) -> None:
        self.address = chat_id
        self._show = show

    async def send(self, address: str, reply: Reply) -> None:
        await self._show(reply)


def _buttons_of(turn: Turn) -> dict[str, str]:
    """Numbers of the last reply that has buttons, and labels of every reply (the newest
    wins: "Write a message" above the menu can be typed), to the buttons' payloads."""
    return _buttons_of_replies(turn.replies)


def _buttons_of_replies(replies: Sequence[Reply]) -> dict[str, str]:
    table = {b.label.casefold(): b.payload for reply in replies for b in reply.buttons}
    for reply in reversed(replies):
        if reply.buttons:
            table.update({str(n): b.payload for n, b in enumerate(reply.buttons, start=1)})
            table.update({b.label.casefold(): b.payload for b in reply.buttons})
            break
    return table


async def run_console(
    engine: Engine,
    *,
    chat_id: str | None = None,
    locale: str | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    attachments_dir: Path = Path("var/attachments"),
    read_secret: Callable[[str], str] | None = None,
    notifications: bool = True,
) -> None:
    """Chat in the terminal until end of input (Ctrl-D); with ``notifications``, what the
    outbox has for this chat shows as it comes."""
    chat_id = chat_id or f"console:{getpass.getuser()}"
    if locale:
        await engine.set_locale(CHANNEL, chat_id, locale)
    interactive = stdin.isatty()
    secret_reader = read_secret or (getpass.getpass if interactive else None)
    locale_hint = locale or os.environ.get("LANG", "").split(".")[0] or None
    output = asyncio.Lock()  # a turn's answer and a notification are never mixed
    # The numbered buttons on screen (the newest message that has any), and the prompt that
    # waits for input ("" while a turn runs or a secret is read).
    buttons: dict[str, str] = {}
    waiting = ""

    async def send(incoming: Incoming) -> Turn:
        nonlocal buttons
        async with output:
            turn = await engine.handle(incoming)
            stdout.write(render(turn, attachments_dir, terminal_width(stdout)))
            stdout.flush()
            buttons = _buttons_of(turn)
        return turn

    async def show(reply: Reply) -> None:
        nonlocal buttons
        async with output:
            text = render_replies([reply], attachments_dir, terminal_width(stdout))
            stdout.write(("\n" if waiting else "") + text + waiting)
            stdout.flush()
            buttons = _buttons_of_replies([reply]) or buttons

    dispatcher = None
    if notifications:
        services = engine.services
        dispatcher = OutboxDispatcher(
            services.uow_factory, services.clock, [TerminalSender(chat_id, show)]
        )
    turn = await send(Incoming(CHANNEL, chat_id, text="", locale_hint=locale_hint))
    if dispatcher is not None:
        dispatcher.start()
    try:
        while True:
            asks_secret = bool(turn.replies) and turn.replies[-1].secret_input
            prompt = "> "
            if asks_secret:
                prompt = wrap(secret_prompt(turn), terminal_width(stdout)) + "\n🔒 "
            try:
                if asks_secret and secret_reader is not None:
                    line = await asyncio.to_thread(secret_reader, prompt)
                else:
                    async with output:
                        stdout.write(prompt)
                        stdout.flush()
                        waiting = prompt
                    try:
                        line = await asyncio.to_thread(stdin.readline)
                    finally:
                        waiting = ""
                    if line == "":
                        raise EOFError
            except (EOFError, KeyboardInterrupt):
                stdout.write("\n")
                return
            text = line.strip()
            # Typing a number or a label answers the newest buttons, as pressing them would.
            payload = buttons.get(text.casefold()) if text else None
            if payload is not None:
                incoming = Incoming(CHANNEL, chat_id, payload=payload, locale_hint=locale_hint)
            else:
                incoming = Incoming(CHANNEL, chat_id, text=text, locale_hint=locale_hint)
            turn = await send(incoming)
    finally:
        if dispatcher is not None:
            await dispatcher.stop()
