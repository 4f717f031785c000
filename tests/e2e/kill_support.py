"""People chatting with a real ``casebot serve`` that is SIGKILLed now and then, and restarted.

``Server`` runs one worker at a time on a database and restarts it after each kill. A
``WebClient`` (the web chat API) and a ``TelegramClient`` (the webhook, answers read from the
fake Bot API) each follow a script of ``Step``s, checking every answer; when the server dies
under a message they do what their real counterparts do:

- the web client, once the server is back, reads the session's transcript: if its message is
  there, so are the answers it never got (the turn and its transcript commit together); if
  not, it sends the message again. A button press is sent again blindly, as an impatient
  person would: its payload names the prompt it belongs to, so a press that was handled
  already answers "this menu has expired" and changes nothing;
- Telegram delivers the same update again (same ``update_id``) until a worker answers 200.

The ``Killer`` decides, from a seeded random generator, when to kill: just as a client sends a
sign-in code, a booking's confirmation, or any message, after a random delay of a few
milliseconds (before, during or after the turn's commit). It may also make a web client lose
an answer without a kill (``lost-answer``: the client stops listening a millisecond after
sending, the server goes on): the one case a kill rarely hits by chance, a turn committed and
its answer never read, which the client then repairs like any other.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.telegram.webhook import SECRET_HEADER, webhook_secret
from tests.e2e.workers import SECRET_KEY, WEBHOOK_PATH, Worker
from tests.telegram.fake_bot_api import FakeBotApi

EXPIRED: Final = "This menu has expired."
ANSWER_WITHIN: Final = 60.0  # seconds: a restart (which takes up pending updates), with room


@dataclass(frozen=True)
class Step:
    """One message of a script: what is typed (or the label pressed, ``press``) and a text
    the answer must contain. ``kind`` names the steps the killer aims at."""

    send: str | Callable[[], str]
    expect: str
    press: bool = False
    kind: str = ""

    def text(self) -> str:
        return self.send() if callable(self.send) else self.send


class Server:
    """One ``casebot serve`` at a time on ``database_url``, restarted after each SIGKILL."""

    def __init__(
        self, folder: Path, database_url: str, api: FakeBotApi, token: str,
        http: aiohttp.ClientSession,
    ) -> None:  # fmt: skip
        self.folder = folder
        self.database_url = database_url
        self.api = api
        self.token = token
        self.http = http
        self.worker: Worker | None = None
        self.generation = 0
        self.up = asyncio.Event()
        self.kills: list[str] = []
        self.workers: list[Worker] = []

    @property
    def url(self) -> str:
        assert self.worker is not None
        return self.worker.url

    async def start(self) -> None:
        self.generation += 1
        self.worker = Worker(
            f"serve{self.generation}", self.folder, self.database_url,
            telegram_api=self.api.url, token=self.token,
        )  # fmt: skip
        self.workers.append(self.worker)
        await self.worker.ready(self.http)
        self.up.set()

    async def kill_and_restart(self, why: str) -> None:
        assert self.worker is not None
        self.up.clear()  # before the kill: a client that sees the connection drop waits
        self.worker.kill()
        self.worker.stop()  # closes its log (the process is gone already)
        self.kills.append(why)
        await self.start()

    async def back(self, generation: int) -> None:
        """Wait for a server newer than ``generation`` (the one a request failed on)."""
        while self.generation <= generation or not self.up.is_set():
            await self.up.wait()
            if self.generation <= generation:
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


class SupervisedServer(Server):
    """``casebot serve --workers N``: the killer SIGKILLs one worker (not the supervisor); the
    others go on serving, and the supervisor starts a new one, which must answer before the
    next kill."""

    def __init__(self, *args: Any, workers: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count = workers
        self.restarted: list[int] = []  # the pids of the workers started after a kill

    async def start(self) -> None:
        self.generation += 1
        self.worker = Worker(
            "supervisor", self.folder, self.database_url,
            telegram_api=self.api.url, token=self.token, workers=self.count,
        )  # fmt: skip
        self.workers.append(self.worker)
        await self.worker.ready(self.http)
        for pid in self.children():
            await self.answered_by(pid)
        self.up.set()

    def children(self) -> list[int]:
        assert self.worker is not None
        pid = self.worker.process.pid
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return sorted(int(p) for p in listed)

    async def answered_by(self, pid: int, within: float = 60) -> None:
        """Wait until a request on a new connection is answered by worker ``pid``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            try:
                async with self.http.get(
                    f"{self.url}/livez", headers={"Connection": "close"}
                ) as response:
                    if (await response.json())["pid"] == pid:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.02)
        raise AssertionError(f"worker {pid} never answered:\n{self.worker and self.worker.log()}")

    async def kill_and_restart(self, why: str) -> None:
        before = self.children()
        assert len(before) == self.count, before
        victim = before[len(self.kills) % len(before)]
        os.kill(victim, signal.SIGKILL)
        self.kills.append(f"{why} (pid {victim})")
        # The other workers serve on: a client cut by the kill may send again at once.
        self.generation += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while loop.time() < deadline:
            fresh = [pid for pid in self.children() if pid not in before]
            if fresh:
                self.restarted.append(fresh[0])
                await self.answered_by(fresh[0])
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the supervisor did not restart the killed worker")


