"""What each case status means, in plain words, and how a case is shown in the chat.

The core's catalog (:mod:`core.cases.statuses`) holds codes, official English titles and a hint
of what comes next; here each becomes text for a person who may be anxious and reading on a
phone in their second language: the official title (a msgid, so each catalog gives the
official wording in its language, e.g. "Caso Fue Aprobado"), a short description, and what
*usually* happens next. No promises: USCIS decides, we only explain.

The titles are written out here, not taken from ``status.title`` at run time, so the message
extractor finds them; a unit test keeps them equal to the catalog's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

from bot.wording.i18n import N_
from core.cases.statuses import NextStep, Status

if TYPE_CHECKING:
    from bot.dialogs.context import Context

__all__ = [
    "NEXT_STEP_WORDING",
    "STATUS_WORDING",
    "StatusWording",
    "case_text",
    "next_step_text",
    "status_day",
    "status_meaning",
    "status_title",
]

# USCIS dates a status by its own (Eastern) calendar day, not by the reader's.
USCIS_ZONE: Final = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class StatusWording:
    """The words for one status: ``title`` is the official English title (a msgid),
    ``meaning`` a plain description (a msgid)."""

    title: str
    meaning: str


STATUS_WORDING: Final[Mapping[str, StatusWording]] = {
    # --- intake ---
    "case_received": StatusWording(
        N_("Case Was Received"),
        N_("USCIS received your case and will review it. This is the normal first step."),
    ),
    "case_received_notice_emailed": StatusWording(
        N_("Case Was Received and A Receipt Notice Was Emailed"),
        N_(
            "USCIS received your case and emailed you a receipt notice. Keep it: it shows your "
            "receipt number."
        ),
    ),
    "accepted_by_lockbox": StatusWording(
        N_("Case Accepted By The USCIS Lockbox"),
        N_(
            "The USCIS Lockbox, where paper forms arrive, accepted your case and is sending it "
            "to the office that will review it."
        ),
    ),
    "fingerprint_fee_received": StatusWording(
        N_("Fingerprint Fee Was Received"),
        N_(
            "USCIS received the fee for your biometrics: the appointment where your "
            "fingerprints, photo and signature are taken."
        ),
    ),
    "fees_waived": StatusWording(
        N_("Fees Were Waived"),
        N_("USCIS agreed not to charge the fees for your case. Your case will be reviewed."),
    ),
    # --- rejected ---
    "rejected_incorrect_fee": StatusWording(
        N_("Case Rejected Because I Sent An Incorrect Fee"),
        N_(
            "USCIS did not accept your case because the fee was not the right amount. The "
            "case was not reviewed."
        ),
    ),
    "rejected_not_signed": StatusWording(
        N_("Case Was Rejected Because I Did Not Sign My Form"),
        N_(
            "USCIS did not accept your case because the form was not signed. The case was not "
            "reviewed."
        ),
    ),
    "rejected_form_version": StatusWording(
        N_("Case Rejected Because The Version Of The Form I Sent Is No Longer Accepted"),
        N_(
            "USCIS did not accept your case because it was sent on an old version of the "
            "form. The case was not reviewed."
        ),
    ),
    # --- biometrics ---
    "biometrics_scheduled": StatusWording(
        N_("Biometrics Appointment Was Scheduled"),
        N_(
            "USCIS scheduled an appointment to take your fingerprints, photo and signature. "
            "Your appointment notice says when and where."
        ),
    ),
    "reschedule_request_received": StatusWording(
        N_("Request To Reschedule My Appointment Was Received"),
        N_("USCIS received your request to move your appointment to another time."),
    ),
    "fingerprints_taken": StatusWording(
        N_("Case Was Updated To Show Fingerprints Were Taken"),
        N_(
            "Your fingerprints were taken. USCIS uses them for background checks while it "
            "reviews your case."
        ),
    ),
    # --- interview ---
    "ready_for_interview": StatusWording(
        N_("Case is Ready to Be Scheduled for An Interview"),
        N_("Your case is ready for an interview, but the date is not set yet."),
    ),
    "interview_scheduled": StatusWording(
        N_("Interview Was Scheduled"),
        N_(
            "USCIS scheduled an interview for your case. Your interview notice says when and where."
        ),
    ),
    "interview_rescheduled": StatusWording(
        N_("Interview Was Rescheduled"),
        N_("Your interview was moved to a new date. The new notice says when and where."),
    ),
    "interview_completed": StatusWording(
        N_("Interview Was Completed And My Case Must Be Reviewed"),
        N_("Your interview took place. An officer is now reviewing your case before deciding."),
    ),
    # --- evidence ---
    "rfe_sent": StatusWording(
        N_("Request for Evidence Was Sent"),
        N_(
            "USCIS needs more documents or information before it can decide, and sent you a "
            "letter (a Request for Evidence) that lists them."
        ),
    ),
    "initial_evidence_requested": StatusWording(
        N_("Request for Initial Evidence Was Sent"),
        N_("Some documents were missing when you filed. USCIS sent you a letter that lists them."),
    ),
    "rfe_response_received": StatusWording(
        N_("Response To USCIS' Request For Evidence Was Received"),
        N_("USCIS received your answer to its request. Your case is being reviewed again."),
    ),
    "noid_sent": StatusWording(
        N_("Notice Of Intent To Deny Was Sent"),
        N_(
            "USCIS sent you a letter saying it plans to deny your case. The letter gives you a "
            "chance to answer before it decides."
        ),
    ),
    # --- review and transfer ---
    "actively_reviewed": StatusWording(
        N_("Case Is Being Actively Reviewed By USCIS"),
        N_("An officer is reviewing your case. This is a normal step, and it can take a while."),
    ),
    "transferred": StatusWording(
        N_("Case Was Transferred And A New Office Has Jurisdiction"),
        N_(
            "Your case was moved to another USCIS office, which will handle it from now on. "
            "This happens often, to share the work between offices."
        ),
    ),
    "sent_to_dos": StatusWording(
        N_("Case Was Sent To The Department of State"),
        N_(
            "USCIS finished its part and sent your case to the Department of State, which "
            "handles visas at US embassies and consulates."
        ),
    ),
    # --- decisions ---
    "approved": StatusWording(
        N_("Case Was Approved"),
        N_("Good news: USCIS approved your case."),
    ),
    "approved_decision_emailed": StatusWording(
        N_("Case Was Approved And My Decision Was Emailed"),
        N_("Good news: USCIS approved your case and emailed you the decision notice."),
    ),
    "denied": StatusWording(
        N_("Case Was Denied"),
        N_("USCIS denied your case. The decision notice explains why."),
    ),
    "reopened": StatusWording(
        N_("Case Was Reopened"),
        N_("USCIS reopened your case to look at it again."),
    ),
    "approval_revoked": StatusWording(
        N_("Case Approval Was Revoked"),
        N_("USCIS took back the approval of your case. The notice explains why."),
    ),
    "closed_other_means": StatusWording(
        N_("Case Closed Benefit Received By Other Means"),
        N_(
            "USCIS closed this case because you already received the benefit in another way, "
            "for example through another case."
        ),
    ),
    # --- cards and documents ---
    "card_being_produced": StatusWording(
        N_("New Card Is Being Produced"),
        N_("Your new card is being made."),
    ),
    "card_mailed": StatusWording(
        N_("Card Was Mailed To Me"),
        N_("Your card was mailed to the address USCIS has for you."),
    ),
    "card_picked_up_by_usps": StatusWording(
        N_("Card Was Picked Up By The United States Postal Service"),
        N_("The US Postal Service has your card and is delivering it."),
    ),
    "card_delivered": StatusWording(
        N_("Card Was Delivered To Me By The Post Office"),
        N_("The Post Office delivered your card to your address."),
    ),
    "card_returned": StatusWording(
        N_("Card Was Returned To USCIS"),
        N_("The Post Office could not deliver your card and sent it back to USCIS."),
    ),
    "document_mailed": StatusWording(
        N_("Document Was Mailed To Me"),
        N_("Your document was mailed to the address USCIS has for you."),
    ),
    "travel_document_mailed": StatusWording(
        N_("Travel Document Was Mailed"),
        N_("Your travel document was mailed to the address USCIS has for you."),
    ),
    # --- expedite and premium processing ---
    "expedite_received": StatusWording(
        N_("Expedite Request Received"),
        N_("USCIS received your request to handle your case faster (an expedite request)."),
    ),
    "expedite_approved": StatusWording(
        N_("Expedite Request Approved"),
        N_("USCIS agreed to handle your case faster."),
    ),
    "expedite_denied": StatusWording(
        N_("Expedite Request Denied"),
        N_(
            "USCIS did not agree to handle your case faster. It will be handled in the usual order."
        ),
    ),
    "premium_processing_received": StatusWording(
        N_("Request For Premium Processing Services Was Received"),
        N_(
            "USCIS received your request for premium processing, a paid service for a faster "
            "review."
        ),
    ),
}

NEXT_STEP_WORDING: Final[Mapping[NextStep, str]] = {
    NextStep.NONE: N_("Usually nothing more is needed for this case."),
    NextStep.WAIT_FOR_NOTICE: N_(
        "USCIS usually sends you a notice about the next step, by mail or in your online "
        "account. There is usually nothing to do until it arrives."
    ),
    NextStep.BOOK_BIOMETRICS: N_(
        "The next step is usually a biometrics appointment. If this is your case, sign in to "
        "book it here."
    ),
    NextStep.ATTEND_BIOMETRICS: N_(
        "Go to the appointment in your notice, with the notice and a photo ID. If you cannot "
        "go, you can usually ask for a new time before the appointment."
    ),
    NextStep.ATTEND_INTERVIEW: N_(
        "Go to the interview in your notice, with the notice, a photo ID and the documents the "
        "notice lists."
    ),
    NextStep.RESPOND_TO_REQUEST: N_(
        "Read the letter carefully and send what it asks for before its deadline. An attorney "
        "or accredited representative can help if you are unsure."
    ),
    NextStep.WAIT_FOR_DECISION: N_(
        "USCIS usually decides after its review and sends you a notice. How long it takes "
        "depends on the form and the office."
    ),
    NextStep.READ_DECISION: N_(
        "Read the decision notice: it explains the decision and the options you may have."
    ),
    NextStep.WAIT_FOR_DOCUMENT: N_(
        "If your case comes with a card or document, it is usually made and mailed to you next."
    ),
    NextStep.WAIT_FOR_DELIVERY: N_(
        "Please watch your mail. If nothing arrives within about 30 days, contact USCIS."
    ),
    NextStep.CONTACT_USCIS: N_(
        "Please call the USCIS Contact Center at {phone} (TTY {tty}), for example to check "
        "your mailing address."
    ),
    NextStep.FOLLOW_UP_WITH_DOS: N_(
        "The Department of State usually contacts you next. Please follow its instructions."
    ),
    NextStep.REFILE: N_(
        "You can usually correct the problem and file again. The notice explains what was wrong."
    ),
}


def _wording(status: Status) -> StatusWording | None:
    return STATUS_WORDING.get(status.code)


def status_title(ctx: Context, status: Status) -> str:
    """The official title of a status, in the conversation's language."""
    wording = _wording(status)
    return ctx._(wording.title if wording is not None else status.title)


