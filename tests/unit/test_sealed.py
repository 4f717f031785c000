"""Secrets sealed between turns: readable only with the key, unaltered, and only for a while."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.dialogs.accounts.sealed import open_sealed, seal

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
KEY = "k" * 32
AGE = timedelta(minutes=30)


def test_opens_what_it_sealed_and_hides_it() -> None:
    token = seal(KEY, {"code": "123456", "answers": {"first_pet": "maple"}}, NOW)
    assert "maple" not in token
    assert open_sealed(KEY, token, NOW + AGE, AGE) == {
        "code": "123456",
        "answers": {"first_pet": "maple"},
    }


def test_does_not_open_when_too_old() -> None:
    token = seal(KEY, {"code": "123456"}, NOW)
    assert open_sealed(KEY, token, NOW + AGE + timedelta(seconds=1), AGE) is None


def test_does_not_open_under_another_key_or_when_altered() -> None:
    token = seal(KEY, {"code": "123456"}, NOW)
    assert open_sealed("x" * 32, token, NOW, AGE) is None
    assert open_sealed(None, token, NOW, AGE) is None
    altered = token[:-5] + ("A" if token[-5] != "A" else "B") + token[-4:]
    assert open_sealed(KEY, altered, NOW, AGE) is None
    assert open_sealed(KEY, "not a token ✓", NOW, AGE) is None


def test_the_development_key_works_without_a_setting() -> None:
    token = seal(None, {"password": "lantern-harbor-orchid-97"}, NOW)
    assert open_sealed(None, token, NOW, AGE) == {"password": "lantern-harbor-orchid-97"}
