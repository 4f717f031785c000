"""``casebot admin staff ...``: the console's staff accounts.

casebot admin staff add EMAIL --name NAME --languages en,es [--role agent|supervisor]
casebot admin staff list
casebot admin staff disable EMAIL
casebot admin staff reset EMAIL      (a new set-up code: lost password or authenticator)

``add`` and ``reset`` print the one-time set-up link (``{CASEBOT_PUBLIC_URL}/console#setup=CODE``)
and the code: the staff member opens it, chooses a password and enrols an authenticator app.
Bad input exits with status 2 and a sentence on stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.app import App
from core.admin.staff_actions import (
    add_staff_as,
    disable_staff_as,
    read_staff,
    reissue_setup_code_as,
)
from core.errors import InvalidEmail
from core.staff.accounts import NewStaff
from core.staff.errors import InvalidStaffName, StaffExists, StaffNotFound, UnknownLanguage
from core.staff.models import STAFF_LANGUAGES, StaffRole

__all__ = ["add_staff_parser", "run_staff"]


def add_staff_parser(actions: Any) -> None:
    """Add ``staff`` and its commands to ``casebot admin``'s subparsers."""
    staff = actions.add_parser("staff", help="the agents and supervisors of the console")
    what = staff.add_subparsers(dest="staff_action", required=True, metavar="WHAT")
    add = what.add_parser("add", help="add a staff member and print their set-up link")
    add.add_argument("email")
    add.add_argument("--name", required=True, help="the name people see, e.g. Maria")
    add.add_argument(
        "--languages", required=True, help=f"comma-separated: {','.join(STAFF_LANGUAGES)}"
    )
    add.add_argument("--role", choices=[r.value for r in StaffRole], default="agent")
    what.add_parser("list", help="every staff member")
    what.add_parser("disable", help="end a staff member's access").add_argument("email")
    what.add_parser(
        "reset", help="a new set-up link (the old password and authenticator stop working)"
    ).add_argument("email")


def _refusal(error: Exception) -> str | None:
    match error:
        case UnknownLanguage(code=""):
            return f"give at least one language: {', '.join(STAFF_LANGUAGES)}"
        case UnknownLanguage(code=code):
            return f"unknown language {code!r}: use {', '.join(STAFF_LANGUAGES)}"
        case InvalidEmail():
            return "that is not an email address"
        case InvalidStaffName():
            return "the name must be 1 to 100 characters on one line"
        case StaffExists(email=email):
            return f"a staff member with the email {email} exists already"
        case StaffNotFound(email=email):
            return f"no staff member has the email {email}"
    return None


def _print_setup(app: App, added: NewStaff) -> None:
    link = f"{app.settings.link_base}/console#setup={added.setup_code}"
    print(
        f"set-up link for {added.staff.display_name}, valid until "
        f"{added.expires_at:%Y-%m-%d %H:%M} UTC (give it to them alone; it works once):"
    )
    print(f"  {link}")
    print(f"set-up code: {added.setup_code}")


async def run_staff(app: App, args: argparse.Namespace, actor: str) -> int:
    """Run one ``casebot admin staff`` command; returns the exit status."""
    try:
        return await _run(app, args, actor)
    except (InvalidEmail, InvalidStaffName, UnknownLanguage, StaffExists, StaffNotFound) as exc:
        print(f"casebot: {_refusal(exc)}", file=sys.stderr)
        return 2


async def _run(app: App, args: argparse.Namespace, actor: str) -> int:
    factory = app.uow_factory
    match args.staff_action:
        case "add":
            languages = [code for code in args.languages.split(",") if code.strip()]
            added = await add_staff_as(
                factory, actor, args.email, args.name, languages, StaffRole(args.role)
            )
            print(
                f"staff {added.staff.email} added: {added.staff.display_name}, "
                f"{added.staff.role.value}, {', '.join(added.staff.languages)}"
            )
            _print_setup(app, added)
            return 0
        case "list":
            for member in await read_staff(factory):
                state = (
                    "disabled"
                    if member.disabled
                    else ("available" if member.available else "away")
                    if member.set_up
                    else "set-up pending"
                )
                last = (
                    f"{member.last_sign_in_at:%Y-%m-%d %H:%M}Z" if member.last_sign_in_at else "-"
                )
                print(
                    f"{member.email}\t{member.display_name}\t{member.role.value}\t"
                    f"{','.join(member.languages)}\t{state}\t{last}"
                )
            return 0
        case "disable":
            changed = await disable_staff_as(factory, actor, args.email)
            print("disabled; their console sessions are ended" if changed else "already disabled")
            return 0
        case "reset":
            again = await reissue_setup_code_as(factory, actor, args.email)
            _print_setup(app, again)
            return 0
    raise AssertionError(f"unhandled staff action {args.staff_action}")
