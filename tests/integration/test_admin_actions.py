"""Operator actions and their audit log, on SQLite and PostgreSQL: an entry is written with
every action that takes effect, in its transaction, and none with an action that is refused."""

from __future__ import annotations

import hashlib
from datetime import date, time

import pytest
from sqlalchemy import func, select

from core.accounts.models import Account
from core.admin.actions import (
    add_office_as,
    close_day_as,
    export_appointments_as,
    import_cases_as,
    read_audit,
    reopen_day_as,
    set_capacity_as,
    set_hours_as,
    set_status_as,
    unlock_case_access_as,
    update_office_as,
)
from core.admin.audit import AuditEntry, AuditQuery, Outcome, api_actor, cli_actor
from core.appointments.listing import AppointmentQuery
from core.appointments.office_admin import OfficeChanges
from core.cases.models import Case
from core.cases.service import add_paper_case
from core.demo import DEMO_ACCESS_CODE, DEMO_EMAIL, load_demo
from core.errors import (
    CaseAccessLocked,
    CaseNotFound,
    InvalidCode,
    InvalidOfficeData,
    InvalidReceiptNumber,
    OfficeNotFound,
    UnknownStatus,
)
from core.importer import ImportFailed
from core.uow import UnitOfWorkFactory

ACTOR = cli_actor("olga")
NEW_OFFICE = {
    "code": "BOS",
    "name": "Boston ASC",
    "address": "170 Portland St",
    "city": "Boston",
    "state": "MA",
    "zip_code": "02114",
    "timezone": "America/New_York",
    "hours": {0: (time(8), time(12))},
}


async def audit(uow_factory: UnitOfWorkFactory) -> list[AuditEntry]:
    return await read_audit(uow_factory, AuditQuery(limit=1000))


async def test_the_actor_names_an_identity_never_a_token() -> None:
    token = "s3cret-admin-token-0123456789"
    actor = api_actor(token)
    assert actor == "api:" + hashlib.sha256(token.encode()).hexdigest()[:12]
    assert token not in actor
    assert api_actor("another-token-0123456789") != actor
    assert cli_actor("olga") == "cli:olga"


async def test_a_status_change_is_logged_with_its_outcome(uow_factory: UnitOfWorkFactory) -> None:
    await load_demo(uow_factory)
    assert await set_status_as(uow_factory, ACTOR, "ioe-0912345678", "Case Was Approved")
    assert not await set_status_as(uow_factory, ACTOR, "IOE0912345678", "approved")
    entries = await audit(uow_factory)
    assert [(e.actor, e.action, e.target, e.params, e.outcome) for e in entries] == [
        (ACTOR, "case.set_status", "case:IOE0912345678", {"status": "approved"}, Outcome.CHANGED),
        (ACTOR, "case.set_status", "case:IOE0912345678", {"status": "approved"}, Outcome.UNCHANGED),
    ]


@pytest.mark.parametrize(
    ("receipt", "status", "error"),
    [
        ("IOE09123", "approved", InvalidReceiptNumber),
        ("IOE0912345678", "Case Was Misplaced", UnknownStatus),
        ("EAC0000000001", "approved", CaseNotFound),
    ],
)
async def test_a_refused_status_change_leaves_no_entry(
    uow_factory: UnitOfWorkFactory, receipt: str, status: str, error: type[Exception]
) -> None:
    await load_demo(uow_factory)
    with pytest.raises(error):
        await set_status_as(uow_factory, ACTOR, receipt, status)
    assert await audit(uow_factory) == []


async def test_an_operator_unlocks_a_paper_case_locked_by_wrong_codes_and_it_is_logged(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await load_demo(uow_factory)
    async with uow_factory() as uow:
        owner = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
    assert owner is not None

    async def try_code(code: str) -> Exception | None:
        async with uow_factory() as uow:
            try:
                await add_paper_case(
                    uow, account_id=owner, receipt_number="EAC2190012345", access_code=code
                )
            except (InvalidCode, CaseAccessLocked) as error:
                await uow.commit()
                return error
            await uow.commit()
            return None

    for n in range(5):
        assert isinstance(await try_code(f"WRONG000000{n}"), InvalidCode)
    assert isinstance(await try_code(DEMO_ACCESS_CODE), CaseAccessLocked)
    assert await unlock_case_access_as(uow_factory, ACTOR, "eac 2190012345") == 1
    assert await unlock_case_access_as(uow_factory, ACTOR, "EAC2190012345") == 0
    entries = await audit(uow_factory)
    assert [(e.actor, e.action, e.target, e.outcome, e.result) for e in entries] == [
        (ACTOR, "case.unlock_access", "case:EAC2190012345", Outcome.CHANGED, {"locks": 1}),
        (ACTOR, "case.unlock_access", "case:EAC2190012345", Outcome.UNCHANGED, {"locks": 0}),
    ]
    assert await try_code(DEMO_ACCESS_CODE) is None


async def test_unlocking_an_unknown_case_is_refused_and_not_logged(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with pytest.raises(CaseNotFound):
        await unlock_case_access_as(uow_factory, ACTOR, "EAC0000000001")
    with pytest.raises(InvalidReceiptNumber):
        await unlock_case_access_as(uow_factory, ACTOR, "EAC00")
    assert await audit(uow_factory) == []


async def test_an_import_is_logged_by_digest_never_with_its_contents(
    uow_factory: UnitOfWorkFactory,
) -> None:
    data = (
        b"receipt_number,form_type,status,access_code\nEAC2190099901,I-130,approved,SECRET123456\n"
    )
    result = await import_cases_as(uow_factory, ACTOR, data, source="cases.csv")
    assert result.created == 1
    (entry,) = await audit(uow_factory)
    assert (entry.action, entry.outcome) == ("cases.import", Outcome.CHANGED)
    assert entry.params == {"source": "cases.csv", "sha256": hashlib.sha256(data).hexdigest()}
    assert entry.result == {"created": 1, "updated": 0, "unchanged": 0, "notified": 0}
    assert "SECRET123456" not in repr((entry.params, entry.result, entry.target))
    await import_cases_as(uow_factory, ACTOR, data, source="cases.csv")
    assert (await audit(uow_factory))[-1].outcome is Outcome.UNCHANGED


async def test_an_import_with_a_bad_row_applies_nothing_and_logs_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    data = (
        b"receipt_number,form_type,status\nEAC2190099901,I-130,approved\nEAC2190099902,I-130,lost\n"
    )
    with pytest.raises(ImportFailed) as failed:
        await import_cases_as(uow_factory, ACTOR, data, source="cases.csv")
    assert [(p.line, p.reason) for p in failed.value.problems] == [(3, "status")]
    assert await audit(uow_factory) == []
    async with uow_factory() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Case)) == 0


