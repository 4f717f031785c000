"""The benchmark's SMTP sink (``benchmarks/smtp_sink.py``, its own process) records every mail
it accepts, so ``bench_notify`` sees a mail sent twice and a mail never sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.bench_notify import tally
from benchmarks.results import free_port
from benchmarks.smtp_sink import SmtpSink
from bot.notify.mail import SmtpMailer
from core.ports import OutgoingMail


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    server = SmtpSink(free_port(), tmp_path / "mail.tsv")
    yield server
    server.stop()


def mail(to: str) -> OutgoingMail:
    return OutgoingMail(to=to, subject="Case update", body="Your case was approved.")


async def test_a_mail_sent_twice_and_one_never_sent_are_counted(sink: SmtpSink) -> None:
    mailer = SmtpMailer(sink.url)
    for to in ("a@example.com", "b@example.com", "a@example.com"):
        await mailer.send(mail(to))

    received = sink.received()
    counted = tally(["a@example.com", "b@example.com", "c@example.com"], [r for r, _ in received])

    assert (counted.received, counted.lost, counted.doubled) == (3, 1, 1)
    assert all(message_id.startswith("<") for _, message_id in received)
