"""``casebot admin``: the operators' commands.

casebot admin migrate
casebot admin set-status RECEIPT STATUS
casebot admin case unlock-access RECEIPT    (wrong access codes no longer lock anyone out)
casebot admin import-cases FILE.csv
casebot admin import-processing-times FILE.csv    (columns form, office, range, date)
casebot admin office list
casebot admin office add CODE --name N --address A --city C --state S --zip Z --timezone TZ
                         [--services biometrics,in_person] [--slot-minutes M] [--capacity N]
                         [--hours mon=08:00-16:00 ...]
casebot admin office update CODE [--name N] [--address A] [--city C] [--state S] [--zip Z]
                         [--timezone TZ] [--services S] [--slot-minutes M]
casebot admin office hours CODE [DAY=HH:MM-HH:MM ...]    (days left out are closed)
casebot admin office capacity CODE N
casebot admin office close CODE YYYY-MM-DD [--reason TEXT]
casebot admin office reopen CODE YYYY-MM-DD
casebot admin appointments list|export [--office CODE] [--from DAY] [--to DAY]
                         [--status booked|cancelled] [--kind biometrics|in_person]
                         [--limit N] [--output FILE]
casebot admin audit list [--action A] [--actor X] [--since DAY] [--after ID] [--limit N]
casebot admin staff add|list|disable|reset ...    (see bot/admin/staff.py)

Every command that changes something, or reads people's appointments, is written to the audit
log as ``cli:<OS user>``. A refusal prints ``casebot: ...`` on stderr and exits with 1.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, TypeVar

from bot.admin.errors import describe_refusal
from bot.admin.input import parse_day, parse_hours_args, parse_kind, parse_status
from bot.admin.staff import add_staff_parser, run_staff
from bot.app import App
from core.admin import actions
from core.admin.audit import AuditQuery, cli_actor
from core.appointments.listing import AppointmentQuery, AppointmentRecord, appointments_csv
from core.appointments.office_admin import OfficeChanges
from core.appointments.offices import BUSINESS_HOURS
from core.appointments.views import OfficeWithSchedule
from core.errors import DomainError
from core.importer import ImportFailed

__all__ = ["add_admin_parser", "run_admin"]

T = TypeVar("T")


def _typed(parse: Callable[[str], T]) -> Callable[[str], T]:
    """An argparse type from a parser that raises ValueError with a sentence."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


