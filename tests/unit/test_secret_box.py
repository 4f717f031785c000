"""Secrets at rest (core/secret_box.py): sealed under the current key, opened under any
configured one, legacy plain values read as they are, and a missing key named, not guessed."""

from __future__ import annotations

import re

import pytest

from core.errors import SecretUnreadable
from core.secret_box import DEVELOPMENT_KEY, SEALED_PREFIX, SecretBox, is_sealed, key_id

KEY = "k" * 16 + "-current-secret-key-0123456789"
OLD_KEY = "o" * 16 + "-old-secret-key-for-rotation-42"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def test_seals_and_opens_and_the_stored_form_shows_no_secret() -> None:
    box = SecretBox(KEY)
    stored = box.seal(SECRET)
    assert stored.startswith(f"{SEALED_PREFIX}{key_id(KEY)}:")
    assert SECRET not in stored
    assert box.open(stored) == SECRET
    assert len(stored) <= 200  # the column's width


def test_each_seal_is_different() -> None:
    box = SecretBox(KEY)
    assert box.seal(SECRET) != box.seal(SECRET)


def test_a_legacy_plain_value_is_read_as_it_is_and_is_not_current() -> None:
    box = SecretBox(KEY)
    assert not is_sealed(SECRET)
    assert box.open(SECRET) == SECRET
    assert not box.is_current(SECRET)


def test_another_key_cannot_open_it_and_names_the_missing_key() -> None:
    stored = SecretBox(OLD_KEY).seal(SECRET)
    with pytest.raises(SecretUnreadable) as caught:
        SecretBox(KEY).open(stored)
    assert caught.value.key_id == key_id(OLD_KEY)


def test_an_old_key_still_opens_and_the_value_is_not_current() -> None:
    stored = SecretBox(OLD_KEY).seal(SECRET)
    rotated = SecretBox(KEY, old_keys=[OLD_KEY])
    assert rotated.open(stored) == SECRET
    assert not rotated.is_current(stored)
    assert rotated.is_current(rotated.seal(SECRET))


def test_an_altered_value_is_refused() -> None:
    box = SecretBox(KEY)
    stored = box.seal(SECRET)
    head, token = stored.rsplit(":", 1)
    altered = f"{head}:{token[:-6]}{'A' if token[-6] != 'A' else 'B'}{token[-5:]}"
    with pytest.raises(SecretUnreadable):
        box.open(altered)
    with pytest.raises(SecretUnreadable):
        box.open(f"{SEALED_PREFIX}:")


def test_without_a_key_the_development_key_seals_and_is_always_readable() -> None:
    development = SecretBox(None)
    assert development.uses_development_key
    stored = development.seal(SECRET)
    assert stored.startswith(f"{SEALED_PREFIX}{key_id(DEVELOPMENT_KEY)}:")
    production = SecretBox(KEY)
    assert not production.uses_development_key
    assert production.open(stored) == SECRET  # a development database moves to a real key
    assert not production.is_current(stored)


def test_the_key_id_is_short_and_reveals_nothing_of_the_key() -> None:
    name = key_id(KEY)
    assert re.fullmatch(r"[0-9a-f]{8}", name)
    assert name not in KEY
    assert key_id(KEY) != key_id(OLD_KEY)
