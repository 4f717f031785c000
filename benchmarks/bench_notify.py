"""Benchmark of status-change notifications fanned out to email and text messages (issue 22).

Run ``.venv/bin/python -m benchmarks.bench_notify [--quick] [--no-postgres]`` (or ``make bench``).

5,000 cases (``--quick``: 1,000), each followed by two confirmed contact points: an email
address and a US mobile number. One in five numbers is in a time zone where it is night now
(quiet hours); the others, and every address, where it is midday. An operator's status change
on every case (``update_status``, 100 cases a transaction) queues the notifications through the
real domain: 10,000 (2,000), half mail, half texts. Then the ``casebot serve`` dispatcher
(``OutboxDispatcher`` with ``EmailSender`` + ``SmtpMailer`` and ``SmsSender`` + ``TwilioSms``,
its batch of 50) runs both channels at once, pass after pass, until nothing is due. The mail
goes to an SMTP server (aiosmtpd, ``benchmarks/smtp_sink.py``, its own process) that records the
recipient and ``Message-ID`` of each; the texts to the fake Twilio (``tests/sms_fake.py``, its
own process), which records each.

Figures: messages per second per channel (from the first pass to the channel's last), and what
the servers received, counted by recipient: every mail and every daytime text once (0 lost, 0
doubled), no night text sent (each pending, deferred to 08:00 in its zone). References measured
in the same run: each server's own rate with the same client and the same 50 in flight, no
database (``SmtpMailer.send`` and ``TwilioSms.send`` alone). The run fails, and leaves
RESULTS.md alone, when a property does not hold.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy import select

from benchmarks.bench_core import Backends
from benchmarks.bench_sms import number, zone_at
from benchmarks.results import cores, cpu_model, free_port, record
from benchmarks.smtp_sink import SmtpSink
from bot.notify.dispatcher import BATCH, OutboxDispatcher
from bot.notify.email import EmailSender
from bot.notify.mail import SmtpMailer
from bot.notify.sms import SmsSender
from bot.sms.twilio import TwilioSms
from core.cases.models import Case
from core.cases.service import update_status
from core.clock import SystemClock
from core.contacts.models import ContactFollow, ContactPoint
from core.contacts.service import token_hash
from core.db import Database
from core.outbox.models import OutboxMessage, OutboxStatus
from core.ports import OutgoingMail, OutgoingSms
from core.uow import UnitOfWorkFactory
from tests.sms_fake import ACCOUNT, FROM, TOKEN, FakeTwilio

SECTION: Final = "Notifications by email and text (issue 22)"
NIGHT_EVERY: Final = 5  # one number in five is in its quiet hours
PER_TRANSACTION: Final = 100  # status changes an operator's unit of work records
REFERENCE: Final = 1_000  # messages each server gets alone, for its reference rate


def receipt(n: int) -> str:
    return f"IOE09{n:08d}"


def email(n: int) -> str:
    return f"person{n}@example.com"


@dataclass(frozen=True)
class Tally:
    """What a server received against what it should have: each expected recipient once."""

    expected: int
    received: int
    lost: int  # expected recipients that got nothing
    doubled: int  # copies beyond the first, to any recipient
    unexpected: int  # messages to a recipient that should have got none


def tally(expected: Iterable[str], received: Iterable[str]) -> Tally:
    """Count one message per recipient of ``expected`` in ``received`` (one recipient per
    message the server accepted)."""
    wanted = set(expected)
    got = Counter(received)
    return Tally(
        expected=len(wanted),
        received=sum(got.values()),
        lost=sum(1 for r in wanted if got[r] == 0),
        doubled=sum(c - 1 for r, c in got.items() if c > 1 and r in wanted),
        unexpected=sum(c for r, c in got.items() if r not in wanted),
    )


@dataclass(frozen=True)
class ChannelRun:
    channel: str
    tally: Tally
    sent_rows: int  # outbox rows marked sent
    elapsed: float
    passes: int
    reference: float  # the server's rate alone, messages/s

    @property
    def rate(self) -> float:
        return self.tally.received / self.elapsed if self.elapsed else 0.0


@dataclass(frozen=True)
class Run:
    backend: str
    cases: int
    queued: int  # outbox rows the status changes queued
    queue_seconds: float
    email: ChannelRun
    sms: ChannelRun
    night_sent: int  # texts the fake received for numbers in their quiet hours
    night_pending: int  # their rows, pending (deferred)
    nights: int


def failures(run: Run) -> list[str]:
    """Every property the run broke (empty: it held them all)."""
    broken = []
    if run.queued != 2 * run.cases:
        broken.append(f"{run.backend}: {run.queued} notifications queued, not {2 * run.cases}")
    for channel in (run.email, run.sms):
        t = channel.tally
        if t.lost or t.doubled or t.unexpected:
            broken.append(f"{run.backend} {channel.channel}: {t}")
        if channel.sent_rows != t.expected:
            broken.append(
                f"{run.backend} {channel.channel}: {channel.sent_rows} rows sent of {t.expected}"
            )
    if run.night_sent:
        broken.append(f"{run.backend}: {run.night_sent} texts sent in quiet hours")
    if run.night_pending != run.nights:
        broken.append(f"{run.backend}: {run.night_pending} of {run.nights} night texts pending")
    return broken


async def seed(factory: UnitOfWorkFactory, cases: int) -> tuple[list[str], set[str]]:
    """The cases and their confirmed contact points; the daytime numbers, the night ones."""
    day, night = zone_at(12), zone_at(2)
    days: list[str] = []
    nights: set[str] = set()
    async with factory() as uow:
        now = uow.clock.now()
        for start in range(0, cases, 500):
            chunk = range(start, min(cases, start + 500))
            rows = [
                Case(receipt_number=receipt(n), form_type="I-765", status_code="case_received")
                for n in chunk
            ]
            uow.session.add_all(rows)
            await uow.flush()
            for n, case in zip(chunk, rows, strict=True):
                quiet = n % NIGHT_EVERY == 0
                (nights.add if quiet else days.append)(number(n))
                for channel, address, zone in (
                    ("email", email(n), day),
                    ("sms", number(n), night if quiet else day),
                ):
                    contact = ContactPoint(
                        channel=channel,
                        address=address,
                        locale="en",
                        time_zone=zone,
                        verified_at=now,
                        token_hash=token_hash(f"token-{channel}-{n}"),
                        token_sealed=uow.secret_box.seal(f"token-{channel}-{n}"),
                        created_at=now,
                    )
                    uow.session.add(contact)
                    await uow.flush()
                    uow.session.add(ContactFollow(contact_id=contact.id, case_id=case.id))
            await uow.flush()
        await uow.commit()
    return days, nights


async def change_statuses(factory: UnitOfWorkFactory, cases: int) -> None:
    for start in range(0, cases, PER_TRANSACTION):
        async with factory() as uow:
            for n in range(start, min(cases, start + PER_TRANSACTION)):
                assert await update_status(uow, receipt(n), "approved")
            await uow.commit()


async def reference_rate(send: Callable[[int], Awaitable[object]], messages: int) -> float:
    """Messages per second sending ``messages`` with ``BATCH`` in flight, as a pass does."""
    started = time.perf_counter()
    for start in range(0, messages, BATCH):
        await asyncio.gather(*(send(n) for n in range(start, min(messages, start + BATCH))))
    return messages / (time.perf_counter() - started)


async def drain(dispatcher: OutboxDispatcher, channel: str) -> tuple[float, int]:
    """Passes on ``channel`` until one claims nothing: (seconds to the last, passes)."""
    started = time.perf_counter()
    passes = 0
    while (await dispatcher.run_once(channel)).claimed:
        passes += 1
    return time.perf_counter() - started, passes


async def run(name: str, db: Database, sink: SmtpSink, fake: FakeTwilio, cases: int) -> Run:
    await fake.control(reset=True)
    factory = UnitOfWorkFactory(db)
    clock = SystemClock()
    mailer = SmtpMailer(sink.url, clock=clock)
    provider = TwilioSms(fake.url, ACCOUNT, TOKEN, FROM)
    try:
        # The references first: the servers alone, the same client, no database.
        mail_ref = await reference_rate(
            lambda n: mailer.send(
                OutgoingMail(to=f"ref{n}@example.net", subject="Reference", body=f"Mail {n}.")
            ),
            REFERENCE,
        )
        sms_ref = await reference_rate(
            lambda n: provider.send(OutgoingSms(to=number(900_000 + n), body=f"Text {n}.")),
            REFERENCE,
        )
        await fake.control(reset=True)
        ref_lines = len(sink.received())

        days, nights = await seed(factory, cases)
        started = time.perf_counter()
        await change_statuses(factory, cases)
        queue_seconds = time.perf_counter() - started

        dispatcher = OutboxDispatcher(
            factory,
            clock,
            [EmailSender(mailer, factory), SmsSender(provider, factory, clock)],
        )
        (mail_seconds, mail_passes), (sms_seconds, sms_passes) = await asyncio.gather(
            drain(dispatcher, "email"), drain(dispatcher, "sms")
        )
    finally:
        await provider.close()

    mails = sink.received()[ref_lines:]
    texts = (await fake.state())["messages"]
    async with factory() as uow:
        rows = list(await uow.session.scalars(select(OutboxMessage)))
    sent = Counter(r.channel for r in rows if r.status is OutboxStatus.SENT)
    to = Counter(m["to"] for m in texts)
    return Run(
        backend=name,
        cases=cases,
        queued=len(rows),
        queue_seconds=queue_seconds,
        email=ChannelRun(
            "email",
            tally((email(n) for n in range(cases)), (rcpt for rcpt, _id in mails)),
            sent["email"],
            mail_seconds,
            mail_passes,
            mail_ref,
        ),
        sms=ChannelRun(
            "sms",
            tally(days, (m["to"] for m in texts if m["to"] not in nights)),
            sent["sms"],
            sms_seconds,
            sms_passes,
            sms_ref,
        ),
        night_sent=sum(to[n] for n in nights),
        night_pending=sum(r.status is OutboxStatus.PENDING and r.address in nights for r in rows),
        nights=len(nights),
    )


def _row(r: Run, c: ChannelRun) -> str:
    t = c.tally
    quiet = f"{r.night_sent} ({r.night_pending:,} deferred)" if c.channel == "sms" else "-"
    return (
        f"| {r.backend} | {c.channel} | {t.expected:,} | {t.received:,} | **{c.rate:,.0f}** | "
        f"{c.reference:,.0f} | {c.passes} | {t.lost} | {t.doubled} | {quiet} |"
    )


async def main_async(cases: int, with_postgres: bool, command: str) -> int:
    load = os.getloadavg()[0]
    whole = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        sink = SmtpSink(free_port(), Path(folder) / "mail.tsv")
        fake = FakeTwilio(free_port())
        backends = Backends(Path(folder), with_postgres)
        await backends.setup()
        try:
            results = await backends.on_each(
                "notifications", lambda name, db: run(name, db, sink, fake, cases)
            )
        finally:
            await backends.teardown()
            fake.stop()
            sink.stop()
    broken = [problem for r in results for problem in failures(r)]
    table = "\n".join(
        [
            "| backend | channel | expected | received | messages/s | reference: the server "
            "alone, messages/s | passes | lost | doubled | texts sent in quiet hours |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *(_row(r, c) for r in results for c in (r.email, r.sms)),
        ]
    )
    queueing = "; ".join(
        f"{r.backend} {r.queued:,} in {r.queue_seconds:.1f} s = "
        f"{r.queued / r.queue_seconds:,.0f} notifications/s"
        for r in results
    )
    version = f", PostgreSQL {backends.pg_version} (local)" if backends.pg_version else ""
    body = f"""- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC
