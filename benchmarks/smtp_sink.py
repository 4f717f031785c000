"""A local SMTP server (aiosmtpd) in its own process that accepts every mail and records it:
one line per recipient of each message, ``recipient<TAB>Message-ID``, appended to a file.

Run: ``python -m benchmarks.smtp_sink --port 8025 --out FILE``; benchmarks use
:class:`SmtpSink`, which starts it and reads the file back.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any, Final

__all__ = ["SmtpSink"]

ROOT: Final = Path(__file__).resolve().parent.parent
_MESSAGE_ID: Final = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class _Recorder:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or b""
        headers = content.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(headers)
        message_id = found.group(1).decode() if found else "-"
        self.out.write("".join(f"{rcpt}\t{message_id}\n" for rcpt in envelope.rcpt_tos))
        self.out.flush()
        return "250 Message accepted for delivery"


class SmtpSink:
    """The sink in a child process on ``port``, recording into ``path``."""

    def __init__(self, port: int, path: Path) -> None:
        self.port = port
        self.url = f"smtp://127.0.0.1:{port}"
        self.path = path
        path.write_text("")
        command = [sys.executable, "-m", "benchmarks.smtp_sink", "--port", str(port)]
        self._process = subprocess.Popen(  # noqa: S603  (our own interpreter and fixed arguments)
            [*command, "--out", str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,
        )
        assert self._process.stdout is not None
        if b"ready" not in self._process.stdout.readline():
            self.stop()
            raise RuntimeError("the SMTP sink did not start")

    def received(self) -> list[tuple[str, str]]:
        """Every (recipient, Message-ID) accepted so far, in order."""
        lines = self.path.read_text().splitlines()
        return [(to, message_id) for to, _, message_id in (line.partition("\t") for line in lines)]

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


def main() -> None:
    from aiosmtpd.controller import Controller

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    with args.out.open("a") as out:
        controller = Controller(_Recorder(out), hostname="127.0.0.1", port=args.port)
        controller.start()
        print("ready", flush=True)
        try:
            threading.Event().wait()
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
