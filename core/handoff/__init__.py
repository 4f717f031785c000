"""The handoff: a person behind the bot. A person asks for a person, waits in the queue of
their language, chats with the agent who claims them, and is back with the assistant when
either ends it; when nobody can take the chat, they leave a secure message that staff answer
later (``secure``). ``desk`` is the port that says whether an agent can take a chat now."""

from __future__ import annotations

from core.handoff.desk import DEFAULT_HOURS, AgentDesk, FixedDesk, WeeklyHours
from core.handoff.models import Handoff, HandoffMessage, HandoffStatus, SecureMessage, Sender
from core.handoff.secure import (
    AGENT_REPLY,
    EMAIL_CHANNEL,
    reply_to_secure_message,
    secure_messages,
    send_secure_message,
)
from core.handoff.service import (
    AGENT_MESSAGE,
    HANDOFF_CLAIMED,
    HANDOFF_CLOSED,
    HANDOFF_NEXT,
    HANDOFF_PLACE,
    HANDOFF_TRANSFERRED,
    HandoffView,
    Place,
    claim,
    close,
    end_by_person,
    estimated_wait,
    get_handoff,
    handoff_messages,
    handoff_view,
    open_handoff,
    place_in_queue,
    post_agent_message,
    post_person_message,
    queue_position,
    request_agent,
    transfer,
    with_agent,
)

__all__ = [
    "AGENT_MESSAGE",
    "AGENT_REPLY",
    "DEFAULT_HOURS",
    "EMAIL_CHANNEL",
    "HANDOFF_CLAIMED",
    "HANDOFF_CLOSED",
    "HANDOFF_NEXT",
    "HANDOFF_PLACE",
    "HANDOFF_TRANSFERRED",
    "AgentDesk",
    "FixedDesk",
    "Handoff",
    "HandoffMessage",
    "HandoffStatus",
    "HandoffView",
    "Place",
    "SecureMessage",
    "Sender",
    "WeeklyHours",
    "claim",
    "close",
    "end_by_person",
    "estimated_wait",
    "get_handoff",
    "handoff_messages",
    "handoff_view",
    "open_handoff",
    "place_in_queue",
    "post_agent_message",
    "post_person_message",
    "queue_position",
    "reply_to_secure_message",
    "request_agent",
    "secure_messages",
    "send_secure_message",
    "transfer",
    "with_agent",
]
