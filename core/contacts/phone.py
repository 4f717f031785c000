"""US mobile numbers, read as people type them and kept in E.164 (``+12025550123``).

``phonenumbers`` (Google's libphonenumber metadata) decides what is a valid number, its
country and its type: a text can go to a US number of an ordinary line (mobile, or a number
that may be mobile: the US numbering plan does not tell them apart), never to a toll-free,
premium-rate or shared-cost number, nor to another country's or territory's.
"""

from __future__ import annotations

from typing import Final

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType, timezone

from core.errors import InvalidPhoneNumber

__all__ = ["TEXTABLE_TYPES", "parse_us_mobile", "zone_of_number"]

TEXTABLE_TYPES: Final = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
_MAX_LENGTH: Final = 40


def parse_us_mobile(text: str) -> str:
    """The E.164 form of a US number that can receive texts, as typed ("(202) 555-0123",
    "202.555.0123", "+1 202 555 0123").

    Raises:
        InvalidPhoneNumber: ``not_a_number``, ``not_us`` or ``not_mobile`` (see the error).
    """
    if len(text) > _MAX_LENGTH:
        raise InvalidPhoneNumber(reason="not_a_number")
    try:
        number = phonenumbers.parse(text.strip(), "US")
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(reason="not_a_number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(reason="not_a_number")
    if phonenumbers.region_code_for_number(number) != "US":
        raise InvalidPhoneNumber(reason="not_us")
    if phonenumbers.number_type(number) not in TEXTABLE_TYPES:
        raise InvalidPhoneNumber(reason="not_mobile")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def zone_of_number(e164: str) -> str | None:
    """The IANA time zone of a number's area code (``+12025550123``: ``America/New_York``),
    when it has exactly one; None otherwise. A person keeps their number when they move, so
    this is a default for quiet hours, not a fact about them."""
    try:
        zones = timezone.time_zones_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and zones[0] != timezone.UNKNOWN_TIMEZONE else None
