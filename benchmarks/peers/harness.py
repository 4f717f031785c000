"""The peers benchmark (issue 24): casebot's Telegram path beside the same case-status flow on
python-telegram-bot 22 and on aiogram 3 + aiogram-dialog 2, through one fake Bot API.

Run ``make bench-peers`` (``BENCH_ARGS=--quick`` for a short run), or, once the peers' own
environment exists (``benchmarks/peers/.venv``), ``.venv/bin/python -m benchmarks.peers.harness
[--quick] [--chats N] [--rounds R]``.

One fake Bot API process (``benchmarks.peers.fake_api``, the tests' ``FakeBotApi``) serves every
bot. Each window starts one bot (casebot, ``ptb`` or ``aiogram``) in one mode (polling, or
webhook: the fake POSTs each update to the bot), fresh state, and drives it:

- ``--users`` people at once (64), each holding conversations in new private chats one after the
  other until ``--chats`` conversations are done. A conversation: ``/start`` typed (-> the menu),
  "Check a case status" pressed (-> the question), a receipt number typed (-> its status with
  inline buttons); in a fifth of them two receipt numbers typed back to back (-> two statuses, in
  that order); in half of them "Menu" pressed on the status (-> the menu). About half the
  updates are typed text, half button presses; 5% of updates are delivered twice (Telegram's
  redelivery of an update a bot did not confirm). A person waits for the answer before the
  next step, 5 s at most: then the answer is lost and that conversation ends.
- What arrives (``sendMessage`` and ``editMessageText`` to the chat) is read by kind: ``menu``,
  ``ask``, ``status:<receipt>``. Per chat, the kinds expected (one per update, in order) are
  compared with the kinds received by :func:`tally`: lost, doubled (more than expected: an
  update answered twice) and out of order.
- Measured per window, beside each other: updates handled per second (distinct updates, over
  the window's wall time), p50/p99 latency from the update's delivery (``getUpdates`` answered
  or webhook POST sent) to its reply's arrival at the fake (both stamped by the fake's clock),
  CPU time of the bot's processes per update (``/proc``), and memory: the bot's RSS growth and
  the growth of its durable conversation store (casebot: its SQLite file; PTB: the pickle file;
  aiogram: Redis ``MEMORY USAGE`` of the run's keys), per 10,000 conversations.

The windows are alternated (the order rotates every round); every figure is reported beside the
others measured in the same run. Writes the section "Peers (issue 24)" of
``benchmarks/RESULTS.md``. Loopback only; bounded in count and time; processes stopped in any
case.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp

from benchmarks.results import cores, cpu_model, free_port, write_section

SECTION: Final = "Peers (issue 24)"
ROOT: Final = Path(__file__).resolve().parents[2]
PEERS_DIR: Final = ROOT / "benchmarks" / "peers"
PEERS_PYTHON: Final = PEERS_DIR / ".venv" / "bin" / "python"
TOKEN: Final = "123456789:AAF-peers-benchmark-token-0123456789ab"  # noqa: S105 (fake)
SECRET_KEY: Final = "peers-benchmark-secret-key-0123456789abcdef"  # noqa: S105 (a bench's)
RECEIPTS: Final = ("WAC2212345678", "EAC2190012345", "LIN2390001234", "MSC2091234567")
BOTS: Final = ("casebot", "ptb", "aiogram")
MODES: Final = ("polling", "webhook")
REDELIVER: Final = 0.05
BURST: Final = 0.2
MENU_AFTER: Final = 0.5
WAIT: Final = 5.0
START_TIMEOUT: Final = 120.0
STOP_TIMEOUT: Final = 30.0
WARM_CHATS: Final = 64
STATUS_IN_TEXT: Final = re.compile(r"\bCase ([A-Z]{3}\d{10})\b")


# --- counting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """What one chat (or a sum of chats) got wrong: replies lost, doubled, out of order."""

    lost: int = 0
    doubled: int = 0
    reordered: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.lost + other.lost,
            self.doubled + other.doubled,
            self.reordered + other.reordered,
        )


def _in_order(expected: Sequence[str], received: Sequence[str]) -> list[tuple[int, int]]:
    """The longest run of replies that answers expected ones in their order (a longest common
    subsequence), as pairs (index in ``expected``, index in ``received``)."""
    rows, cols = len(expected), len(received)
    best = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        for j in range(cols - 1, -1, -1):
            if expected[i] == received[j]:
                best[i][j] = best[i + 1][j + 1] + 1
            else:
                best[i][j] = max(best[i + 1][j], best[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < rows and j < cols:
        if expected[i] == received[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i + 1][j] >= best[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def matches(expected: Sequence[str], received: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (index in ``expected``, index in ``received``), by received index: the replies
    that answer expected ones in order first, then each further reply answers the earliest
    expected one of its kind still unanswered (out of order). A reply left without a pair is
    one too many; an expected reply left without one never came."""
    pairs = _in_order(expected, received)
    answered = {i for i, _ in pairs}
    used = {j for _, j in pairs}
    for j, kind in enumerate(received):
        if j in used:
            continue
        for i, wanted in enumerate(expected):
            if wanted == kind and i not in answered:
                pairs.append((i, j))
                answered.add(i)
                break
    return sorted(pairs, key=lambda pair: pair[1])


