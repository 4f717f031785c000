"""Staff: the agents and supervisors behind the console, their sign-in, their availability,
and the agents' business hours.

The handoff domain asks it who can take a conversation now: :func:`available_staff` (switched
to available, signed in, speaking the language), :func:`is_open` and :func:`next_opening`.
"""

from __future__ import annotations

from core.staff.accounts import (
    NewStaff,
    SetupStarted,
    StaffView,
    add_staff,
    begin_setup,
    confirm_setup,
    disable_staff,
    get_staff,
    list_staff,
    parse_languages,
    reissue_setup_code,
)
from core.staff.hours import DEFAULT_AGENT_HOURS, AgentHours, is_open, next_opening, parse_hours
from core.staff.models import STAFF_LANGUAGES, StaffMember, StaffRole, StaffSession
from core.staff.sessions import (
    StaffSignIn,
    authenticate_staff,
    available_staff,
    set_availability,
    sign_in_staff,
    sign_out_staff,
)

__all__ = [
    "DEFAULT_AGENT_HOURS",
    "STAFF_LANGUAGES",
    "AgentHours",
    "NewStaff",
    "SetupStarted",
    "StaffMember",
    "StaffRole",
    "StaffSession",
    "StaffSignIn",
    "StaffView",
    "add_staff",
    "authenticate_staff",
    "available_staff",
    "begin_setup",
    "confirm_setup",
    "disable_staff",
    "get_staff",
    "is_open",
    "list_staff",
    "next_opening",
    "parse_hours",
    "parse_languages",
    "reissue_setup_code",
    "set_availability",
    "sign_in_staff",
    "sign_out_staff",
]
