"""Machine instructions per web chat turn (issue 5): a figure this shared machine's noise does not
move, for comparing two versions of the turn. A diagnostic beside ``bench_web``, not a benchmark.

Run ``.venv/bin/python -m benchmarks.count_web [--turns N]`` (valgrind must be installed). CPU
time per turn moves by a third between two runs of the same code here (``prof_web``'s "hub,
warm" gave 0.49 to 0.86 ms in eight runs); instructions counted by valgrind's callgrind do not, so
a change of a few percent shows. It runs itself again under callgrind, which:

1. starts the web chat hub of ``prof_web`` (``WebChatHub.send`` in this process, no HTTP) on a
   fresh default SQLite database with demo data, opens the sessions and warms up;
2. sends N turns to settle (what is made once, on first use, is made there);
3. sends N more turns, the measure.

The turns are ``bench_web``'s (a case-status lookup and "menu", alternated, 64 in flight). Each
phase ends by calling ``os.getppid()``, on which callgrind dumps its counts (``--dump-before``),
so every phase is counted alone. It prints the instructions per turn of phases 2 and 3: they
agree within a fraction of a percent when nothing else runs in the process. Counts are of this
interpreter and libraries: compare two versions of the code on the same machine, never figures
of other days. Nothing is written to RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

from benchmarks.bench_web import ROOT
from benchmarks.prof_web import hub_turns, send_all

# The C functions that end a phase (called nowhere else in a turn): the wildcard matches both
# CPython's os_getppid and the C library's getppid, so each phase end dumps twice, the second
# time a near-empty part (a few instructions), which is dropped.
_MARK: Final = "*getppid"
_GAP: Final = 10_000
_TOTAL: Final = re.compile(r"^(?:summary|totals):\s*(\d+)", re.MULTILINE)


def _phase_end() -> None:
    os.getppid()


async def _phases(turns: int) -> None:
    async with hub_turns(2 * turns) as (hub, work):
        measured = work[:turns]
        del work[:turns]
        _phase_end()  # 1: start-up, sessions, warm-up
        await send_all(hub, work)
        _phase_end()  # 2: settling
        await send_all(hub, measured)
        _phase_end()  # 3: the measure


def inside(turns: int) -> None:
    """Phase 1 to 3 in this process (under callgrind: ``--inside``)."""
    home = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="casebot-count-web-") as folder:
        os.chdir(folder)  # the default database lives under ./var
        try:
            asyncio.run(_phases(turns))
        finally:
            os.chdir(home)


def phase_totals(out_file: Path) -> list[int]:
    """The instructions of each dumped phase, in order (callgrind writes ``FILE.1``...), but the
    near-empty parts between two nested marks."""
    parts = sorted(
        out_file.parent.glob(f"{out_file.name}.*"), key=lambda p: int(p.suffix.lstrip("."))
    )
    totals = []
    for part in parts:
        found = _TOTAL.search(part.read_text(errors="replace"))
        if found is None:
            raise RuntimeError(f"{part}: no total in callgrind's output")
        if int(found.group(1)) >= _GAP:
            totals.append(int(found.group(1)))
    return totals


def count(turns: int) -> tuple[float, float]:
    """Instructions per turn of the settling phase and of the measure, under callgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="casebot-callgrind-") as name:
        out_file = Path(name) / "callgrind.out"
        command = [
            valgrind,
            "--tool=callgrind",
            f"--dump-before={_MARK}",
            f"--callgrind-out-file={out_file}",
            sys.executable,
            "-m",
            "benchmarks.count_web",
            "--inside",
            "--turns",
            str(turns),
        ]
        done = subprocess.run(  # noqa: S603  (valgrind and our own interpreter)
            command, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"the run under callgrind failed:\n{done.stderr[-3000:]}")
        totals = phase_totals(out_file)
    if len(totals) < 3:
        raise SystemExit(f"callgrind dumped {len(totals)} phases, not 3: is {_MARK} traced?")
    return totals[1] / turns, totals[2] / turns


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=640, help="turns per phase (320 to 5,000)")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not 320 <= args.turns <= 5_000 or args.turns % 20:
        parser.error("--turns must be a multiple of 20 between 320 and 5,000")
    if args.inside:
        inside(args.turns)
        return 0
    settling, measured = count(args.turns)
    print(f"settling: {settling:,.0f} instructions per turn")
    print(f"measure:  {measured:,.0f} instructions per turn ({args.turns:,} turns, callgrind)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
