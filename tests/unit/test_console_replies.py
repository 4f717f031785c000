"""The console's canned replies: the same replies in each of the 11 languages, none empty, and
none that asks for a password or a code in a way the chat would withhold."""

from __future__ import annotations

from bot.channels.web.console_desk import canned_replies
from bot.engine.handoff import looks_like_secret
from core.staff.models import STAFF_LANGUAGES


def test_every_language_has_the_same_canned_replies() -> None:
    replies = canned_replies()
    assert set(replies) == set(STAFF_LANGUAGES)
    labels = [reply["label"] for reply in replies["en"]]
    assert labels
    for language in STAFF_LANGUAGES:
        assert [reply["label"] for reply in replies[language]] == labels, language
        for reply in replies[language]:
            assert reply["text"].strip(), language
            assert len(reply["text"]) < 300
            assert not looks_like_secret(reply["text"])
    assert replies["es"][0]["text"] != replies["en"][0]["text"]