async def test_office_actions_are_logged_with_their_parameters_and_results(
    uow_factory: UnitOfWorkFactory,
) -> None:
    office = await add_office_as(uow_factory, ACTOR, NEW_OFFICE)
    await update_office_as(uow_factory, ACTOR, "bos", OfficeChanges(name="Boston Field Office"))
    await set_hours_as(uow_factory, ACTOR, "BOS", {1: (time(9), time(15))})
    await set_capacity_as(uow_factory, ACTOR, "BOS", 3)
    await close_day_as(uow_factory, ACTOR, "BOS", date(2026, 3, 10), "training")
    assert await reopen_day_as(uow_factory, ACTOR, "BOS", date(2026, 3, 10))
    assert not await reopen_day_as(uow_factory, ACTOR, "BOS", date(2026, 3, 10))
    records = await export_appointments_as(uow_factory, ACTOR, AppointmentQuery(office="BOS"))
    assert records == []
    entries = await audit(uow_factory)
    assert [(e.action, e.target, e.outcome) for e in entries] == [
        ("office.add", "office:BOS", Outcome.CHANGED),
        ("office.update", "office:BOS", Outcome.CHANGED),
        ("office.set_hours", "office:BOS", Outcome.CHANGED),
        ("office.set_capacity", "office:BOS", Outcome.CHANGED),
        ("office.close_day", "office:BOS", Outcome.CHANGED),
        ("office.reopen_day", "office:BOS", Outcome.CHANGED),
        ("office.reopen_day", "office:BOS", Outcome.UNCHANGED),
        ("appointments.export", "office:BOS", Outcome.READ),
    ]
    assert entries[0].params["hours"] == {"mon": "08:00-12:00"}
    assert entries[0].result == {"id": office.id}
    assert entries[1].result == {
        "changed": {"name": {"old": "Boston ASC", "new": "Boston Field Office"}}
    }
    assert entries[2].params == {"hours": {"tue": "09:00-15:00"}}
    assert entries[2].result == {"before": {"mon": "08:00-12:00"}}
    assert entries[3].result == {"before": 2, "slots_over_capacity": 0}
    assert entries[4].params == {"day": "2026-03-10", "reason": "training"}
    assert entries[7].result == {"rows": 0}
    assert {e.actor for e in entries} == {ACTOR}
    only_reopen = await read_audit(uow_factory, AuditQuery(action="office.reopen_day"))
    assert len(only_reopen) == 2
    after = await read_audit(uow_factory, AuditQuery(after_id=entries[5].id, limit=1))
    assert [e.id for e in after] == [entries[6].id]


async def test_refused_office_actions_leave_no_entry(uow_factory: UnitOfWorkFactory) -> None:
    await add_office_as(uow_factory, ACTOR, NEW_OFFICE)
    before = len(await audit(uow_factory))
    with pytest.raises(InvalidOfficeData):
        await add_office_as(uow_factory, ACTOR, {**NEW_OFFICE, "code": "B2", "timezone": "Nope"})
    with pytest.raises(OfficeNotFound):
        await update_office_as(uow_factory, ACTOR, "ZZZ", OfficeChanges(name="x"))
    with pytest.raises(InvalidOfficeData):
        await set_capacity_as(uow_factory, ACTOR, "BOS", 0)
    with pytest.raises(InvalidOfficeData):
        await close_day_as(uow_factory, ACTOR, "BOS", date(2020, 1, 1))
    with pytest.raises(OfficeNotFound):
        await export_appointments_as(uow_factory, ACTOR, AppointmentQuery(office="ZZZ"))
    assert len(await audit(uow_factory)) == before
