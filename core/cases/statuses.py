"""The status catalog: every case status the system knows, by stable code and official title.

Titles are the official English wording (the admin tools match them); what a status means for a
person, in their language, is the chat layer's to say, keyed by ``code``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Final

from core.errors import UnknownStatus

__all__ = ["STATUSES", "UNLISTED", "Category", "NextStep", "Status", "get_status"]


class Category(enum.StrEnum):
    INTAKE = "intake"
    REJECTED = "rejected"
    BIOMETRICS = "biometrics"
    INTERVIEW = "interview"
    EVIDENCE = "evidence"
    REVIEW = "review"
    DECISION = "decision"
    CARD = "card"
    EXPEDITE = "expedite"


class NextStep(enum.StrEnum):
    """What the person can expect or do next, as a hint code the chat layer words."""

    NONE = "none"  # nothing more is expected
    WAIT_FOR_NOTICE = "wait_for_notice"  # USCIS will send a notice (receipt, appointment, ...)
    BOOK_BIOMETRICS = "book_biometrics"
    ATTEND_BIOMETRICS = "attend_biometrics"
    ATTEND_INTERVIEW = "attend_interview"
    RESPOND_TO_REQUEST = "respond_to_request"  # RFE, request for initial evidence, NOID
    WAIT_FOR_DECISION = "wait_for_decision"
    READ_DECISION = "read_decision"  # the decision notice explains the options
    WAIT_FOR_DOCUMENT = "wait_for_document"  # a card or document will be produced
    WAIT_FOR_DELIVERY = "wait_for_delivery"
    CONTACT_USCIS = "contact_uscis"
    FOLLOW_UP_WITH_DOS = "follow_up_with_dos"  # the Department of State has the case now
    REFILE = "refile"  # rejected: correct the filing and send it again


@dataclass(frozen=True, slots=True)
class Status:
    """One status.

    Attributes:
        code: stable identifier (snake case), used in storage, payloads and message ids.
        title: the official English title.
        category: the stage it belongs to.
        allows_biometrics: a biometrics appointment can be booked while the case has it.
        final: the case is decided or closed; no further step is expected.
        next_step: a hint of what comes next, for the chat layer to word.
    """

    code: str
    title: str
    category: Category
    allows_biometrics: bool = False
    final: bool = False
    next_step: NextStep = NextStep.WAIT_FOR_DECISION


_C = Category
_N = NextStep
STATUSES: Final[tuple[Status, ...]] = (
    Status("case_received", "Case Was Received", _C.INTAKE, next_step=_N.WAIT_FOR_NOTICE),
    Status(
        "case_received_notice_emailed",
        "Case Was Received and A Receipt Notice Was Emailed",
        _C.INTAKE,
        next_step=_N.WAIT_FOR_NOTICE,
    ),
    Status(
        "accepted_by_lockbox",
        "Case Accepted By The USCIS Lockbox",
        _C.INTAKE,
        next_step=_N.WAIT_FOR_NOTICE,
    ),
    Status(
        "fingerprint_fee_received",
        "Fingerprint Fee Was Received",
        _C.INTAKE,
        allows_biometrics=True,
        next_step=_N.BOOK_BIOMETRICS,
    ),
    Status("fees_waived", "Fees Were Waived", _C.INTAKE, next_step=_N.WAIT_FOR_NOTICE),
    Status(
        "rejected_incorrect_fee",
        "Case Rejected Because I Sent An Incorrect Fee",
        _C.REJECTED,
        final=True,
        next_step=_N.REFILE,
    ),
    Status(
        "rejected_not_signed",
        "Case Was Rejected Because I Did Not Sign My Form",
        _C.REJECTED,
        final=True,
        next_step=_N.REFILE,
    ),
    Status(
        "rejected_form_version",
        "Case Rejected Because The Version Of The Form I Sent Is No Longer Accepted",
        _C.REJECTED,
        final=True,
        next_step=_N.REFILE,
    ),
    Status(
        "biometrics_scheduled",
        "Biometrics Appointment Was Scheduled",
        _C.BIOMETRICS,
        allows_biometrics=True,
        next_step=_N.ATTEND_BIOMETRICS,
    ),
    Status(
        "reschedule_request_received",
        "Request To Reschedule My Appointment Was Received",
        _C.BIOMETRICS,
        allows_biometrics=True,
        next_step=_N.WAIT_FOR_NOTICE,
    ),
    Status(
        "fingerprints_taken",
        "Case Was Updated To Show Fingerprints Were Taken",
        _C.BIOMETRICS,
        next_step=_N.WAIT_FOR_DECISION,
    ),
    Status(
        "ready_for_interview",
        "Case is Ready to Be Scheduled for An Interview",
        _C.INTERVIEW,
        next_step=_N.WAIT_FOR_NOTICE,
    ),
    Status(
        "interview_scheduled",
        "Interview Was Scheduled",
        _C.INTERVIEW,
        next_step=_N.ATTEND_INTERVIEW,
    ),
    Status(
        "interview_rescheduled",
        "Interview Was Rescheduled",
        _C.INTERVIEW,
        next_step=_N.ATTEND_INTERVIEW,
    ),
    Status(
        "interview_completed",
        "Interview Was Completed And My Case Must Be Reviewed",
        _C.INTERVIEW,
        next_step=_N.WAIT_FOR_DECISION,
    ),
    Status(
        "rfe_sent", "Request for Evidence Was Sent", _C.EVIDENCE, next_step=_N.RESPOND_TO_REQUEST
    ),
    Status(
        "initial_evidence_requested",
        "Request for Initial Evidence Was Sent",
        _C.EVIDENCE,
        next_step=_N.RESPOND_TO_REQUEST,
    ),
    Status(
        "rfe_response_received",
        "Response To USCIS' Request For Evidence Was Received",
        _C.EVIDENCE,
        next_step=_N.WAIT_FOR_DECISION,
    ),
    Status(
        "noid_sent",
        "Notice Of Intent To Deny Was Sent",
        _C.EVIDENCE,
        next_step=_N.RESPOND_TO_REQUEST,
    ),
    Status(
        "actively_reviewed",
        "Case Is Being Actively Reviewed By USCIS",
        _C.REVIEW,
        next_step=_N.WAIT_FOR_DECISION,
    ),
    Status(
        "transferred",
        "Case Was Transferred And A New Office Has Jurisdiction",
        _C.REVIEW,
        next_step=_N.WAIT_FOR_DECISION,
    ),
    Status(
        "sent_to_dos",
        "Case Was Sent To The Department of State",
        _C.REVIEW,
        next_step=_N.FOLLOW_UP_WITH_DOS,
    ),
    Status(
        "approved", "Case Was Approved", _C.DECISION, final=True, next_step=_N.WAIT_FOR_DOCUMENT
    ),
    Status(
        "approved_decision_emailed",
        "Case Was Approved And My Decision Was Emailed",
        _C.DECISION,
        final=True,
        next_step=_N.READ_DECISION,
    ),
    Status("denied", "Case Was Denied", _C.DECISION, final=True, next_step=_N.READ_DECISION),
    Status("reopened", "Case Was Reopened", _C.DECISION, next_step=_N.WAIT_FOR_DECISION),
    Status(
        "approval_revoked",
        "Case Approval Was Revoked",
        _C.DECISION,
        final=True,
        next_step=_N.READ_DECISION,
    ),
    Status(
        "closed_other_means",
        "Case Closed Benefit Received By Other Means",
        _C.DECISION,
        final=True,
        next_step=_N.NONE,
    ),
    Status(
        "card_being_produced", "New Card Is Being Produced", _C.CARD, next_step=_N.WAIT_FOR_DOCUMENT
    ),
    Status("card_mailed", "Card Was Mailed To Me", _C.CARD, next_step=_N.WAIT_FOR_DELIVERY),
    Status(
        "card_picked_up_by_usps",
        "Card Was Picked Up By The United States Postal Service",
        _C.CARD,
        next_step=_N.WAIT_FOR_DELIVERY,
    ),
    Status(
        "card_delivered",
        "Card Was Delivered To Me By The Post Office",
        _C.CARD,
        final=True,
        next_step=_N.NONE,
    ),
    Status("card_returned", "Card Was Returned To USCIS", _C.CARD, next_step=_N.CONTACT_USCIS),
    Status("document_mailed", "Document Was Mailed To Me", _C.CARD, next_step=_N.WAIT_FOR_DELIVERY),
    Status(
        "travel_document_mailed",
        "Travel Document Was Mailed",
        _C.CARD,
        next_step=_N.WAIT_FOR_DELIVERY,
    ),
    Status(
        "expedite_received",
        "Expedite Request Received",
        _C.EXPEDITE,
        next_step=_N.WAIT_FOR_DECISION,
    ),
    Status(
        "expedite_approved", "Expedite Request Approved", _C.EXPEDITE, next_step=_N.WAIT_FOR_NOTICE
    ),
    Status(
        "expedite_denied", "Expedite Request Denied", _C.EXPEDITE, next_step=_N.WAIT_FOR_DECISION
    ),
    Status(
        "premium_processing_received",
        "Request For Premium Processing Services Was Received",
        _C.EXPEDITE,
        next_step=_N.WAIT_FOR_DECISION,
    ),
)


def _key(text: str) -> str:
    """Compare titles ignoring case, punctuation and spacing ("case was approved." matches)."""
    return re.sub(r"[^a-z0-9]+", " ", text.casefold()).strip()


# A status USCIS reported under a title this catalog does not hold (its Case Status API says
# what it says): the chat shows USCIS's own words with a neutral explanation. Not in
# STATUSES, so operators never pick it and no title matches it.
UNLISTED: Final = Status(
    "unlisted", "Status Not In The Catalog", Category.REVIEW, next_step=NextStep.WAIT_FOR_DECISION
)

_BY_CODE: Final = {status.code: status for status in (*STATUSES, UNLISTED)}
_BY_TITLE: Final = {_key(status.title): status for status in STATUSES}


def get_status(code_or_title: str) -> Status:
    """Find a status by its code or its official English title.

    Raises:
        UnknownStatus: no status has that code or title.
    """
    text = code_or_title.strip()
    found = _BY_CODE.get(text.lower()) or _BY_TITLE.get(_key(text))
    if found is None:
        raise UnknownStatus(status=code_or_title)
    return found
