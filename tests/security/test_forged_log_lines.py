"""A client cannot write a line into the server's log (issue 21, finding 8): a ``%0a`` in a
path, or any other control character a request carries, is written escaped in every log line
built from it (the access log, the admin API's refusals), against a real ``casebot serve``."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from bot.ops.log_escape import EscapeControlCharacters, printable
from tests.serve_support import serving

FORGED = "127.0.0.1 FORGED-LINE"
ADMIN_TOKEN = "operator-token-of-the-log-line-tests"


def raw_get(host: str, port: int, target: str) -> bytes:
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_a_line_feed_in_a_path_is_escaped_in_every_log_line(tmp_path: Path) -> None:
    forged = FORGED.replace(" ", "%20")
    targets = [
        f"/nothing%0a{forged}",
        f"/api/admin/offices%0d%0a{forged}",  # the admin API's refusal logs the path
        f"/api/admin/offices/PHX%0a{forged}%1b[2J",
        f"/api/chat/sessions/0%E2%80%A8{forged}/messages",  # U+2028, a line separator
    ]
    with serving(tmp_path, {"CASEBOT_ADMIN_TOKEN": ADMIN_TOKEN}) as served:
        for target in targets:
            assert raw_get(served.host, served.port, target).startswith(b"HTTP/1.1 4")
    log = served.log_text()
    assert "FORGED-LINE" in log  # the requests were logged...
    for line in log.splitlines():
        assert not line.startswith(FORGED), line  # ...and none started a line of its own
    assert "\x1b" not in log
    assert "\u2028" not in log
    assert "\\n127.0.0.1 FORGED-LINE" in log


def test_the_filter_escapes_arguments_and_keeps_the_codes_own_text() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "%s %s %d", ("GET", "/a\nb\r\x00", 5), None
    )
    assert EscapeControlCharacters().filter(record)
    assert record.getMessage() == "GET /a\\nb\\r\\x00 5"
    assert printable("ok ünïcødé") == "ok ünïcødé"
    assert printable("\x85\u2029\x7f") == "\\x85\\u2029\\x7f"