def status_meaning(ctx: Context, status: Status) -> str:
    """A short, plain description of a status (empty for a status without wording)."""
    wording = _wording(status)
    return ctx._(wording.meaning) if wording is not None else ""


# Said instead to the signed-in owner (or representative), who may book already.
OWNER_BOOKS_BIOMETRICS: Final = N_(
    "The next step is usually a biometrics appointment. You can book it here."
)


def next_step_text(ctx: Context, status: Status, *, owner: bool = False) -> str:
    """What usually happens next for a case with this status (``owner``: said to the
    signed-in account that owns the case, or represents its owner)."""
    if owner and status.next_step is NextStep.BOOK_BIOMETRICS:
        return ctx._(OWNER_BOOKS_BIOMETRICS)
    msgid = NEXT_STEP_WORDING.get(status.next_step, NEXT_STEP_WORDING[NextStep.WAIT_FOR_DECISION])
    return ctx._(msgid).format(phone=ctx.services.contact_phone, tty=ctx.services.contact_tty)


def status_day(ctx: Context, moment: datetime) -> str:
    """The day of a status change, as USCIS dates it, in the conversation's language."""
    return ctx.t.date(moment.astimezone(USCIS_ZONE).date())


def case_text(
    ctx: Context,
    *,
    receipt: str,
    form_type: str,
    status: Status,
    updated_at: datetime,
    history: Sequence[tuple[Status, datetime]] | None = None,
) -> str:
    """A case as the chat shows it: status, meaning, last update, what usually comes next,
    and (for the owner) the dated history, newest first."""
    lines = [
        ctx._("Case {receipt} ({form})").format(receipt=receipt, form=form_type),
        ctx._("Status: {title}").format(title=status_title(ctx, status)),
    ]
    meaning = status_meaning(ctx, status)
    if meaning:
        lines.append(meaning)
    lines.append(ctx._("Last update: {day}").format(day=status_day(ctx, updated_at)))
    lines.append(
        ctx._("What usually happens next: {text}").format(
            text=next_step_text(ctx, status, owner=history is not None)
        )
    )
    if history:
        lines.append("")
        lines.append(ctx._("History:"))
        for entry_status, at in sorted(history, key=lambda entry: entry[1], reverse=True):
            lines.append(
                ctx._("• {day}: {title}").format(
                    day=status_day(ctx, at), title=status_title(ctx, entry_status)
                )
            )
    return "\n".join(lines)
