from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from bot.wording.i18n import translator
from bot.wording.statuses import (
    NEXT_STEP_WORDING,
    STATUS_WORDING,
    case_text,
    next_step_text,
    status_meaning,
    status_title,
)
from core.cases.statuses import STATUSES, NextStep, get_status


def _ctx() -> Any:
    """Just what the wording needs from a Context: English, and the contact numbers."""
    t = translator("en")
    services = SimpleNamespace(contact_phone="1-800-375-5283", contact_tty="1-800-767-1833")
    return SimpleNamespace(_=t._, t=t, services=services)


def test_every_status_in_the_catalog_has_a_title_and_a_plain_description() -> None:
    missing = [status.code for status in STATUSES if status.code not in STATUS_WORDING]
    assert missing == []
    for status in STATUSES:
        wording = STATUS_WORDING[status.code]
        assert wording.title == status.title  # the msgid is the official English title
        assert 20 <= len(wording.meaning) <= 200, status.code


def test_no_wording_is_kept_for_a_status_the_catalog_does_not_know() -> None:
    assert set(STATUS_WORDING) == {status.code for status in STATUSES}


def test_every_next_step_hint_is_worded_and_promises_nothing() -> None:
    assert set(NEXT_STEP_WORDING) == set(NextStep)
    for hint, text in NEXT_STEP_WORDING.items():
        assert "will be approved" not in text, hint
        assert "guarantee" not in text, hint
    ctx = _ctx()
    for status in STATUSES:
        worded = next_step_text(ctx, status)
        assert worded, status.code
        assert "{" not in worded, status.code


def test_a_case_reads_title_meaning_day_and_next_step() -> None:
    ctx = _ctx()
    approved = get_status("approved")
    assert status_title(ctx, approved) == "Case Was Approved"
    assert "approved your case" in status_meaning(ctx, approved)
    text = case_text(
        ctx,
        receipt="WAC2212345678",
        form_type="I-765",
        status=approved,
        updated_at=datetime(2026, 10, 28, 14, tzinfo=UTC),
    )
    assert "Case WAC2212345678 (I-765)" in text
    assert "Status: Case Was Approved" in text
    assert "Last update: October 28, 2026" in text
    assert "What usually happens next:" in text
    assert "History" not in text


def test_the_history_is_listed_newest_first_by_the_uscis_calendar_day() -> None:
    ctx = _ctx()
    received, fee = get_status("case_received"), get_status("fingerprint_fee_received")
    # 02:00 UTC on the 15th is still the 14th in Washington.
    early = datetime(2026, 9, 15, 2, tzinfo=UTC)
    later = datetime(2026, 9, 16, 14, tzinfo=UTC)
    text = case_text(
        ctx,
        receipt="IOE0912345679",
        form_type="I-485",
        status=fee,
        updated_at=later,
        history=[(received, early), (fee, later)],
    )
    history = text.split("History:")[1]
    assert history.index("September 16, 2026: Fingerprint Fee Was Received") < history.index(
        "September 14, 2026: Case Was Received"
    )
    assert ctx.t.date(date(2026, 9, 14)) == "September 14, 2026"


# USCIS writes some titles in the applicant's first person ("Card Was Mailed To Me"). English
# keeps USCIS's own words; in the other languages the chat says them, so a first person would
# read as the assistant's ("the card was mailed to me", the bot): they speak to the person.
FIRST_PERSON = {
    "es": ("mi ", "envié", "firmé", "me "),
    "zh": ("我",),
    "vi": ("tôi",),
    "ko": ("제 ", "저의", "나의", "저에게", "나에게"),
    "tl": ("akin", "aking", " ko "),
    "ru": ("мне", "мою", "моё", "мой", "моя", "мое"),
    "ar": ("إليّ", "قضيتي", "موعدي", "لأنني", "أرسلته"),
    "fr": ("ma ", "mon ", "m'", "j'", "je "),
    "ht": ("mwen", " m "),
    "pt": ("meu", "minha", "enviei", "assinei"),
}


def test_first_person_titles_speak_to_the_person_in_every_other_language() -> None:
    first_person = [w.title for w in STATUS_WORDING.values() if " Me" in w.title or " I " in
                    w.title or " My " in w.title]  # fmt: skip
    assert "Card Was Mailed To Me" in first_person
    wrong = []
    for locale, words in FIRST_PERSON.items():
        t = translator(locale)
        for title in first_person:
            shown = f" {t._(title).casefold()} "
            assert t._(title) != title, (locale, title)
            wrong += [f"{locale}: {title} -> {t._(title)}" for w in words if w in shown]
    assert not wrong, "\n".join(wrong)


def test_the_next_step_to_book_biometrics_is_said_to_the_owner_without_an_if() -> None:
    ctx = _ctx()
    ready = get_status("fingerprint_fee_received")
    assert "If this is your case, sign in" in next_step_text(ctx, ready)
    assert next_step_text(ctx, ready, owner=True) == (
        "The next step is usually a biometrics appointment. You can book it here."
    )