- machine: {cores()} cores (nproc), {cpu_model()}; Python {sys.version.split()[0]}{version};
  load average {load:.2f} at the start (shared machine: compare each rate with its reference)
- command: `{command}` (whole run {time.perf_counter() - whole:.0f} s)

{table}

Queueing (the operator's status changes, {PER_TRANSACTION} cases a transaction, fanned out to
both contact points of each case): {queueing}.

How to read it: {cases:,} cases, each followed by a confirmed email address and a confirmed US
mobile number; a status change on each queues {2 * cases:,} notifications through the domain
(`update_status`). One dispatcher runs the two channels at once in passes of the `casebot
serve` batch ({BATCH}); each channel is exclusive (one worker sends mail, one sends texts).
Mail goes by `SmtpMailer` to aiosmtpd in its own process (`benchmarks/smtp_sink.py`), one SMTP
connection per mail, each in a thread of the default pool (cores + 4 threads); texts by
`TwilioSms` to the fake Twilio (`tests/sms_fake.py`, its own process). Received messages are
counted by recipient: lost is an address or daytime number that got nothing, doubled any copy
beyond the first. One number in {NIGHT_EVERY} is in a zone where it is night: its text is
deferred to 08:00 there, none sent. The reference is the same server fed by the same client,
{REFERENCE:,} messages with {BATCH} in flight and no database: what the transport allows; the
gap to it is the outbox's work (claim, screen, render, the opted-out check and the sent mark of
each message, and the unsubscribe link's token opened for each mail)."""
    return record(SECTION, body, table, broken)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1,000 cases (2,000 messages)")
    parser.add_argument("--cases", type=int, default=None, help="cases (default 5,000)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    cases = args.cases or (1_000 if args.quick else 5_000)
    command = "python -m benchmarks.bench_notify" + (" --quick" if args.quick else "")
    if args.cases:
        command += f" --cases {args.cases}"
    sys.exit(asyncio.run(main_async(cases, not args.no_postgres, command)))


if __name__ == "__main__":
    main()
