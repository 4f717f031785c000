"""Link buttons: buttons on a notification that start a flow, whatever the chat is doing.

An ordinary button's payload is ``<prompt number>:<value>`` and only answers the prompt it came
with (the engine refuses it as expired otherwise). A notification arrives between turns, so its
buttons cannot know the prompt number: they carry a link instead, ``go:<name>:<arguments>``,
which the engine accepts at any time. A link starts its flow from the menu (like choosing it
there), with arguments the flow checks itself as it would from any other flow: a link proves
nothing, so a made-up payload can do no more than typing.

Links (each within Telegram's 64 bytes of ``callback_data``):

- ``go:book:<kind>`` and ``go:book:<kind>:<receipt number>``: the appointments flow, booking
  that kind of appointment (for that case); sign-in first when the chat is not signed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from core.appointments.models import AppointmentKind
from core.cases.receipt import ReceiptNumber
from core.errors import InvalidReceiptNumber

__all__ = ["LINK_PREFIX", "Link", "book_link", "open_link"]

LINK_PREFIX: Final = "go:"
_KINDS: Final = frozenset(kind.value for kind in AppointmentKind)


@dataclass(frozen=True, slots=True)
class Link:
    """A flow to start and its arguments."""

    dialog: str
    args: dict[str, Any] = field(default_factory=dict)


def book_link(kind: AppointmentKind | str, receipt_number: str | None = None) -> str:
    """The payload of a button that starts booking an appointment of ``kind`` (for a case).

    Raises:
        ValueError: ``kind`` is no appointment type.
    """
    if str(kind) not in _KINDS:
        raise ValueError(f"not an appointment type: {kind!r}")
    payload = f"{LINK_PREFIX}book:{kind}"
    return f"{payload}:{receipt_number}" if receipt_number else payload


def open_link(payload: str) -> Link | None:
    """The flow a link payload asks for, or None when the payload is no (valid) link."""
    if not payload.startswith(LINK_PREFIX):
        return None
    name, _, rest = payload[len(LINK_PREFIX) :].partition(":")
    if name != "book":
        return None
    kind, _, receipt = rest.partition(":")
    if kind not in _KINDS:
        return None
    args: dict[str, Any] = {"kind": kind}
    if receipt:
        try:
            args["case"] = str(ReceiptNumber.parse(receipt))
        except InvalidReceiptNumber:
            return None
    return Link("appointments", args)
