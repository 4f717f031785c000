from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.cases.statuses import STATUSES, Category, NextStep, get_status
from core.errors import UnknownStatus

# Every official title listed in docs/reference/case-status-titles.md.
FACTS_TITLES = [
    "Case Was Received",
    "Case Was Received and A Receipt Notice Was Emailed",
    "Case Accepted By The USCIS Lockbox",
    "Fingerprint Fee Was Received",
    "Fees Were Waived",
    "Case Rejected Because I Sent An Incorrect Fee",
    "Case Was Rejected Because I Did Not Sign My Form",
    "Case Rejected Because The Version Of The Form I Sent Is No Longer Accepted",
    "Biometrics Appointment Was Scheduled",
    "Request To Reschedule My Appointment Was Received",
    "Case Was Updated To Show Fingerprints Were Taken",
    "Case is Ready to Be Scheduled for An Interview",
    "Interview Was Scheduled",
    "Interview Was Rescheduled",
    "Interview Was Completed And My Case Must Be Reviewed",
    "Request for Evidence Was Sent",
    "Request for Initial Evidence Was Sent",
    "Response To USCIS' Request For Evidence Was Received",
    "Notice Of Intent To Deny Was Sent",
    "Case Is Being Actively Reviewed By USCIS",
    "Case Was Transferred And A New Office Has Jurisdiction",
    "Case Was Sent To The Department of State",
    "Case Was Approved",
    "Case Was Approved And My Decision Was Emailed",
    "Case Was Denied",
    "Case Was Reopened",
    "Case Approval Was Revoked",
    "Case Closed Benefit Received By Other Means",
    "New Card Is Being Produced",
    "Card Was Mailed To Me",
    "Card Was Picked Up By The United States Postal Service",
    "Card Was Delivered To Me By The Post Office",
    "Card Was Returned To USCIS",
    "Document Was Mailed To Me",
    "Travel Document Was Mailed",
    "Expedite Request Received",
    "Expedite Request Approved",
    "Expedite Request Denied",
    "Request For Premium Processing Services Was Received",
]
FACTS_FILE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "case-status-titles.md"


@pytest.mark.parametrize("title", FACTS_TITLES)
def test_every_official_title_is_in_the_catalog(title: str) -> None:
    assert get_status(title).title == title


def test_the_catalog_holds_every_title_of_the_facts_file() -> None:
    if not FACTS_FILE.exists():
        pytest.skip(f"{FACTS_FILE} is not in this checkout")
    text = FACTS_FILE.read_text(encoding="utf-8")
    section = text.split("## Case status titles", 1)[1].split("\n## ", 1)[0]
    listed = " ".join(section.split()).split("Common titles:", 1)[1].split("Official", 1)[0]
    # Group labels ("Intake:", "Biometrics / interview:") separate titles like the dots do.
    listed = re.sub(r"[A-Z][a-z]+(?: [a-z/]+)*:", "·", listed)
    titles = [t.strip(" .") for t in listed.split("·") if t.strip(" .")]
    assert len(titles) == len(FACTS_TITLES)
    assert {get_status(t).title for t in titles} == set(titles)


def test_finds_a_status_by_code() -> None:
    status = get_status("fingerprint_fee_received")
    assert status.title == "Fingerprint Fee Was Received"
    assert status.category is Category.INTAKE


@pytest.mark.parametrize(
    "typed",
    [
        "Case Was Approved",
        "case was approved",
        "CASE WAS APPROVED.",
        "  Case   was approved  ",
        "Case-Was-Approved!",
        "approved",
        "APPROVED",
    ],
)
def test_finds_a_status_by_title_ignoring_case_and_punctuation(typed: str) -> None:
    assert get_status(typed).code == "approved"


def test_the_apostrophe_of_uscis_does_not_matter() -> None:
    assert get_status("Response to USCIS Request for Evidence Was Received").code == (
        "rfe_response_received"
    )


@pytest.mark.parametrize("typed", ["", "Case Was Lost", "approvedd"])
def test_an_unknown_status_raises_with_what_was_asked(typed: str) -> None:
    with pytest.raises(UnknownStatus) as caught:
        get_status(typed)
    assert caught.value.status == typed


def test_codes_and_titles_are_unique() -> None:
    assert len({s.code for s in STATUSES}) == len(STATUSES)
    assert len({s.title.casefold() for s in STATUSES}) == len(STATUSES)


def test_codes_are_stable_snake_case_that_fit_the_column() -> None:
    for status in STATUSES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", status.code)
        assert len(status.code) <= 60


def test_biometrics_can_be_booked_once_the_fingerprint_fee_is_received() -> None:
    assert get_status("Fingerprint Fee Was Received").allows_biometrics
    assert get_status("Biometrics Appointment Was Scheduled").allows_biometrics
    assert not get_status("Case Was Received").allows_biometrics
    assert not get_status("Case Was Approved").allows_biometrics


def test_decisions_and_rejections_are_final() -> None:
    for code in ("approved", "denied", "rejected_incorrect_fee", "card_delivered"):
        assert get_status(code).final
    for code in ("case_received", "rfe_sent", "reopened", "card_mailed"):
        assert not get_status(code).final


def test_every_status_has_a_next_step_hint_and_a_final_one_expects_no_wait_for_decision() -> None:
    for status in STATUSES:
        assert isinstance(status.next_step, NextStep)
        if status.final:
            assert status.next_step is not NextStep.WAIT_FOR_DECISION


@pytest.mark.parametrize(
    ("code", "step"),
    [
        ("rfe_sent", NextStep.RESPOND_TO_REQUEST),
        ("noid_sent", NextStep.RESPOND_TO_REQUEST),
        ("fingerprint_fee_received", NextStep.BOOK_BIOMETRICS),
        ("interview_scheduled", NextStep.ATTEND_INTERVIEW),
        ("card_mailed", NextStep.WAIT_FOR_DELIVERY),
        ("card_delivered", NextStep.NONE),
        ("rejected_not_signed", NextStep.REFILE),
    ],
)
def test_the_next_step_hint_fits_the_status(code: str, step: NextStep) -> None:
    assert get_status(code).next_step is step
