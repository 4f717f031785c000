"""The channel-neutral language between channels and the engine."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "INPUT_KINDS",
    "Attachment",
    "Button",
    "Incoming",
    "InputKind",
    "Outcome",
    "Reply",
    "Turn",
]

# What a secret input is: a password (masked, with a show toggle on the web), a code of digits
# (the authenticator's or an emailed 6-digit code), a code of letters and digits (an Online
# Access Code, a backup code), or the answer to a reset question.
InputKind = Literal["password", "digits", "code", "answer"]
INPUT_KINDS: tuple[InputKind, ...] = ("password", "digits", "code", "answer")


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did: typed ``text`` or pressed a button (``payload``).

    Attributes:
        channel: ``telegram``, ``webchat``, ``console``, ...
        chat_id: the chat within the channel (a conversation is keyed by both).
        user_id: the person, when the channel tells.
        text: what was typed, or None for a button press.
        payload: the pressed button's payload, or None.
        locale_hint: the language the channel reports (Telegram's ``language_code``, the
            browser's), used until the person chooses one.
        update_id: the channel's id of this update, when it has one: an update seen twice
            is handled once.
        client: the key of the client's network address (``bot.channels.web.client_address``)
            when the channel knows it; None for this machine or a channel without one.
    """

    channel: str
    chat_id: str
    text: str | None = None
    payload: str | None = None
    user_id: str | None = None
    locale_hint: str | None = None
    update_id: int | None = None
    client: str | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """A button: ``label`` is shown (already translated), ``payload`` comes back when it is
    pressed. A step's prompt gives the bare value its handler receives; the engine binds the
    buttons it sends to the prompt's number (``"<seq>:<value>"``, at most 64 bytes: Telegram's
    ``callback_data`` limit), so a button of an older message expires.

    Typing the label (in any case) or its number is the same as pressing it. ``means`` is
    ``"yes"`` or ``"no"`` for a button that answers a yes/no question: typing a yes or a no
    in any language ("sí", "oui", "네", "không") presses it.
    """

    label: str
    payload: str
    means: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: str  # "image" or "file"
    name: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show.

    Attributes:
        secret_input: the next thing the person types is a secret (password, code, answer):
            channels must not echo or keep it.
        input_kind: what kind of secret it is (``InputKind``), so that a channel with input
            fields shows the right one: a password is masked, a code is not (it is copied
            from a phone, an email or a paper letter). None with ``secret_input``: a password.
        kept_text: set when the text shows a secret once (an authenticator key, a new backup
            code): what a stored copy keeps instead (a transcript, a replay), the secret
            replaced by a placeholder in the person's language. Such a reply's attachments
            (the key's QR code) are shown and never kept. None: the text shows no secret.
    """

    text: str
    buttons: tuple[Button, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    secret_input: bool = False
    kept_text: str | None = None
    input_kind: InputKind | None = None

    @property
    def shows_secret(self) -> bool:
        """Whether the reply shows a secret once (see ``kept_text``)."""
        return self.kept_text is not None


class Outcome(enum.Enum):
    """How the engine dealt with one ``Incoming``; exactly one holds for every turn.

    ANSWERED     the turn ran and was committed; the replies answer it
    DUPLICATE    the update was handled before; nothing was done, no reply
    UNAVAILABLE  the database could not be reached: nothing was done, the replies only say so;
                 a channel that can keep the message (the Telegram inbox) tries it again
    FAILED       the turn met a bug and was undone; the replies only apologise
    REFUSED      the channel's admit hook refused the message (``Engine.handle``): the turn
                 did not run and there is no reply
    """

    ANSWERED = "answered"
    DUPLICATE = "duplicate"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Turn:
    """What the engine answers to one Incoming.

    Attributes:
        replies: the messages to send, in order.
        input_was_secret: what the person sent was a secret: delete it from the chat (Telegram)
            and mask it in transcripts.
        locale: the conversation's language after the turn.
        outcome: how the engine dealt with the message (``Outcome``); ``duplicate``,
            ``unavailable``, ``failed`` and ``refused`` read it.
        signed_out: the chat was signed in when the turn began and is not any more (the person
            signed out, or was signed out after a while idle): a channel that keeps a
            transcript forgets what came before.
    """

    replies: list[Reply]
    input_was_secret: bool = False
    locale: str = "en"
    outcome: Outcome = Outcome.ANSWERED
    signed_out: bool = False

    @property
    def duplicate(self) -> bool:
        return self.outcome is Outcome.DUPLICATE

    @property
    def unavailable(self) -> bool:
        return self.outcome is Outcome.UNAVAILABLE

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAILED

    @property
    def refused(self) -> bool:
        return self.outcome is Outcome.REFUSED
