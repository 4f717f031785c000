"""Every dialog, by name. Each flow lives in its own module; this registry puts them together."""

from __future__ import annotations

from typing import Any

from bot.dialogs.base import Dialog
from bot.dialogs.language import language_dialog
from bot.dialogs.menu import menu_dialog

__all__ = ["all_dialogs"]


def _flows() -> list[Dialog[Any]]:
    flows: list[Dialog[Any]] = []
    from bot.dialogs.case_status import case_status_dialog  # flow: case_status, my_cases
    from bot.dialogs.case_view import flows_present
    from bot.dialogs.my_cases import my_cases_dialog

    # These come first: the flows they start (registered below) are found by module.
    case_links = flows_present("appointments", "link_account")
    flows += [case_status_dialog(case_links), my_cases_dialog(case_links)]
    from importlib.util import find_spec  # flow: link_account

    from bot.dialogs.link_account import link_account_dialog

    # It offers the password help, whose line comes later: look for that flow's module.
    later = {"account_help"} if find_spec("bot.dialogs.account_help") else set()
    flows.append(link_account_dialog({flow.name for flow in flows} | later))
    from bot.dialogs.account_help import account_help_flows  # flow: account_help

    flows += account_help_flows({flow.name for flow in flows})
    from bot.dialogs.appointments import appointments_dialog  # flow: appointments

    flows.append(appointments_dialog({flow.name for flow in flows}))
    return flows


def all_dialogs() -> dict[str, Dialog[Any]]:
    """The menu, the language picker and every flow."""
    flows = {dialog.name: dialog for dialog in _flows()}
    dialogs: dict[str, Dialog[Any]] = {"menu": menu_dialog(flows), "language": language_dialog}
    dialogs.update(flows)
    return dialogs