class Killer:
    """Kills the server at the moments of ``plan`` (``sign-in``, ``booking``, ``any``), one
    at a time, each after a random delay once a client starts such a step;
    makes web clients lose the answer of one step of each kind in ``lose`` (``code``,
    ``confirm``)."""

    def __init__(
        self, server: Server, rng: random.Random, plan: list[str], lose: list[str]
    ) -> None:
        self.server = server
        self.rng = rng
        self.plan = list(plan)
        self.lose = list(lose)
        self.busy = False
        self._settled = asyncio.Event()
        self._settled.set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.lost_answers: list[str] = []

    async def settled(self) -> None:
        """Until a kill under way has its server answering again. Clients wait here between
        steps (a step cut by the kill is sent again at once, inside the step), so that the
        scripts do not run to their end while a slow restart keeps the killer busy, and every
        kill of the plan finds a step to cut."""
        await self._settled.wait()

    def before_send(self, who: str, step: Step, *, web: bool = False) -> bool:
        """Called by a client about to send ``step``; True: stop listening for this answer
        (a lost answer, web clients only, for the step kinds in ``lose``)."""
        if web and step.kind in self.lose:
            self.lose.remove(step.kind)
            self.lost_answers.append(f"{who} at {step.expect!r}")
            return True
        if self.busy or not self.plan:
            return False
        wanted = {"code": "sign-in", "confirm": "booking"}.get(step.kind)
        if wanted in self.plan:
            aim = wanted
        elif "any" in self.plan and self.rng.random() < 0.2:
            aim = "any"
        else:
            return False
        self.plan.remove(aim)
        self.busy = True
        self._settled.clear()
        delay = self.rng.uniform(0.0, 0.04)
        task = asyncio.create_task(self._kill(delay, f"{aim}: {who} at {step.expect!r}"))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return False

    async def _kill(self, delay: float, why: str) -> None:
        await asyncio.sleep(delay)
        try:
            await self.server.kill_and_restart(f"{why} +{delay * 1000:.0f} ms")
        finally:
            self.busy = False
            self._settled.set()


@dataclass
class Tally:
    """What the clients met."""

    interrupted: int = 0  # requests cut by a kill
    found_in_transcript: int = 0  # the turn had happened: its answers read from the transcript
    sent_again: int = 0  # it had not: the message sent again
    expired_after_retry: int = 0  # a press sent again after it was handled: "menu has expired"
    redelivered: int = 0  # Telegram updates delivered again
    lost_replies: list[str] = field(default_factory=list)  # Telegram: handled, answer never came


def _joined(messages: list[dict[str, Any]]) -> str:
    """The texts of messages, each followed by its buttons' labels."""
    return "\n".join(
        "\n".join([m["text"], *(b["label"] for b in m.get("buttons", []))]) for m in messages
    )


