"""Every dialog, by name: the one list of flows, from which the menu, the intents the engine
understands and the names flows may start are all built.

Each flow lives in its own module and declares there its name, its menu title, its purpose and
its intent (``bot.dialogs.base.Dialog``). Adding a flow is that module plus one line in
``FLOWS``; the order of ``FLOWS`` is the order of the menu's buttons.

Flows start one another (sign-in in the middle of booking, password help from sign-in), and
the engine refuses an edge to a dialog it does not know. So the names come first: each flow is
built knowing every name that is registered, and declares only edges towards those.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from bot.dialogs.accounts import (
    account_help,
    create_account,
    forgot_password,
    link_account,
    lost_device,
    notifications,
    sms_sign_in,
)
from bot.dialogs.appointments import appointments
from bot.dialogs.base import Dialog, DialogError, Flow
from bot.dialogs.cases import case_status, my_cases, updates
from bot.dialogs.language import language_dialog
from bot.dialogs.menu import menu_dialog
from bot.dialogs.secure_message import secure_message_dialog

__all__ = ["FLOWS", "all_dialogs", "build_dialogs"]

FLOWS: Final[tuple[Flow, ...]] = (
    case_status.FLOW,
    my_cases.FLOW,
    appointments.FLOW,
    link_account.FLOW,
    create_account.FLOW,
    account_help.FLOW,
    forgot_password.FLOW,
    lost_device.FLOW,
    notifications.FLOW,  # signed in only: after every other button
    updates.FLOW,  # not on the menu: a case's "Get updates" opens it
    sms_sign_in.FLOW,  # not on the menu: Notifications opens it
)


def build_dialogs(flows: Sequence[Flow]) -> dict[str, Dialog[Any]]:
    """The menu, the language picker, the secure message and these flows, by name.

    Raises:
        DialogError: two flows share a name, a flow's dialog is not named as its flow, or one
            takes the name of the menu or of the language picker.
    """
    names = [flow.name for flow in flows]
    if len(set(names)) != len(names):
        raise DialogError(
            f"flows registered twice: {sorted(n for n in names if names.count(n) > 1)}"
        )
    built = [flow.build(frozenset(names)) for flow in flows]
    renamed = [(f.name, d.name) for f, d in zip(flows, built, strict=True) if f.name != d.name]
    if renamed:
        raise DialogError(f"flows whose dialog has another name: {renamed}")
    menu = menu_dialog(built)
    dialogs: dict[str, Dialog[Any]] = {
        menu.name: menu,
        language_dialog.name: language_dialog,
        secure_message_dialog.name: secure_message_dialog,
    }
    for dialog in built:
        if dialog.name in dialogs:
            raise DialogError(f"a flow may not be called {dialog.name!r}")
        dialogs[dialog.name] = dialog
    return dialogs


def all_dialogs() -> dict[str, Dialog[Any]]:
    """The menu, the language picker and every registered flow (``FLOWS``)."""
    return build_dialogs(FLOWS)
