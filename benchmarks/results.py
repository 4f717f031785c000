"""What every benchmark shares: its section of benchmarks/RESULTS.md, the machine it ran on,
and a free loopback port for the servers it starts."""

from __future__ import annotations

import os
import platform
import re
import socket
import sys
from pathlib import Path
from typing import Final

__all__ = ["RESULTS_FILE", "cores", "cpu_model", "free_port", "write_section"]

RESULTS_FILE: Final = Path(__file__).with_name("RESULTS.md")


def write_section(section: str, body: str, results_file: Path = RESULTS_FILE) -> None:
    """Replace (or append) the ``## section`` of the results file with ``body``, and say so."""
    # Re-read just before writing: other benchmarks may have written their sections meanwhile.
    current = results_file.read_text() if results_file.exists() else "# Benchmark results\n"
    text = f"## {section}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current, count=1).rstrip() + "\n"
    else:
        updated = current.rstrip() + "\n\n" + text
    results_file.write_text(updated)
    print(f"written to {results_file}", file=sys.stderr)


def record(section: str, body: str, table: str, failures: list[str]) -> int:
    """Print ``table``, then write ``body`` as the results file's ``section`` unless an
    invariant broke; the exit status (1: broken, nothing written)."""
    print(f"\n{table}\n")
    if failures:
        print("FAILED (RESULTS.md left alone):", *failures, sep="\n- ", file=sys.stderr)
        return 1
    write_section(section, body)
    return 0


def cores() -> int:
    """The cores this process may use (what ``nproc`` prints)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_model() -> str:
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown CPU"
    found = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
    return found.group(1).strip() if found else "unknown CPU"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
