"""Every dialog, by name. Each flow lives in its own module; this registry puts them together.

Flows start one another (sign-in in the middle of booking, password help from sign-in), and
the engine refuses an edge to a dialog it does not know. So the names come first: each flow is
built knowing every name that will be registered, and declares only edges towards those.
"""

from __future__ import annotations

from typing import Any, Final

from bot.dialogs.accounts.account_help import account_help_flows
from bot.dialogs.accounts.link_account import link_account_dialog
from bot.dialogs.appointments.appointments import appointments_dialog
from bot.dialogs.base import Dialog
from bot.dialogs.cases.case_status import case_status_dialog
from bot.dialogs.cases.my_cases import my_cases_dialog
from bot.dialogs.language import language_dialog
from bot.dialogs.menu import menu_dialog

__all__ = ["FLOW_NAMES", "all_dialogs"]

FLOW_NAMES: Final = frozenset(
    {
        "case_status",
        "my_cases",
        "link_account",
        "account_help",
        "forgot_password",
        "lost_device",
        "create_account",
        "appointments",
    }
)


def all_dialogs() -> dict[str, Dialog[Any]]:
    """The menu, the language picker and every flow.

    Raises:
        DialogError: a flow's name is not the one listed in FLOW_NAMES (or one is missing).
    """
    from bot.dialogs.base import DialogError

    flows: list[Dialog[Any]] = [
        case_status_dialog(FLOW_NAMES),
        my_cases_dialog(FLOW_NAMES),
        link_account_dialog(FLOW_NAMES),
        *account_help_flows(FLOW_NAMES),
        appointments_dialog(FLOW_NAMES),
    ]
    by_name = {dialog.name: dialog for dialog in flows}
    if set(by_name) != FLOW_NAMES:
        raise DialogError(f"registered flows {sorted(by_name)} differ from {sorted(FLOW_NAMES)}")
    dialogs: dict[str, Dialog[Any]] = {
        "menu": menu_dialog(FLOW_NAMES),
        "language": language_dialog,
    }
    dialogs.update(by_name)
    return dialogs