class WebClient:
    """One browser session following a script."""

    def __init__(
        self, name: str, server: Server, http: aiohttp.ClientSession, steps: list[Step],
        killer: Killer, tally: Tally,
    ) -> None:  # fmt: skip
        self.name, self.server, self.http, self.steps = name, server, http, steps
        self.killer, self.tally = killer, tally
        self.session_id = ""
        self.token = ""
        self.last_id = 0
        self.buttons: list[dict[str, str]] = []
        self.answers: list[str] = []

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def run(self) -> None:
        await self._open()
        for step in self.steps:
            await self.killer.settled()
            lose = self.killer.before_send(self.name, step, web=True)
            answer = await self._exchange(step, lose=lose)
            said = _joined(answer)
            assert step.expect in said, f"{self.name}: {step.expect!r} not in {said!r}"
            self.answers.append(said)
            with_buttons = [m for m in answer if m["buttons"]]
            self.buttons = with_buttons[-1]["buttons"] if with_buttons else []

    async def _open(self) -> None:
        while True:
            generation = self.server.generation
            await self.server.up.wait()
            try:
                async with self.http.post(f"{self.server.url}/api/chat/sessions", json={}) as r:
                    assert r.status == 201, await r.text()
                    data = await r.json()
                    self.session_id, self.token = data["session_id"], data["token"]
                    return
            except (aiohttp.ClientError, TimeoutError):
                self.tally.interrupted += 1
                await self.server.back(generation)  # a session made but not seen: a new one

    def _body(self, step: Step) -> dict[str, str]:
        if not step.press:
            return {"text": step.text()}
        for button in self.buttons:
            if button["label"] == step.text():
                return {"payload": button["payload"]}
        raise AssertionError(f"{self.name}: no button {step.text()!r} in {self.buttons}")

    async def _exchange(self, step: Step, *, lose: bool = False) -> list[dict[str, Any]]:
        body = self._body(step)
        before = self.last_id  # the last message seen before this step
        cut = False  # a request of this step was cut by a kill, or its answer lost
        if lose:
            generation = self.server.generation
            await self.server.up.wait()
            try:
                return await asyncio.wait_for(self._post(body), 0.002)
            except TimeoutError:  # sent; the server goes on without a listener
                await self._until_handled()
            except aiohttp.ClientError:  # a kill of another step's got there first
                self.tally.interrupted += 1
                await self.server.back(generation)
            cut = True
        while True:
            generation = self.server.generation
            await self.server.up.wait()
            try:
                if cut and not step.press:
                    missed = await self._transcript()
                    if any(m["from"] == "user" for m in missed):
                        self.tally.found_in_transcript += 1
                        self.last_id = max(m["id"] for m in missed)
                        return [m for m in missed if m["from"] == "bot"]
                    if callable(step.send):
                        body = self._body(step)  # a code is read again: the clock moves on
                answer = await self._post(body)  # a press goes again blindly, same payload
                if cut and step.press and EXPIRED in _joined(answer):
                    self.tally.expired_after_retry += 1
                    return await self._original_answer(before)
                if cut:
                    self.tally.sent_again += 1
                return answer
            except (aiohttp.ClientError, TimeoutError):
                self.tally.interrupted += 1
                cut = True
                await self.server.back(generation)

    async def _until_handled(self, within: float = 15.0) -> None:
        """Wait until the transcript shows the message whose answer was dropped, answered (on
        a busy machine half a second was not always enough, and a text sent again before the
        first was handled would run twice); gives up on a kill or after ``within`` seconds,
        and the retry below copes with either."""
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            try:
                missed = await self._transcript()
            except (aiohttp.ClientError, TimeoutError):
                return
            senders = [m["from"] for m in missed]
            if "user" in senders and "bot" in senders[senders.index("user") :]:
                return
            await asyncio.sleep(0.05)

    async def _post(self, body: dict[str, str]) -> list[dict[str, Any]]:
        url = f"{self.server.url}/api/chat/sessions/{self.session_id}/messages"
        async with self.http.post(url, json=body, headers=self.headers) as response:
            assert response.status == 200, f"{self.name}: {response.status} {await response.text()}"
            replies: list[dict[str, Any]] = (await response.json())["replies"]
        if replies:
            self.last_id = max(self.last_id, max(m["id"] for m in replies))
        return replies

    async def _transcript(self) -> list[dict[str, Any]]:
        url = f"{self.server.url}/api/chat/sessions/{self.session_id}/messages"
        params = {"after": str(self.last_id)}
        async with self.http.get(url, params=params, headers=self.headers) as response:
            assert response.status == 200, await response.text()
            messages: list[dict[str, Any]] = (await response.json())["messages"]
            return messages

    async def _original_answer(self, start: int) -> list[dict[str, Any]]:
        """The answers to the first message after ``start`` (the press that was handled
        before its answer was lost), read from the transcript; ``last_id`` moves past all."""
        self.last_id = 0
        everything = await self._transcript()
        later = [m for m in everything if m["id"] > start]
        self.last_id = max(m["id"] for m in everything)
        first_user = next(i for i, m in enumerate(later) if m["from"] == "user")
        answer: list[dict[str, Any]] = []
        for message in later[first_user + 1 :]:
            if message["from"] == "user":
                break
            answer.append(message)
        return answer

    async def transcript_user_messages(self) -> list[str]:
        self.last_id = 0
        return [m["text"] for m in await self._transcript() if m["from"] == "user"]


