"""Write docs/dialogs.md: the drawing of every registered dialog's graph (Mermaid).

python scripts/dialog_graph.py          # rewrite the file
python scripts/dialog_graph.py --check  # exit 1 when the file is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.dialogs.graph import dialogs_markdown  # noqa: E402
from bot.dialogs.registry import all_dialogs  # noqa: E402

TARGET = ROOT / "docs" / "dialogs.md"


def main(argv: list[str]) -> int:
    drawing = dialogs_markdown(all_dialogs())
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        return 0 if current == drawing else 1
    TARGET.write_text(drawing, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
