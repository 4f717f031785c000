"""The counting of ``benchmarks.bench_notify``: a lost, a doubled, a stray or a night message
fails the run (no timing here)."""

from __future__ import annotations

from benchmarks.bench_notify import ChannelRun, Run, Tally, failures, tally


def test_each_recipient_once_is_clean() -> None:
    assert tally(["a", "b", "c"], ["c", "a", "b"]) == Tally(
        expected=3, received=3, lost=0, doubled=0, unexpected=0
    )


def test_a_lost_and_a_doubled_message_are_both_counted() -> None:
    # As many messages as expected arrived, yet "b" got none and "a" two: not a clean run.
    counted = tally(["a", "b", "c"], ["a", "a", "c"])
    assert (counted.received, counted.lost, counted.doubled) == (3, 1, 1)


def test_a_message_to_someone_not_expected_is_counted() -> None:
    assert tally(["a"], ["a", "z", "z"]).unexpected == 2


def _run(email: Tally, sms: Tally, *, night_sent: int = 0, night_pending: int = 1) -> Run:
    return Run(
        backend="SQLite",
        cases=3,
        queued=6,
        queue_seconds=1.0,
        email=ChannelRun("email", email, email.expected, 1.0, 1, 100.0),
        sms=ChannelRun("sms", sms, sms.expected, 1.0, 1, 100.0),
        night_sent=night_sent,
        night_pending=night_pending,
        nights=1,
    )


def test_the_run_fails_on_a_lost_a_doubled_or_a_night_text() -> None:
    clean = tally(["a", "b", "c"], ["a", "b", "c"])
    texts = tally(["+1", "+2"], ["+1", "+2"])
    assert failures(_run(clean, texts)) == []
    assert failures(_run(tally(["a", "b", "c"], ["a", "a", "c"]), texts))  # mail
    assert failures(_run(clean, tally(["+1", "+2"], ["+1", "+1", "+2"])))  # a text twice
    assert failures(_run(clean, tally(["+1", "+2"], ["+1"])))  # a text lost
    assert failures(_run(clean, texts, night_sent=1, night_pending=0))  # sent at night
    assert failures(_run(clean, texts, night_pending=0))  # a night text neither sent nor due
