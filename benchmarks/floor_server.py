"""The least a web chat turn can cost: ``prof_web``'s reference beside ``casebot serve``.

Run ``python -m benchmarks.floor_server --port P --database FILE``. It answers the two calls
of the web chat API that ``bench_web`` makes (``POST /api/chat/sessions`` and ``POST
/api/chat/sessions/ID/messages``, plus ``GET /healthz``) the shortest way there is: aiohttp,
the token's SHA-256, and one SQLite transaction (WAL, ``synchronous=NORMAL``) with the
statements a case-status turn of casebot runs, written by hand with the ``sqlite3`` module:
the session, the message counted, the conversation read, the lookup counted, the case, the
chat's account, whether it follows the case, the conversation written, the previous answer,
the person's message and the answer kept. The reply is a fixed sentence with the status.

No dialog, no translation, no access log, no metrics, no error handling: it is not a chat
server, it is how fast a server could go on this machine with this much database work.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sqlite3
import time

from aiohttp import web

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, token_hash BLOB, locale TEXT,
    created_at TEXT, last_seen_at TEXT);
CREATE TABLE IF NOT EXISTS rate_limits (key TEXT PRIMARY KEY, window_start TEXT, count INT);
CREATE TABLE IF NOT EXISTS conversations (id INTEGER PRIMARY KEY, chat_id TEXT UNIQUE,
    locale TEXT, state TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS cases (id INTEGER PRIMARY KEY, receipt_number TEXT UNIQUE,
    status TEXT, updated_at TEXT);
CREATE TABLE IF NOT EXISTS links (chat_id TEXT PRIMARY KEY, account_id INT);
CREATE TABLE IF NOT EXISTS follows (id INTEGER PRIMARY KEY, case_id INT, chat_id TEXT);
CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, session_id TEXT, sender TEXT,
    text TEXT, buttons TEXT, created_at TEXT);
CREATE INDEX IF NOT EXISTS messages_session ON messages (session_id, id);
INSERT OR IGNORE INTO cases VALUES (1, 'WAC2212345678', 'Case Was Approved', '2026-10-28');
"""
_COUNT = (
    "INSERT INTO rate_limits VALUES (?, ?, 1) ON CONFLICT (key) DO UPDATE SET count = count + 1"
)
_MENU = ["Check a case status", "My cases", "Appointments", "Sign in", "Help"]


class Floor:
    def __init__(self, database: str) -> None:
        self.db = sqlite3.connect(database, isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(_SCHEMA)

    async def open_session(self, _request: web.Request) -> web.Response:
        session_id, token = secrets.token_hex(16), secrets.token_urlsafe(32)
        now = _now()
        digest = hashlib.sha256(token.encode()).digest()
        self.db.execute(
            "INSERT INTO sessions VALUES (?, ?, 'en', ?, ?)", (session_id, digest, now, now)
        )
        return web.json_response({"session_id": session_id, "token": token}, status=201)

    async def message(self, request: web.Request) -> web.Response:
        session_id = request.match_info["session_id"]
        digest = hashlib.sha256(request.headers["Authorization"][7:].encode()).digest()
        text = json.loads(await request.read())["text"]
        now, db = _now(), self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT token_hash FROM sessions WHERE id = ?", (session_id,))
            if row.fetchone()[0] != digest:
                raise web.HTTPUnauthorized
            db.execute(_COUNT, ("webchat:" + session_id, now[:16]))
            found = db.execute("SELECT state FROM conversations WHERE chat_id = ?", (session_id,))
            state = json.loads(row[0]) if (row := found.fetchone()) else {"stack": []}
            if text.startswith("WAC"):
                db.execute(_COUNT, ("case_lookup:" + session_id, now[:16]))
                case = db.execute(
                    "SELECT status, updated_at FROM cases WHERE receipt_number = ?", (text,)
                ).fetchone()
                db.execute("SELECT account_id FROM links WHERE chat_id = ?", (session_id,))
                db.execute(
                    "SELECT follows.id FROM follows JOIN cases ON cases.id = follows.case_id"
                    " WHERE receipt_number = ? AND chat_id = ?",
                    (text, session_id),
                ).fetchone()
                reply = {"text": f"Case {text}. Status: {case[0]}. Updated {case[1]}.",
                         "buttons": [{"label": "Main menu", "payload": "menu"}]}  # fmt: skip
                state["stack"] = [{"d": "case_status", "s": "check", "data": {"receipt": text}}]
            else:
                db.execute("SELECT account_id FROM links WHERE chat_id = ?", (session_id,))
                reply = {"text": "Hello! What would you like to do?",
                         "buttons": [{"label": b, "payload": b} for b in _MENU]}  # fmt: skip
                state["stack"] = [{"d": "menu", "s": "main"}]
            db.execute(
                "INSERT INTO conversations (chat_id, locale, state, updated_at)"
                " VALUES (?, 'en', ?, ?) ON CONFLICT (chat_id)"
                " DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (session_id, json.dumps(state), now),
            )
            db.execute(
                "SELECT id FROM messages WHERE session_id = ? AND sender = 'bot'"
                " ORDER BY id DESC LIMIT 1",
                (session_id,),
            ).fetchone()
            keep = "INSERT INTO messages VALUES (NULL, ?, ?, ?, ?, ?) RETURNING id"
            db.execute(keep, (session_id, "user", text, "[]", now)).fetchone()
            buttons = json.dumps(reply["buttons"])
            (reply_id,) = db.execute(
                keep, (session_id, "bot", reply["text"], buttons, now)
            ).fetchone()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return web.json_response({"replies": [{"id": reply_id, **reply}]})


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    parser = argparse.ArgumentParser(description="the least a web chat turn can cost")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database", required=True, help="a SQLite file (made if missing)")
    args = parser.parse_args()
    floor = Floor(args.database)
    app = web.Application()
    app.router.add_post("/api/chat/sessions", floor.open_session)
    app.router.add_post("/api/chat/sessions/{session_id}/messages", floor.message)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
