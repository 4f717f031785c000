"""What a person is told when a part of casebot's world is down, in their language.

- The database cannot be reached (``core.outage``): the turn did nothing; the answer says so
  and asks to try again in a few minutes. A channel that keeps the message (the Telegram inbox)
  handles it again by itself once the database is back.
- A mail that carries a code cannot be sent (the mail server is down): the engine withdraws
  the code and takes the conversation back to the step before, so the person is never told to
  check an inbox that will stay empty, and can simply ask again (``Engine._mail_failed``).
"""

from __future__ import annotations

from bot.dialogs.model import Outcome, Reply, Turn
from bot.wording.i18n import DEFAULT_LOCALE, Translator, normalize_locale, translator

__all__ = ["mail_not_sent", "unavailable_turn"]


def unavailable_turn(locale_hint: str | None) -> Turn:
    """The answer of a turn that could not reach the database.

    The conversation's own language is in the database too, so the channel's hint decides
    (Telegram's ``language_code``, the web session's language or the browser's).
    """
    t = translator(normalize_locale(locale_hint) or DEFAULT_LOCALE)
    text = t._("Sorry, we cannot reach our records right now. Please try again in a few minutes.")
    return Turn(replies=[Reply(text)], locale=t.locale, outcome=Outcome.UNAVAILABLE)


def mail_not_sent(t: Translator) -> str:
    """Said instead of "we sent you a code" when the code's mail could not be sent."""
    return t._(
        "Sorry, we could not send the email just now. Nothing was sent, so please try again "
        "in a few minutes."
    )
