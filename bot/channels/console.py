"""The terminal channel: ``casebot chat``. Buttons become a numbered list; type the number or
the label. Secret steps say in words that what is typed stays hidden, and read the input
without echo when the terminal allows it. Lines are broken between words to fit the terminal
(``bot.channels.terminal_text``): ``COLUMNS`` if set, else the terminal's width; output that
goes to a file or a pipe is not broken."""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.channels.terminal_text import wrap
from bot.dialogs.model import Incoming, Turn
from bot.engine import Engine
from bot.wording.i18n import translator

__all__ = ["render", "run_console"]

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
    lines: list[str] = []
    for reply in turn.replies:
        lines.append(reply.text)
        lines += [f"  {n}. {b.label}" for n, b in enumerate(reply.buttons, start=1)]
        for attachment in reply.attachments:
            attachments_dir.mkdir(parents=True, exist_ok=True)
            path = attachments_dir / attachment.name
            path.write_bytes(attachment.data)
            lines.append(f"  [{attachment.kind}: {path}]")
        lines.append("")
    return wrap("\n".join(lines), width)


def _buttons_of(turn: Turn) -> dict[str, str]:
    """Numbers and labels of the last reply that has buttons, to the buttons' payloads."""
    for reply in reversed(turn.replies):
        if reply.buttons:
            table = {str(n): b.payload for n, b in enumerate(reply.buttons, start=1)}
            table.update({b.label.casefold(): b.payload for b in reply.buttons})
            return table
    return {}


async def run_console(
    engine: Engine,
    *,
    chat_id: str | None = None,
    locale: str | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    attachments_dir: Path = Path("var/attachments"),
    read_secret: Callable[[str], str] | None = None,
) -> None:
    """Chat in the terminal until end of input (Ctrl-D)."""
    chat_id = chat_id or f"console:{getpass.getuser()}"
    if locale:
        await engine.set_locale(CHANNEL, chat_id, locale)
    interactive = stdin.isatty()
    secret_reader = read_secret or (getpass.getpass if interactive else None)
    locale_hint = locale or os.environ.get("LANG", "").split(".")[0] or None

    async def send(incoming: Incoming) -> Turn:
        turn = await engine.handle(incoming)
        stdout.write(render(turn, attachments_dir, terminal_width(stdout)))
        stdout.flush()
        return turn

    turn = await send(Incoming(CHANNEL, chat_id, text="", locale_hint=locale_hint))
    while True:
        asks_secret = bool(turn.replies) and turn.replies[-1].secret_input
        prompt = "> "
        if asks_secret:
            prompt = wrap(secret_prompt(turn), terminal_width(stdout)) + "\n🔒 "
        try:
            if asks_secret and secret_reader is not None:
                line = await asyncio.to_thread(secret_reader, prompt)
            else:
                stdout.write(prompt)
                stdout.flush()
                line = await asyncio.to_thread(stdin.readline)
                if line == "":
                    raise EOFError
        except (EOFError, KeyboardInterrupt):
            stdout.write("\n")
            return
        text = line.strip()
        # Typing a number or a label answers the newest buttons, as pressing them would.
        payload = _buttons_of(turn).get(text.casefold()) if text else None
        if payload is not None:
            turn = await send(Incoming(CHANNEL, chat_id, payload=payload, locale_hint=locale_hint))
        else:
            turn = await send(Incoming(CHANNEL, chat_id, text=text, locale_hint=locale_hint))