class TelegramClient:
    """One Telegram chat following a script through the webhook, as Telegram delivers it."""

    def __init__(
        self, name: str, chat_id: int, server: Server, http: aiohttp.ClientSession,
        steps: list[Step], killer: Killer, tally: Tally, peek: AsyncEngine,
    ) -> None:  # fmt: skip
        self.name, self.chat_id, self.server, self.http = name, chat_id, server, http
        self.steps, self.killer, self.tally, self.peek = steps, killer, tally, peek
        self.api = server.api
        self.update_ids: list[int] = []
        self.answers: list[str | None] = []

    async def run(self) -> None:
        for step in self.steps:
            await self.killer.settled()
            self.killer.before_send(self.name, step)
            seen = len(self.api.calls_of("sendMessage", self.chat_id))
            update = self.api.message(self.chat_id, step.text())
            self.update_ids.append(update["update_id"])
            await self._deliver(update)
            said = await self._answer(update["update_id"], seen, step.expect)
            self.answers.append(said)
            if said is None:
                self.tally.lost_replies.append(f"{self.name}: {step.expect!r}")

    async def _deliver(self, update: dict[str, Any]) -> None:
        headers = {SECRET_HEADER: webhook_secret(SECRET_KEY)}
        first = True
        while True:
            generation = self.server.generation
            await self.server.up.wait()
            if not first:
                self.tally.redelivered += 1
            first = False
            try:
                url = f"{self.server.url}{WEBHOOK_PATH}"
                async with self.http.post(url, json=update, headers=headers) as response:
                    if response.status == 200:
                        return
                    await asyncio.sleep(0.5)  # 503 while starting: Telegram retries later
                    continue
            except (aiohttp.ClientError, TimeoutError):
                self.tally.interrupted += 1
            await self.server.back(generation)

    async def _answer(self, update_id: int, seen: int, expect: str) -> str | None:
        """The texts sent to the chat for this update, once one holds ``expect``; None when
        the update was handled (its row marked, with its turn) and no such answer came while
        nothing of the chat waited in the outbox (a reply still there is late, not lost: the
        dispatcher sends what a killed worker kept)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WITHIN
        handled_at: float | None = None
        while loop.time() < deadline:
            sent = [
                "\n".join([c.text, *c.button_labels])
                for c in self.api.calls_of("sendMessage", self.chat_id)[seen:]
                if c.ok
            ]
            if any(expect in t for t in sent):
                return "\n".join(sent)
            if handled_at is None and await self._handled(update_id):
                handled_at = loop.time()
            if handled_at is not None and await self._replies_waiting():
                handled_at = loop.time()
            if handled_at is not None and loop.time() - handled_at > 3:
                return None
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name}: no answer {expect!r} and update {update_id} pending")

    async def _replies_waiting(self) -> bool:
        async with self.peek.connect() as conn:
            found = await conn.scalar(
                text(
                    "SELECT id FROM outbox WHERE channel = 'telegram' AND address = :chat"
                    " AND status = 'pending' LIMIT 1"
                ),
                {"chat": str(self.chat_id)},
            )
        return found is not None

    async def _handled(self, update_id: int) -> bool:
        async with self.peek.connect() as conn:
            found = await conn.scalar(
                text("SELECT handled_at FROM channel_inbox WHERE update_id = :u"),
                {"u": update_id},
            )
        return found is not None
