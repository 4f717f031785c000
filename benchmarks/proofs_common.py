"""What the parts of the issue-8 benchmark (``benchmarks.bench_proofs``) share: the table they
fill, percentiles, and the memory of a process as Linux counts it.

Every row stands beside a reference measured in the same run and says whether its goal was met;
an invariant that breaks (a sign-in that did not reach its code step, a booking count other than
the seats, a server that stopped answering) is recorded as a failure, and the run then records
nothing.
"""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = [
    "MIB",
    "Proofs",
    "clear_peak_rss",
    "mib",
    "percentile",
    "rss_bytes",
    "verdict",
]

MIB: Final = 1024 * 1024


@dataclass
class Proofs:
    """The rows of the section, and the invariants that broke."""

    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, figure: str, backend: str, result: str, reference: str, goal: str = "-") -> None:
        self.rows.append((figure, backend, result, reference, goal))
        print(f"  {figure} [{backend}]: {result} | {reference} | {goal}", file=sys.stderr)

    def check(self, ok: bool, what: str) -> bool:
        if not ok:
            self.failures.append(what)
            print(f"  INVARIANT BROKEN: {what}", file=sys.stderr)
        return ok

    def note(self, text: str) -> None:
        """A line for "How to read it" (said once, by the part that measured it)."""
        self.notes.append(text)

    def table(self) -> str:
        lines = [
            "| figure | backend | result | reference (same run) | goal |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| {' | '.join(cell.replace('|', '/') for cell in row)} |" for row in self.rows]
        return "\n".join(lines)


def verdict(met: bool, goal: str) -> str:
    return f"{goal}: **met**" if met else f"{goal}: **MISSED**"


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.5 is the median, 0.99 the p99)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[index]


def mib(size: float) -> str:
    return f"{size / MIB:,.1f} MiB"


def _status_kib(pid: int | str, field_name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/{pid}/status has no {field_name}")


def rss_bytes(pid: int | None = None, *, peak: bool = False) -> int:
    """The resident memory of a process (this one by default) now, or its peak (``VmHWM``)."""
    return _status_kib(pid if pid is not None else "self", "VmHWM" if peak else "VmRSS") * 1024


def clear_peak_rss() -> bool:
    """Reset this process's peak resident memory to what it holds now (Linux: clear_refs 5).

    Returns:
        False when the kernel does not allow it (then the peak covers the whole life).
    """
    try:
        Path(f"/proc/{os.getpid()}/clear_refs").write_text("5")
    except OSError:
        return False
    return True
