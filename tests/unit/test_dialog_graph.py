"""The drawing of the dialogs (docs/dialogs.md) is made from the edges they declare, and is
current: a changed flow whose drawing was not regenerated fails here."""

from __future__ import annotations

from pathlib import Path

from bot.dialogs.graph import dialogs_markdown, mermaid
from bot.dialogs.registry import all_dialogs

ROOT = Path(__file__).resolve().parents[2]


def test_the_drawing_of_the_dialogs_is_current() -> None:
    drawn = (ROOT / "docs" / "dialogs.md").read_text(encoding="utf-8")
    assert drawn == dialogs_markdown(all_dialogs()), "run: python scripts/dialog_graph.py"


def test_every_declared_edge_is_drawn() -> None:
    for dialog in all_dialogs().values():
        drawing = mermaid(dialog)
        for source, target in dialog.edges():
            if target.startswith("dialog:"):
                assert f"{source} -.-> flow_{target.removeprefix('dialog:')}" in drawing
            else:
                assert f"{source} --> {target}" in drawing
