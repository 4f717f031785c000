"""The demo data of the public contract (see the README): loaded by ``casebot demo``, and by
``casebot serve --demo`` and ``casebot chat --demo`` into an empty database.

Loading is idempotent and restores: Ana's account and the demo cases are put back exactly as the
contract gives them (her sign-in state, the cases' status, history and ownership, the paper case's
unused access code), and the demo offices are brought back to their hours and services.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Final

from sqlalchemy import delete, exists, select

from core.accounts.models import Account
from core.accounts.questions import RESET_QUESTION_IDS
from core.accounts.service import register_account
from core.appointments.models import AppointmentKind, Office, OfficeHours
from core.appointments.offices import add_office
from core.cases.models import Case
from core.cases.service import create_case
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = ["DEMO_EMAIL", "DemoReport", "holds_no_records", "load_demo"]

logger = logging.getLogger(__name__)

DEMO_EMAIL: Final = "ana.demo@example.com"
DEMO_PASSWORD: Final = "sunflower-passport-42"  # noqa: S105  (public demo credentials)
DEMO_TOTP_SECRET: Final = "JBSWY3DPEHPK3PXP"  # noqa: S105
DEMO_BACKUP_CODE: Final = "7K3Q-9WXM-2PLD"
DEMO_RESET_ANSWER: Final = "maple"
DEMO_ACCESS_CODE: Final = "AB12CD34EF56"


def _at(day: str, hour: int = 14) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _DemoCase:
    receipt_number: str
    form_type: str
    received: str
    history: tuple[tuple[str, str], ...]  # (status code, ISO day), oldest first
    owned_by_ana: bool = False
    access_code: str | None = None


DEMO_CASES: Final = (
    _DemoCase(
        "IOE0912345678",
        "I-765",
        "2026-09-14",
        (("case_received", "2026-09-14"),),
        owned_by_ana=True,
    ),
    _DemoCase(
        "IOE0912345679",
        "I-485",
        "2026-09-14",
        (("case_received", "2026-09-14"), ("fingerprint_fee_received", "2026-09-16")),
        owned_by_ana=True,
    ),
    _DemoCase(
        "EAC2190012345",
        "I-130",
        "2026-08-03",
        (("accepted_by_lockbox", "2026-08-03"), ("case_received", "2026-08-05")),
        access_code=DEMO_ACCESS_CODE,
    ),
    _DemoCase(
        "WAC2212345678",
        "I-765",
        "2026-03-02",
        (
            ("case_received", "2026-03-02"),
            ("fingerprint_fee_received", "2026-03-04"),
            ("fingerprints_taken", "2026-04-07"),
            ("actively_reviewed", "2026-07-21"),
            ("approved", "2026-10-28"),
        ),
    ),
    _DemoCase(
        "LIN2390001234",
        "I-140",
        "2026-05-11",
        (
            ("case_received", "2026-05-11"),
            ("actively_reviewed", "2026-08-19"),
            ("rfe_sent", "2026-10-06"),
        ),
    ),
    _DemoCase(
        "MSC2091234567",
        "I-90",
        "2026-01-20",
        (
            ("case_received", "2026-01-20"),
            ("biometrics_scheduled", "2026-02-10"),
            ("fingerprints_taken", "2026-03-03"),
            ("card_being_produced", "2026-10-30"),
            ("card_mailed", "2026-11-04"),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class _DemoOffice:
    code: str
    name: str
    address: str
    city: str
    state: str
    zip_code: str
    timezone: str
    opens: time
    closes: time

    @property
    def hours(self) -> dict[int, tuple[time, time]]:
        return {weekday: (self.opens, self.closes) for weekday in range(5)}  # Monday to Friday


# Four time zones, and Arizona, which keeps no daylight saving time.
DEMO_OFFICES: Final = (
    _DemoOffice("NYC", "New York Field Office", "26 Federal Plaza", "New York", "NY", "10278",
                "America/New_York", time(8, 0), time(16, 0)),
    _DemoOffice("CHI", "Chicago Field Office", "101 W Congress Pkwy", "Chicago", "IL", "60605",
                "America/Chicago", time(8, 0), time(15, 30)),
    _DemoOffice("DEN", "Denver Field Office", "12484 E Weaver Pl", "Centennial", "CO", "80111",
                "America/Denver", time(8, 0), time(16, 0)),
    _DemoOffice("PHX", "Phoenix Field Office", "2035 N Central Ave", "Phoenix", "AZ", "85004",
                "America/Phoenix", time(7, 30), time(15, 30)),
    _DemoOffice("LAX", "Los Angeles Field Office", "300 N Los Angeles St", "Los Angeles", "CA",
                "90012", "America/Los_Angeles", time(8, 0), time(16, 0)),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoReport:
    accounts: int
    cases: int
    offices: int

    def __str__(self) -> str:
        return f"{self.accounts} account, {self.cases} cases, {self.offices} offices"


async def load_demo(uow_factory: UnitOfWorkFactory) -> DemoReport:
    """Load (or restore) the demo data; safe to run any number of times."""
    # Ana is registered afresh: her sign-in state, codes and answers as the contract gives them.
    async with uow_factory() as uow:
        await uow.session.execute(delete(Account).where(Account.email == DEMO_EMAIL))
        await uow.commit()
    registration = await register_account(
        uow_factory,
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        reset_answers={question: DEMO_RESET_ANSWER for question in RESET_QUESTION_IDS},
        email_code=None,
        totp_secret=DEMO_TOTP_SECRET,
        backup_code=DEMO_BACKUP_CODE,
        skip_email_verification=True,
    )
    async with uow_factory() as uow:
        receipts = [case.receipt_number for case in DEMO_CASES]
        await uow.session.execute(delete(Case).where(Case.receipt_number.in_(receipts)))
        for case in DEMO_CASES:
            await create_case(
                uow,
                receipt_number=case.receipt_number,
                form_type=case.form_type,
                status=case.history[-1][0],
                received_date=date.fromisoformat(case.received),
                owner_id=registration.account_id if case.owned_by_ana else None,
                access_code=case.access_code,
                history=[(code, _at(day)) for code, day in case.history],
            )
        for spec in DEMO_OFFICES:
            await _put_office(uow, spec)
        await uow.commit()
    logger.info("demo data loaded")
    return DemoReport(accounts=1, cases=len(DEMO_CASES), offices=len(DEMO_OFFICES))


async def holds_no_records(uow_factory: UnitOfWorkFactory) -> bool:
    """True when the database holds no account, case or office: nothing of anyone's that the
    demo data could be mixed with."""
    async with uow_factory() as uow:
        found = await uow.session.scalar(
            select(exists(select(Account.id)) | exists(select(Case.id)) | exists(select(Office.id)))
        )
    return not found


async def _put_office(uow: UnitOfWork, spec: _DemoOffice) -> None:
    """Add a demo office, or bring an existing one back to its demo hours and services."""
    office = await uow.session.scalar(select(Office).where(Office.code == spec.code))
    if office is None:
        await add_office(
            uow,
            code=spec.code,
            name=spec.name,
            address=spec.address,
            city=spec.city,
            state=spec.state,
            zip_code=spec.zip_code,
            timezone=spec.timezone,
            services=tuple(AppointmentKind),
            hours=spec.hours,
        )
        return
    office.active = True
    office.services = [kind.value for kind in AppointmentKind]
    await uow.session.execute(delete(OfficeHours).where(OfficeHours.office_id == office.id))
    uow.session.add_all(
        OfficeHours(office_id=office.id, weekday=day, opens=opens, closes=closes)
        for day, (opens, closes) in spec.hours.items()
    )
    await uow.flush()