def _services(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


def _count(text: str) -> int:
    if not text.strip().isdigit():
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def add_admin_parser(commands: Any) -> None:
    """Add ``admin`` and its actions to the command line's subparsers."""
    admin = commands.add_parser("admin", help="operator commands")
    actions_ = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions_.add_parser("migrate", help="bring the database to the latest schema")
    backup = actions_.add_parser(
        "backup", help="a consistent copy of the database while serving (PostgreSQL: pg_dump)"
    )
    backup.add_argument("path", type=Path)
    restore = actions_.add_parser(
        "restore", help="replace the SQLite database with a backup (stop casebot first)"
    )
    restore.add_argument("path", type=Path)
    set_status = actions_.add_parser("set-status", help="set a case's status (title or code)")
    set_status.add_argument("receipt_number")
    set_status.add_argument("status")
    case = actions_.add_parser("case", help="one case's access")
    case_what = case.add_subparsers(dest="case_action", required=True, metavar="WHAT")
    case_what.add_parser(
        "unlock-access",
        help="give every account locked out of a paper case by wrong access codes its tries back",
    ).add_argument("receipt_number")
    import_cases = actions_.add_parser("import-cases", help="import cases from a CSV file")
    import_cases.add_argument("file", type=Path)
    import_times = actions_.add_parser(
        "import-processing-times",
        help="replace the processing times shown to people with a CSV file "
        "(columns form, office, range, date)",
    )
    import_times.add_argument("file", type=Path)
    uscis = actions_.add_parser("uscis", help="USCIS Case Status API checks")
    uscis_what = uscis.add_subparsers(dest="uscis_action", required=True, metavar="WHAT")
    uscis_what.add_parser("check", help="ask USCIS about a case now").add_argument("receipt")

    office = actions_.add_parser("office", help="offices, their hours, capacity and closures")
    what = office.add_subparsers(dest="office_action", required=True, metavar="WHAT")
    what.add_parser("list", help="every office with its hours and closures")
    add = what.add_parser("add", help="add an office")
    add.add_argument("code")
    for name in ("name", "address", "city", "state", "zip", "timezone"):
        add.add_argument(f"--{name}", required=True)
    add.add_argument("--services", type=_services, default=["biometrics", "in_person"])
    add.add_argument("--slot-minutes", type=_typed(_count), default=30)
    add.add_argument("--capacity", type=_typed(_count), default=2)
    add.add_argument("--hours", nargs="+", metavar="DAY=HH:MM-HH:MM", default=None)
    update = what.add_parser("update", help="change an office's settings")
    update.add_argument("code")
    for name in ("name", "address", "city", "state", "zip", "timezone"):
        update.add_argument(f"--{name}")
    update.add_argument("--services", type=_services)
    update.add_argument("--slot-minutes", type=_typed(_count))
    hours = what.add_parser("hours", help="set the weekly hours (days left out are closed)")
    hours.add_argument("code")
    hours.add_argument("hours", nargs="*", metavar="DAY=HH:MM-HH:MM")
    capacity = what.add_parser("capacity", help="set the people per slot")
    capacity.add_argument("code")
    capacity.add_argument("capacity", type=_typed(_count))
    close = what.add_parser("close", help="close a day: its appointments are cancelled")
    close.add_argument("code")
    close.add_argument("day", type=_typed(parse_day))
    close.add_argument("--reason", default="")
    reopen = what.add_parser("reopen", help="open a closed day again")
    reopen.add_argument("code")
    reopen.add_argument("day", type=_typed(parse_day))

    appointments = actions_.add_parser("appointments", help="list or export appointments")
    how = appointments.add_subparsers(dest="appointments_action", required=True, metavar="HOW")
    for name, help_text in (("list", "print them"), ("export", "write them as CSV")):
        sub = how.add_parser(name, help=help_text)
        sub.add_argument("--office")
        sub.add_argument("--from", dest="first_day", type=_typed(parse_day))
        sub.add_argument("--to", dest="last_day", type=_typed(parse_day))
        sub.add_argument("--status", type=_typed(parse_status))
        sub.add_argument("--kind", type=_typed(parse_kind))
        sub.add_argument("--limit", type=_typed(_count))
        if name == "export":
            sub.add_argument("--output", type=Path, help="a file (default: standard output)")

    audit = actions_.add_parser("audit", help="the audit log of operator actions")
    audit_what = audit.add_subparsers(dest="audit_action", required=True, metavar="WHAT")
    audit_list = audit_what.add_parser("list", help="print entries, oldest first")
    audit_list.add_argument("--action", dest="action_filter")
    audit_list.add_argument("--actor")
    audit_list.add_argument("--since", type=_typed(parse_day))
    audit_list.add_argument("--after", type=_typed(_count), default=0)
    audit_list.add_argument("--limit", type=_typed(_count), default=100)
    add_staff_parser(actions_)


class _UsageError(Exception):
    """Words on the command line that parse but cannot be used together (exit status 2)."""


def _hours(words: list[str]) -> dict[int, tuple[time, time]]:
    try:
        return parse_hours_args(words)
    except ValueError as exc:
        raise _UsageError(str(exc)) from None


def _operator() -> str:
    try:
        return cli_actor(getpass.getuser())
    except (OSError, KeyError):  # no user name in the environment nor the password database
        return cli_actor("unknown")


async def run_admin(app: App, args: argparse.Namespace) -> int:
    """Run one ``casebot admin`` action; returns the exit status."""
    if args.action == "migrate":
        print("database is at the latest schema")
        return 0
    actor = _operator()
    try:
        return await _run(app, args, actor)
    except _UsageError as exc:
        print(f"casebot: {exc}", file=sys.stderr)
        return 2
    except ImportFailed as exc:
        source = args.file
        for problem in exc.problems:
            print(f"{source}:{problem.line}: {problem.message}", file=sys.stderr)
        print(f"casebot: nothing imported ({len(exc.problems)} bad row(s))", file=sys.stderr)
        return 1
    except DomainError as exc:
        refusal = describe_refusal(exc)
        print(f"casebot: {refusal.message if refusal else type(exc).__name__}", file=sys.stderr)
        return 1


async def _run(app: App, args: argparse.Namespace, actor: str) -> int:
    factory = app.uow_factory
    if args.action == "set-status":
        changed = await actions.set_status_as(factory, actor, args.receipt_number, args.status)
        print("status updated" if changed else "the case has that status already")
        return 0
    if args.action == "case":  # the only WHAT is unlock-access
        cleared = await actions.unlock_case_access_as(factory, actor, args.receipt_number)
        print(
            f"access code tries reset for {cleared} account(s)"
            if cleared
            else "no account had wrong access codes for this case"
        )
        return 0
    if args.action == "import-cases":
        try:
            data = args.file.read_bytes()
        except OSError as exc:
            print(f"casebot: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 1
        result = await actions.import_cases_as(factory, actor, data, source=str(args.file))
        print(
            f"imported {result.created} new, {result.updated} updated, "
            f"{result.unchanged} unchanged case(s); {result.notified} notification(s) queued"
        )
        return 0
    if args.action == "import-processing-times":
        try:
            data = args.file.read_bytes()
        except OSError as exc:
            print(f"casebot: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
            return 1
        loaded = await actions.import_processing_times_as(
            factory, actor, data, source=str(args.file)
        )
        print(f"loaded {loaded} processing time(s); the previous ones are replaced")
        return 0
    if args.action == "uscis":
        from bot.admin.uscis import uscis_check

        return await uscis_check(app, args.receipt)
    if args.action == "office":
        return await _office(app, args, actor)
    if args.action == "appointments":
        return await _appointments(app, args, actor)
    if args.action == "staff":
        return await run_staff(app, args, actor)
    if args.action == "audit":
        query = AuditQuery(
            action=args.action_filter,
            actor=args.actor,
            since=datetime.combine(args.since, time(0), tzinfo=UTC) if args.since else None,
            after_id=args.after,
            limit=max(1, min(args.limit, 1000)),
        )
        for entry in await actions.read_audit(factory, query):
            print(
                f"{entry.id}\t{entry.at:%Y-%m-%d %H:%M:%S}Z\t{entry.actor}\t{entry.action}\t"
                f"{entry.target}\t{entry.outcome.value}\t"
                f"{json.dumps(entry.params, ensure_ascii=False)}\t"
                f"{json.dumps(entry.result, ensure_ascii=False)}"
            )
        return 0
    raise AssertionError(f"unhandled admin action {args.action}")


async def _office(app: App, args: argparse.Namespace, actor: str) -> int:
    factory = app.uow_factory
    match args.office_action:
        case "list":
            for office in await actions.read_offices(factory):
                print(_office_text(office))
            return 0
        case "add":
            hours = _hours(args.hours) if args.hours else dict(BUSINESS_HOURS)
            values = {
                "code": args.code, "name": args.name, "address": args.address,
                "city": args.city, "state": args.state, "zip_code": args.zip,
                "timezone": args.timezone, "services": args.services,
                "slot_minutes": args.slot_minutes, "capacity": args.capacity, "hours": hours,
            }  # fmt: skip
            office = await actions.add_office_as(factory, actor, values)
            print(f"office {office.code} added")
            return 0
        case "update":
            changes = OfficeChanges(
                name=args.name, address=args.address, city=args.city, state=args.state,
                zip_code=args.zip, timezone=args.timezone, services=args.services,
                slot_minutes=args.slot_minutes,
            )  # fmt: skip
            changed = await actions.update_office_as(factory, actor, args.code, changes)
            print(f"changed: {', '.join(sorted(changed))}" if changed else "nothing to change")
            return 0
        case "hours":
            office = await actions.set_hours_as(factory, actor, args.code, _hours(args.hours))
            print(_office_text(office))
            return 0
        case "capacity":
            office, over = await actions.set_capacity_as(factory, actor, args.code, args.capacity)
            print(f"office {office.code}: {office.capacity} per slot")
            if over:
                print(f"{over} future slot(s) hold more people already; they keep them")
            return 0
        case "close":
            result = await actions.close_day_as(factory, actor, args.code, args.day, args.reason)
            print(
                f"office {result.office_code} closed on {result.day.isoformat()}: "
                f"{len(result.cancelled)} appointment(s) cancelled "
                f"({', '.join(result.cancelled) or 'none'}), {result.notices} notice(s) queued"
            )
            return 0
        case "reopen":
            reopened = await actions.reopen_day_as(factory, actor, args.code, args.day)
            print("the day is open again" if reopened else "the day was not closed")
            return 0
    raise AssertionError(f"unhandled office action {args.office_action}")


def _office_text(office: OfficeWithSchedule) -> str:
    hours = ", ".join(
        f"{actions.WEEKDAYS[h.weekday]} {h.opens:%H:%M}-{h.closes:%H:%M}"
        for h in sorted(office.hours, key=lambda h: h.weekday)
    )
    closures = ", ".join(
        c.day.isoformat() + (f" ({c.reason})" if c.reason else "")
        for c in sorted(office.closures, key=lambda c: c.day)
    )
    lines = [
        f"{office.code}\t{office.name}, {office.address}, {office.city}, {office.state} "
        f"{office.zip_code} ({office.timezone})",
        f"\tservices: {', '.join(office.services)}; {office.slot_minutes}-minute slots, "
        f"{office.capacity} per slot",
        f"\thours: {hours or 'none'}",
    ]
    if closures:
        lines.append(f"\tclosed: {closures}")
    return "\n".join(lines)


async def _appointments(app: App, args: argparse.Namespace, actor: str) -> int:
    query = AppointmentQuery(
        office=args.office,
        first_day=args.first_day,
        last_day=args.last_day,
        status=args.status,
        kind=args.kind,
        limit=args.limit or None,
    )
    if args.appointments_action == "list":
        for record in await actions.list_appointments_as(app.uow_factory, actor, query):
            print(_appointment_text(record))
        return 0
    records = await actions.export_appointments_as(app.uow_factory, actor, query)
    text = appointments_csv(records)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8", newline="")
        print(f"{len(records)} appointment(s) written to {args.output}", file=sys.stderr)
    return 0


def _appointment_text(record: AppointmentRecord) -> str:
    return "\t".join(
        [
            record.confirmation_code,
            record.office_code,
            record.local_start.strftime("%Y-%m-%d %H:%M %Z"),
            record.kind.value,
            record.status.value + (f" ({record.cancel_reason})" if record.cancel_reason else ""),
            record.receipt_number or "-",
            record.account_email,
        ]
    )
