"""The one table that words every domain error for a person, in their language.

Domain errors carry data (core/errors.py); here each type (and reason) becomes a short, plain
sentence that says what happened and what to do next.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Final

from bot.wording.i18n import N_
from core import errors as e

if TYPE_CHECKING:
    from bot.dialogs.context import Context

__all__ = ["PHONE_EXAMPLE", "describe_error", "minutes_text", "minutes_until"]

RECEIPT_EXAMPLE: Final = "IOE0912345678"


def minutes_until(ctx: Context, until: datetime | None) -> int:
    if until is None:
        return 0
    return max(1, math.ceil((until - ctx.now()).total_seconds() / 60))


def minutes_text(ctx: Context, n: int) -> str:
    """``n`` minutes, worded for the person ("1 minute", "20 minutes")."""
    return ctx.ngettext("{n} minute", "{n} minutes", n).format(n=n)


_WEAK_PASSWORD: Final = {
    "too_short": N_(
        "That password is too short: use at least {n} characters. A few words "
        "together make a strong password that is easy to remember."
    ),
    "too_long": N_("That password is too long: use at most 128 characters."),
    "common": N_("That password is too common and easy to guess. Please choose another one."),
    "contains_email": N_("Your password should not contain your email address."),
    "repetitive": N_("That password repeats itself too much. Please choose another one."),
}

_RECEIPT: Final = {
    "a_number": N_(
        "That looks like an A-Number (Alien Registration Number), not a receipt "
        "number. A receipt number has 3 letters and 10 digits, like {example}."
    ),
    "online_account_number": N_(
        "That looks like your USCIS online account number, not a "
        "receipt number. A receipt number has 3 letters and 10 digits, "
        "like {example}."
    ),
    "access_code": N_(
        "That looks like an Online Access Code. A receipt number has 3 letters "
        "and 10 digits, like {example}."
    ),
    "prefix": N_(
        "That receipt number does not start with a known code. It starts with 3 "
        "letters such as IOE, EAC, WAC, LIN, SRC or MSC, like {example}."
    ),
    None: N_(
        "That is not a receipt number. It has 3 letters and 10 digits, like {example}. "
        "You can find it on your receipt notice (Form I-797C)."
    ),
}

_RECEIPT_SHORT: Final = N_(
    "That receipt number is missing digits: after {prefix} come 10 digits, and it has "
    "{count}. Please check it on your notice, like {example}."
)
_RECEIPT_LONG: Final = N_(
    "That receipt number has too many digits: after {prefix} come 10 digits, and it has "
    "{count}. Please check it on your notice, like {example}."
)

_NOT_BOOKABLE: Final = {
    "past": N_("That time has already passed. Please choose another one."),
    "too_soon": N_("That time is too soon to book. Please choose a later one."),
    "too_far": N_("That date is too far ahead. You can book up to 60 days ahead."),
    "closed": N_("The office is closed that day. Please choose another day."),
    "not_a_slot": N_(
        "That is not an appointment time at this office. Please choose from the list."
    ),
    "service_not_offered": N_("This office does not offer that kind of appointment."),
    "case_required": N_("A biometrics appointment needs a case. Please choose one."),
    "biometrics_not_ready": N_("This case is not ready for a biometrics appointment yet."),
}

_RESCHEDULE: Final = {
    "within_12_hours": N_(
        "Appointments cannot be changed online within 12 hours of the "
        "start. Please call the Contact Center."
    ),
    "passed": N_("That appointment has already passed."),
    "limit_reached": N_(
        "This appointment was already rescheduled twice, which is the limit "
        "online. Please call the Contact Center."
    ),
    "cancelled": N_("That appointment was cancelled."),
    "same_slot": N_("That is the time you already have."),
}

_CANCEL: Final = {
    "passed": N_("That appointment has already passed."),
    "cancelled": N_("That appointment is already cancelled."),
}


PHONE_EXAMPLE: Final = "(202) 555-0123"
_PHONE: Final = {
    "not_a_number": N_(
        "That does not look like a phone number. Please type a US mobile number, for example "
        "{example}."
    ),
    "not_us": N_(
        "We can send text messages only to US mobile numbers. Please type one, for example "
        "{example}."
    ),
    "not_mobile": N_(
        "That number cannot get text messages (it is toll-free or a paid service). Please "
        "type a mobile number, for example {example}."
    ),
}


def describe_error(ctx: Context, error: Exception) -> str:
    """A short sentence, in the conversation's language, for a domain error."""
    _ = ctx._
    match error:
        case e.WeakPassword(reason=reason, min_length=n):
            return _(_WEAK_PASSWORD.get(reason, _WEAK_PASSWORD["common"])).format(n=n)
        case e.InvalidReceiptNumber(prefix=str(prefix), digits=int(count)) if count != 10:
            return _(_RECEIPT_SHORT if count < 10 else _RECEIPT_LONG).format(
                prefix=prefix, count=count, example=RECEIPT_EXAMPLE
            )
        case e.InvalidReceiptNumber(meant=str(meant)):
            return _(
                "A receipt number starts with 3 letters, not numbers. Did you mean {meant}? "
                "For example: {example}."
            ).format(meant=meant, example=RECEIPT_EXAMPLE)
        case e.InvalidReceiptNumber(reason=reason, looks_like=looks_like):
            # None is a key too (the general wording): test for it, or "prefix" is never said.
            key = (
                looks_like
                if looks_like is not None and looks_like in _RECEIPT
                else ("prefix" if reason == "prefix" else None)
            )
            return _(_RECEIPT[key]).format(example=RECEIPT_EXAMPLE)
        case e.InvalidEmail(reason="typo", suggestion=str(suggestion)):
            return _("Did you mean {address}? Please type the address again.").format(
                address=suggestion
            )
        case e.InvalidEmail(reason="no_mail"):
            return _(
                "No email can reach that address. Please type an address you use, like "
                "name@example.com."
            )
        case e.InvalidEmail():
            return _("That does not look like an email address. It looks like name@example.com.")
        case e.InvalidPhoneNumber(reason=reason):
            return _(_PHONE.get(reason, _PHONE["not_a_number"])).format(example=PHONE_EXAMPLE)
        case e.TextsStopped(number=number):
            return _(
                "Texts to {number} are stopped: STOP was sent from that phone. Reply START from "
                "it to get texts again."
            ).format(number=number)
        case e.InvalidResetAnswer() | e.UnknownResetQuestion():
            return _("Please type your answer to the question.")
        case e.UnknownState() | e.InvalidZipCode():
            return _("Please type a US state (like Texas or TX) or a 5-digit ZIP code.")
        case e.InvalidDateRange():
            return _("Please choose a day from the list.")
        case e.InvalidInput():
            return _("Sorry, I did not understand that.")
        case e.CaseNotFound():
            return _(
                "We could not find a case with that receipt number. Please check it "
                "against your receipt notice."
            )
        case e.AppointmentNotFound():
            return _("We could not find that appointment.")
        case e.OfficeNotFound():
            return _("We could not find that office.")
        case e.AccountNotFound():
            return _("We could not find your account. Please sign in again.")
        case e.EmailTaken():
            return _(
                "An account with this email already exists. You can sign in, or reset "
                "your password if you forgot it."
            )
        case e.CaseAlreadyLinked(to_this_account=True):
            return _("This case is already in your account.")
        case e.CaseAlreadyLinked() | e.AccessCodeAlreadyUsed():
            return _(
                "This Online Access Code was already used, maybe by your attorney or "
                "representative. Ask them, or call the Contact Center."
            )
        case e.SlotTaken():
            return _("Sorry, that time was just taken. Please choose another one.")
        case e.AlreadyBooked(existing_code=code):
            return _(
                "You already have an appointment of this kind (confirmation {code}). You "
                "can change or cancel it under My appointments."
            ).format(code=code)
        case e.InvalidCredentials():
            return _("The email or password is not right. Please try again.")
        case e.AccountLocked(until=until):
            return _(
                "Your account is locked for {time} after too many tries. You can wait, or "
                "reset your password to unlock it now."
            ).format(time=minutes_text(ctx, minutes_until(ctx, until)))
        case e.InvalidCode(attempts_left=left) if left is not None and left <= 2:
            return ctx.ngettext(
                "That code is not right. {n} try left.",
                "That code is not right. {n} tries left.",
                left,
            ).format(n=left)
        case e.InvalidCode():
            return _("That code is not right. Please check it and try again.")
        case e.CodeExpired():
            return _("That code has expired. Please ask for a new one.")
        case e.TooManyAttempts(until=until) if until is not None:
            return _("Too many tries. Please try again in {time}.").format(
                time=minutes_text(ctx, minutes_until(ctx, until))
            )
        case e.TooManyAttempts():
            return _("Too many tries. Please call the Contact Center to unlock it.")
        case e.CodeReused():
            return _(
                "That code was already used. Please wait for the next code in your "
                "authenticator app."
            )
        case e.NotBookable(reason=reason):
            return _(_NOT_BOOKABLE.get(reason, _NOT_BOOKABLE["not_a_slot"]))
        case e.RescheduleNotAllowed(reason=reason):
            return _(_RESCHEDULE.get(reason, _RESCHEDULE["passed"]))
        case e.CancelNotAllowed(reason=reason):
            return _(_CANCEL.get(reason, _CANCEL["passed"]))
        case e.NotAuthorized():
            return _("Sorry, you cannot see or change that.")
        case e.PasswordChecksBusy():
            return _("Many people are signing in right now. Please try again in a moment.")
        case e.RateLimited(retry_after_seconds=seconds):
            return _("You have done that many times. Please wait {time} and try again.").format(
                time=minutes_text(ctx, max(1, math.ceil(seconds / 60)))
            )
        case e.UscisUnavailable(reason="busy"):
            # Our own share of USCIS's rate is taken, not an outage of USCIS: say so.
            return _(
                "Many people are checking their cases right now. Please try again in a minute. "
                "You can also call the USCIS Contact Center at {phone} (TTY {tty})."
            ).format(phone=ctx.services.contact_phone, tty=ctx.services.contact_tty)
        case e.UscisUnavailable(reason="quota"):
            return _(
                "We have used up today's case lookups at USCIS. Please try again tomorrow, or "
                "call the USCIS Contact Center at {phone} (TTY {tty})."
            ).format(phone=ctx.services.contact_phone, tty=ctx.services.contact_tty)
        case e.UscisUnavailable():
            return _(
                "USCIS's system is not answering right now. Please try again later. You can "
                "also call the USCIS Contact Center at {phone} (TTY {tty})."
            ).format(phone=ctx.services.contact_phone, tty=ctx.services.contact_tty)
        case e.SecretUnreadable():
            return _(
                "Sorry, we cannot check codes from your authenticator app right now. Please "
                "use your backup code instead, or try again later."
            )
        case _:
            return _("Sorry, that did not work. Please try again.")
