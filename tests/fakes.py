"""Fakes of the core's ports, for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.ports import OutgoingMail

__all__ = ["FakeClock", "FakeMailer"]


class FakeClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday, 10:00 in New York

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        self._now += delta if delta is not None else timedelta(**kwargs)
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = moment


class FakeMailer:
    """Records every email instead of sending it; ``fail`` makes the next sends raise."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []
        self.fail = False

    async def send(self, mail: OutgoingMail) -> None:
        if self.fail:
            raise ConnectionRefusedError("the fake mail server is down")
        self.sent.append(mail)

    def last_to(self, address: str) -> OutgoingMail:
        for mail in reversed(self.sent):
            if mail.to == address:
                return mail
        raise AssertionError(f"no mail to {address}; sent: {[m.to for m in self.sent]}")

    def last_code(self, address: str) -> str:
        """The last 6-digit code mailed to an address."""
        import re

        found = re.findall(r"\b\d{6}\b", self.last_to(address).body)
        if not found:
            raise AssertionError("the last mail holds no 6-digit code")
        return str(found[-1])


def break_every_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every turn meet a bug in its flow (the engine's dispatch raises), for the tests of
    what a failed turn leaves behind."""
    from bot.engine import Engine  # here: the fakes are imported by tests of core alone too

    async def broken(*_args: Any) -> None:
        raise RuntimeError("a bug in a flow")

    monkeypatch.setattr(Engine, "_dispatch", broken)