def tally(expected: Sequence[str], received: Sequence[str]) -> Tally:
    """Compare the reply kinds one chat should have got, in order, with those it got.

    Lost: an expected reply that never came. Doubled: a reply beyond the expected ones (an
    update answered twice; a kind never expected counts too). Out of order: a reply that
    answers an expected one, but not in the longest run of replies in the expected order.
    """
    in_order = len(_in_order(expected, received))
    paired = len(matches(expected, received))
    return Tally(len(expected) - paired, len(received) - paired, paired - in_order)


def kind_of(text: str, buttons: Sequence[Sequence[str]]) -> str:
    """The kind of a reply: ``status:<receipt>``, ``menu``, ``ask``, or ``other``."""
    found = STATUS_IN_TEXT.search(text)
    if found:
        return f"status:{found.group(1)}"
    if any("check a case" in label.casefold() for label, *_ in buttons):
        return "menu"
    if "receipt number" in text.casefold():
        return "ask"
    return "other"


# --- updates --------------------------------------------------------------------------------


class Updates:
    """Telegram updates of private chats, as the Bot API sends them."""

    def __init__(self) -> None:
        self.ids = itertools.count(1_000_000)

    def text(self, chat: int, text: str) -> dict[str, Any]:
        number = next(self.ids)
        message: dict[str, Any] = {
            "message_id": number,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": "Ana"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ana", "language_code": "en"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        return {"update_id": number, "message": message}

    def press(self, chat: int, data: str, message_id: int) -> dict[str, Any]:
        number = next(self.ids)
        return {
            "update_id": number,
            "callback_query": {
                "id": f"cq{number}",
                "from": {"id": chat, "is_bot": False, "first_name": "Ana", "language_code": "en"},
                "chat_instance": f"ci{chat}",
                "data": data,
                "message": {
                    "message_id": message_id,
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private", "first_name": "Ana"},
                    "from": {"id": 777000111, "is_bot": True, "first_name": "bot"},
                    "text": "…",
                },
            },
        }


# --- one window -----------------------------------------------------------------------------


@dataclass
class Chat:
    expected: list[tuple[str, int]] = field(default_factory=list)  # (kind, update_id)
    received: list[tuple[str, float, dict[str, Any]]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)


class Gone(Exception):
    """An expected reply did not come in time."""


class Driver:
    """Pushes updates to the fake, reads what comes back, and keeps it per chat."""

    def __init__(self, client: aiohttp.ClientSession, api: str, seed: int) -> None:
        self.client = client
        self.api = api
        self.updates = Updates()
        self.chats: dict[int, Chat] = {}
        self.delivered: dict[int, float] = {}
        self.read_replies = 0
        self.read_deliveries = 0
        self.pushed = 0
        self.redelivered = 0
        self.rng = random.Random(seed)
        self.webhook: dict[str, Any] | None = None
        self.webhook_failures = 0

    async def push(self, updates: list[dict[str, Any]]) -> None:
        async with self.client.post(f"{self.api}/control/push", json={"updates": updates}) as r:
            r.raise_for_status()

    async def read_once(self, wait: float) -> None:
        params = {
            "replies": str(self.read_replies),
            "deliveries": str(self.read_deliveries),
            "wait": str(wait),
        }
        async with self.client.get(f"{self.api}/control/read", params=params) as answer:
            body = await answer.json()
        self.read_replies += len(body["replies"])
        self.read_deliveries += len(body["deliveries"])
        self.webhook = body["webhook"]
        self.webhook_failures = body["webhook_failures"]
        for update_id, at in body["deliveries"]:
            self.delivered.setdefault(update_id, at)
        for reply in body["replies"]:
            chat = self.chats.get(reply["chat"])
            if chat is None:
                continue
            chat.received.append((kind_of(reply["text"], reply["buttons"]), reply["at"], reply))
            chat.arrived.set()

    async def reader(self) -> None:
        while True:
            await self.read_once(1.0)

    async def step(self, chat_id: int, updates: list[dict[str, Any]], kinds: list[str]) -> Any:
        """Send updates (each maybe twice), wait for the replies of these kinds; the last one."""
        chat = self.chats[chat_id]
        chat.expected += [
            (kind, update["update_id"]) for kind, update in zip(kinds, updates, strict=True)
        ]
        batch = []
        for update in updates:
            batch.append(update)
            self.pushed += 1
            if self.rng.random() < REDELIVER:
                batch.append(update)
                self.redelivered += 1
        await self.push(batch)
        needed = Counter(kind for kind, _ in chat.expected)
        deadline = time.monotonic() + WAIT
        while True:
            got = Counter(kind for kind, _, _ in chat.received)
            if all(got[kind] >= n for kind, n in needed.items()):
                last = [reply for kind, _, reply in chat.received if kind == kinds[-1]]
                return last[-1]
            chat.arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise Gone
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(chat.arrived.wait(), left)

    async def conversation(self, chat_id: int) -> None:
        self.chats[chat_id] = Chat()
        text, press = self.updates.text, self.updates.press
        try:
            menu = await self.step(chat_id, [text(chat_id, "/start")], ["menu"])
            data = button(menu, "check a case")
            await self.step(chat_id, [press(chat_id, data, menu["message_id"])], ["ask"])
            first, second = self.rng.sample(RECEIPTS, 2)
            typed = [first, second] if self.rng.random() < BURST else [first]
            status = await self.step(
                chat_id, [text(chat_id, r) for r in typed], [f"status:{r}" for r in typed]
            )
            if self.rng.random() < MENU_AFTER:
                data = button(status, "menu")
                await self.step(chat_id, [press(chat_id, data, status["message_id"])], ["menu"])
        except Gone:
            pass

    async def people(self, first_chat: int, chats: int, users: int) -> None:
        numbers = iter(range(first_chat, first_chat + chats))

        async def person() -> None:
            for chat_id in numbers:
                await self.conversation(chat_id)

        await asyncio.gather(*(person() for _ in range(users)))


def button(reply: dict[str, Any], label: str) -> str:
    for text, data in reply["buttons"]:
        if label in text.casefold():
            return str(data)
    raise Gone


# --- the bots -------------------------------------------------------------------------------


@dataclass
class Bot:
    name: str
    mode: str
    process: subprocess.Popen[bytes]
    log: Path
    store: Path | None = None  # casebot's SQLite file, PTB's pickle
    prefix: str | None = None  # aiogram's Redis keys
    killed: bool = False  # did not stop within STOP_TIMEOUT of SIGTERM (state may be unsaved)
    port: int = 0  # its webhook's port on 127.0.0.1

    def pids(self) -> list[int]:
        return [self.process.pid, *children(self.process.pid)]


def children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return found
    for child in text.split():
        found += [int(child), *children(int(child))]
    return found


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def redis_bytes(prefix: str) -> int:
    """Bytes Redis holds for the keys under ``prefix`` (``MEMORY USAGE`` of each)."""
    keys = subprocess.run(  # noqa: S603
        ["redis-cli", "--scan", "--pattern", f"{prefix}:*"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if not keys:
        return 0
    commands = "".join(f"MEMORY USAGE {key}\n" for key in keys)
    sizes = subprocess.run(
        ["redis-cli"],  # noqa: S607
        input=commands,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sum(int(size) for size in sizes if size.isdigit())


def redis_forget(prefix: str) -> None:
    keys = subprocess.run(  # noqa: S603
        ["redis-cli", "--scan", "--pattern", f"{prefix}:*"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for start in range(0, len(keys), 500):
        subprocess.run(["redis-cli", "DEL", *keys[start : start + 500]], capture_output=True)  # noqa: S603, S607


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("CASEBOT_", "TELEGRAM_"))}


def start_bot(
    name: str,
    mode: str,
    api: str,
    work: Path,
    demo: Path,
    number: int,
    profile: Path | None,
    port: int,
) -> Bot:
    log = work / f"{name}-{mode}-{number}.log"
    env = clean_env()
    db = work / f"{name}-{mode}-{number}.sqlite3"
    shutil.copy(demo, db)
    store: Path | None = None
    prefix: str | None = None
    if name == "casebot":
        env |= {
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "CASEBOT_TELEGRAM_API_URL": api,
            "CASEBOT_DATABASE_URL": f"sqlite:///{db}",
        }
        if mode == "webhook":
            env["CASEBOT_WEBHOOK_URL"] = "https://bot.example.test/telegram/webhook"
            env["CASEBOT_SECRET_KEY"] = SECRET_KEY
        command = [sys.executable]
        if profile is not None:
            command += ["-m", "cProfile", "-o", f"{profile}-{mode}-{number}.prof"]
        command += ["-m", "benchmarks.peers.casebot_peer", "serve"]
        command += ["--port", str(port)]
        store = db
    else:
        command = [str(PEERS_PYTHON), str(PEERS_DIR / f"{name}_peer.py"), "--api", api]
        command += ["--token", TOKEN, "--db", str(db)]
        if name == "ptb":
            store = work / f"ptb-{mode}-{number}.pickle"
            command += ["--state", str(store)]
        else:
            prefix = f"peers-{uuid.uuid4().hex[:10]}"
            command += ["--prefix", prefix]
        if mode == "webhook":
            command += ["--webhook-port", str(port)]
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (our own interpreters, fixed arguments)
            command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
        )
    return Bot(name, mode, process, log, store, prefix, port=port)


def stop_bot(bot: Bot) -> None:
    if bot.process.poll() is None:
        bot.process.terminate()
        try:
            bot.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            bot.killed = True
            bot.process.kill()
            bot.process.wait(5)


# --- a window -------------------------------------------------------------------------------


@dataclass
class Window:
    name: str
    mode: str
    chats: int = 0
    updates: int = 0
    redelivered: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0
    rss_growth: int = 0
    store_growth: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Tally = field(default_factory=Tally)
    other: int = 0
    webhook_failures: int = 0
    killed: bool = False

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def store_size(bot: Bot) -> int:
    """Bytes of the bot's durable conversation state (after it stopped: SQLite's WAL is then
    checkpointed into the file, PTB's pickle written)."""
    if bot.prefix is not None:
        return redis_bytes(bot.prefix)
    if bot.store is None:
        return 0
    size = 0
    for suffix in ("", "-wal"):
        with contextlib.suppress(OSError):
            size += Path(f"{bot.store}{suffix}").stat().st_size
    return size


async def window(
    client: aiohttp.ClientSession, api: str, name: str, mode: str, args: Any, number: int
) -> Window:
    # The fake learns where the webhook goes before the bot starts and calls setWebhook.
    port = free_port()
    target = f"http://127.0.0.1:{port}" if mode == "webhook" else None
    async with client.post(f"{api}/control/mode", json={"webhook_target": target}) as r:
        r.raise_for_status()
    bot = start_bot(name, mode, api, args.work, args.demo, number, args.profile, port)
    store_before = store_size(bot)  # the fresh copy of the demo database, or nothing
    driver = Driver(client, api, seed=number)
    result = Window(name, mode)
    reader: asyncio.Task[None] | None = None
    try:
        if mode == "webhook":
            deadline = time.monotonic() + START_TIMEOUT
            while driver.webhook is None:
                if bot.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{name} {mode}: no webhook: {tail(bot.log)}")
                await driver.read_once(0)
                await asyncio.sleep(0.2)
        reader = asyncio.create_task(driver.reader())
        # Ready: one conversation answered (a slow start-up waits here, not in the window).
        chat = 10_000_000 * number
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if bot.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} {mode}: not answering: {tail(bot.log)}")
            chat += 1
            await driver.conversation(chat)
            log = driver.chats[chat]
            received = [kind for kind, _, _ in log.received]
            if "other" not in received and not tally([k for k, _ in log.expected], received).lost:
                break
        await driver.people(chat + 1, WARM_CHATS, min(args.users, WARM_CHATS))
        await asyncio.sleep(0.5)
        driver.chats.clear()
        pushed, redelivered = driver.pushed, driver.redelivered
        pids = bot.pids()
        cpu_before, rss_before = cpu_seconds(pids), rss_bytes(pids)
        started = time.perf_counter()
        await driver.people(chat + 1 + WARM_CHATS, args.chats, args.users)
        result.elapsed = time.perf_counter() - started
        cpu_after, rss_after = cpu_seconds(pids), rss_bytes(pids)
        await asyncio.sleep(1.0)  # late replies (a redelivered update answered again)
        await driver.read_once(0)
        conversations = chat - 10_000_000 * number + WARM_CHATS + args.chats
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        stop_bot(bot)
        store_after = store_size(bot)
        if bot.prefix is not None:
            redis_forget(bot.prefix)
    # Per conversation of the whole window (start-up and warm-up ones too): all are stored.
    result.store_growth = round((store_after - store_before) * args.chats / conversations)
    result.killed = bot.killed
    result.cpu = cpu_after - cpu_before
    result.rss_growth = rss_after - rss_before
    result.chats = args.chats
    result.updates = driver.pushed - pushed
    result.redelivered = driver.redelivered - redelivered
    result.webhook_failures = driver.webhook_failures
    for chat_log in driver.chats.values():
        expected = [kind for kind, _ in chat_log.expected]
        received = [kind for kind, _, _ in chat_log.received]
        errors = tally(expected, received)
        result.errors += errors
        if args.show and errors != Tally() and args.show > 0:
            args.show -= 1
            print(f"  chat: expected {expected}, received {received}", file=sys.stderr)
        result.other += received.count("other")
        for answered, index in matches(expected, received):
            update_id = chat_log.expected[answered][1]
            if update_id in driver.delivered:
                result.latencies.append(chat_log.received[index][1] - driver.delivered[update_id])
    return result


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-1500:]


# --- the run --------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(args: Any, windows: dict[tuple[str, str], list[Window]], total: float) -> str:
    def figure(name: str, mode: str) -> dict[str, float]:
        runs = windows[(name, mode)]
        latencies = [x for w in runs for x in w.latencies]
        joined = Window(name, mode, latencies=latencies)
        updates = sum(w.updates for w in runs)
        chats = sum(w.chats for w in runs)
        return {
            "rate": median([w.rate for w in runs]),
            "p50": joined.percentile_ms(0.50),
            "p99": joined.percentile_ms(0.99),
            "cpu": 1000 * sum(w.cpu for w in runs) / max(updates, 1),
            "rss": sum(w.rss_growth for w in runs) / max(chats, 1) * 10_000 / 2**20,
            "store": sum(w.store_growth for w in runs) / max(chats, 1) * 10_000 / 2**20,
            "lost": sum(w.errors.lost for w in runs),
            "doubled": sum(w.errors.doubled for w in runs),
            "reordered": sum(w.errors.reordered for w in runs),
            "other": sum(w.other for w in runs),
            "updates": updates,
            "redelivered": sum(w.redelivered for w in runs),
        }

    rows = []
    figures: dict[tuple[str, str], dict[str, float]] = {}
    for mode in args.modes:
        for name in args.bots:
            f = figures[(name, mode)] = figure(name, mode)
            rows.append(
                f"| {LABELS[name]} | {mode} | **{f['rate']:,.0f}** | {f['p50']:.1f} / "
                f"{f['p99']:.1f} | {f['cpu']:.2f} | {f['rss']:+.1f} | {f['store']:+.1f} | "
                f"{f['lost']:.0f} / {f['doubled']:.0f} / {f['reordered']:.0f} | "
                f"{f['updates']:,.0f} ({f['redelivered']:.0f} twice) |"
            )
    per_round = []
    for number in range(args.rounds):
        cells = []
        for name, mode in args.order[number]:
            w = windows[(name, mode)][number]
            cells.append(f"{LABELS[name]} {mode} {w.rate:,.0f}/s")
        per_round.append(f"- round {number + 1}: " + ", ".join(cells))
    goals = []
    for mode in args.modes:
        if "casebot" not in args.bots:
            continue
        peers = [n for n in args.bots if n != "casebot"]
        if not peers:
            continue
        own = figures[("casebot", mode)]
        fastest = max(peers, key=lambda n: figures[(n, mode)]["rate"])
        best = figures[(fastest, mode)]
        lightest = min(peers, key=lambda n: figures[(n, mode)]["rss"] + figures[(n, mode)]["store"])
        light = figures[(lightest, mode)]
        goals.append(
            f"- {mode}: casebot {own['rate']:,.0f} updates/s = "
            f"**{own['rate'] / best['rate']:.2f}×** the faster peer ({LABELS[fastest]}, "
            f"{best['rate']:,.0f}/s; goal ≥ 2×); p99 {own['p99']:.1f} ms against "
            f"{best['p99']:.1f} ms (goal: no worse); lost/doubled/reordered "
            f"{own['lost']:.0f}/{own['doubled']:.0f}/{own['reordered']:.0f} (goal 0/0/0); "
            f"memory per 10,000 conversations (RSS + store) "
            f"{own['rss'] + own['store']:+.1f} MiB against the lighter peer's "
            f"{light['rss'] + light['store']:+.1f} MiB ({LABELS[lightest]})"
        )
    command = "python -m benchmarks.peers.harness" + (" --quick" if args.quick else "")
    command += f" --chats {args.chats} --rounds {args.rounds} --users {args.users}"
    return f"""
- date: {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
- machine: {cores()} cores, {cpu_model()}; Python {platform.python_version()}; load average \
{args.load:.2f} at the start (a shared machine: read each figure beside the others of this run)
- command: `{command}` (whole run {total:.0f} s); the peers' versions: {args.versions}

| bot | mode | updates/s | p50 / p99 ms | CPU ms per update | RSS MiB per 10,000 conversations \
| store MiB per 10,000 conversations | lost / doubled / reordered | updates (redelivered) |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Goals:
{chr(10).join(goals)}

Rounds (windows in the order run; the order rotates):
{chr(10).join(per_round)}

How to read it: each window is one bot in one mode, fresh state, {args.users} people at once \
holding {args.chats:,} conversations (after {WARM_CHATS} untimed ones), each waiting for the \
answer before its next step; updates/s is the distinct updates of the window over its wall \
time, so it is the rate at which the bot answers such people, not an open-loop flood. The \
latency runs from the update's delivery (`getUpdates` answered, or the webhook POST sent) to \
its reply's arrival at the fake Bot API, both on the fake's clock. CPU is the bot's processes' \
own (`/proc`); the fake, the harness and (for aiogram) Redis are not in it. RSS is the growth \
of the bot's resident memory over the window; store is the growth of the durable conversation \
state (casebot: its SQLite file, which also keeps the update-dedupe inbox and the reply \
outbox; PTB: the pickle file, written at shut-down; aiogram: Redis `MEMORY USAGE` of the run's \
keys). "Other" replies (neither menu, question nor status) in the whole run: \
{sum(f["other"] for f in figures.values()):.0f}. Webhook POSTs refused: \
{sum(w.webhook_failures for ws in windows.values() for w in ws)}. Bots that did not stop \
within {STOP_TIMEOUT:.0f} s of SIGTERM and were killed (their state maybe unsaved): \
{", ".join(f"{w.name} {w.mode}" for ws in windows.values() for w in ws if w.killed) or "none"}.
"""


LABELS: Final = {
    "casebot": "casebot",
    "ptb": "python-telegram-bot",
    "aiogram": "aiogram + aiogram-dialog",
}


def peer_versions() -> str:
    if not PEERS_PYTHON.exists():
        return "n/a"
    code = (
        "from importlib.metadata import version as v;"
        "print(', '.join(f'{n} {v(n)}' for n in "
        "('python-telegram-bot', 'aiogram', 'aiogram-dialog', 'redis')))"
    )
    return subprocess.run(  # noqa: S603
        [str(PEERS_PYTHON), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def make_demo(work: Path) -> Path:
    demo = work / "demo.sqlite3"
    env = clean_env() | {"PYTHONPATH": str(ROOT), "CASEBOT_DATABASE_URL": f"sqlite:///{demo}"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo"], cwd=work, env=env, capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"casebot demo failed: {done.stdout[-1500:]!r}{done.stderr[-1500:]!r}")
    return demo


def start_fake(port: int, log: Any) -> subprocess.Popen[bytes]:
    """The fake Bot API, a process of its own."""
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "benchmarks.peers.fake_api", "--port", str(port)],
        cwd=ROOT,
        env=clean_env() | {"PYTHONPATH": str(ROOT)},
        stdout=log,
        stderr=log,
    )


async def run(args: Any) -> int:
    args.load = os.getloadavg()[0]
    args.versions = peer_versions()
    started = time.perf_counter()
    configs = [(name, mode) for mode in args.modes for name in args.bots]
    windows: dict[tuple[str, str], list[Window]] = {c: [] for c in configs}
    args.order = []
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="casebot-peers-") as folder:
        args.work = Path(folder)
        args.demo = make_demo(args.work)
        fake_log = (args.work / "fake.log").open("wb")
        fake = start_fake(port, fake_log)
        try:
            connector = aiohttp.TCPConnector(limit=args.users + 8)
            timeout = aiohttp.ClientTimeout(total=60)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
                for _ in range(100):
                    with contextlib.suppress(aiohttp.ClientError):
                        async with client.get(f"{api}/control/read") as r:
                            if r.status == 200:
                                break
                    await asyncio.sleep(0.1)
                number = 0
                for round_number in range(args.rounds):
                    shift = round_number % len(configs)
                    order = configs[shift:] + configs[:shift]
                    args.order.append(order)
                    for name, mode in order:
                        number += 1
                        print(
                            f"round {round_number + 1}/{args.rounds}: {name} {mode}",
                            file=sys.stderr,
                        )
                        result = await window(client, api, name, mode, args, number)
                        print(
                            f"  {result.rate:,.0f} updates/s, "
                            f"p99 {result.percentile_ms(0.99):.1f} ms, {result.errors}",
                            file=sys.stderr,
                        )
                        windows[(name, mode)].append(result)
        finally:
            fake.terminate()
            fake.wait(10)
            fake_log.close()
    body = report(args, windows, time.perf_counter() - started)
    print(body)
    if args.no_write or args.profile is not None:
        return 0
    write_section(SECTION, body)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 300 conversations")
    parser.add_argument("--chats", type=int, help="conversations per window (default 2,000)")
    parser.add_argument("--rounds", type=int, help="rounds over every bot and mode (default 3)")
    parser.add_argument("--users", type=int, default=64, help="people at once (default 64)")
    parser.add_argument("--bots", nargs="+", choices=BOTS, default=list(BOTS))
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--no-write", action="store_true", help="print, leave RESULTS.md alone")
    parser.add_argument("--show", type=int, default=0, help="print this many chats that went wrong")
    parser.add_argument(
        "--profile",
        type=Path,
        help="run casebot under cProfile, its stats to PROFILE-MODE-N.prof (implies --no-write)",
    )
    args = parser.parse_args(argv)
    if args.chats is None:
        args.chats = 300 if args.quick else 2_000
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    if not 1 <= args.rounds <= 9 or not 10 <= args.chats <= 50_000 or not 1 <= args.users <= 512:
        parser.error("--rounds 1-9, --chats 10-50,000, --users 1-512")
    if any(b != "casebot" for b in args.bots) and not PEERS_PYTHON.exists():
        parser.error(f"no {PEERS_PYTHON}: make bench-peers builds the peers' environment")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
