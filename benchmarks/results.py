"""Writing one benchmark's section of benchmarks/RESULTS.md, leaving the others as they are."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

__all__ = ["RESULTS_FILE", "write_section"]

RESULTS_FILE: Final = Path(__file__).with_name("RESULTS.md")


def write_section(section: str, body: str, results_file: Path = RESULTS_FILE) -> None:
    """Replace (or append) the ``## section`` of the results file with ``body``."""
    # Re-read just before writing: other benchmarks may have written their sections meanwhile.
    current = results_file.read_text() if results_file.exists() else "# Benchmark results\n"
    text = f"## {section}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current, count=1).rstrip() + "\n"
    else:
        updated = current.rstrip() + "\n\n" + text
    results_file.write_text(updated)
