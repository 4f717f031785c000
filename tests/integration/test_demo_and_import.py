"""The demo data and the importer against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.accounts.otp import totp
from core.accounts.signin import complete_sign_in, start_sign_in
from core.appointments.models import Office
from core.cases.models import Case, CaseEvent
from core.cases.service import case_detail, lookup_case
from core.demo import DEMO_BACKUP_CODE, DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET, load_demo
from core.importer import ImportFailed, import_cases, parse_cases_csv
from core.outbox.service import pending_notifications
from core.uow import UnitOfWorkFactory


async def _counts(uow_factory: UnitOfWorkFactory) -> tuple[int, int, int]:
    async with uow_factory() as uow:
        cases = await uow.session.scalar(select(func.count()).select_from(Case))
        events = await uow.session.scalar(select(func.count()).select_from(CaseEvent))
        offices = await uow.session.scalar(select(func.count()).select_from(Office))
    return int(cases or 0), int(events or 0), int(offices or 0)


async def test_ana_signs_in_with_the_demo_password_and_authenticator_code(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await load_demo(uow_factory)
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "console", "t1")
    code = totp(DEMO_TOTP_SECRET, uow_factory.clock.now())
    result = await complete_sign_in(uow_factory, challenge.account_id, code, "console", "t1")
    assert result.account_id == challenge.account_id
    async with uow_factory() as uow:
        detail = await case_detail(uow, "IOE0912345679", account_id=result.account_id)
        assert detail.status.allows_biometrics
        assert [h.status.code for h in detail.history] == [
            "case_received",
            "fingerprint_fee_received",
        ]


async def test_the_demo_backup_code_works_once_and_a_reload_restores_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await load_demo(uow_factory)
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "web", "a")
    used = await complete_sign_in(uow_factory, challenge.account_id, DEMO_BACKUP_CODE, "web", "a")
    assert used.new_backup_code is not None

    await load_demo(uow_factory)
    challenge = await start_sign_in(uow_factory, DEMO_EMAIL, DEMO_PASSWORD, "web", "b")
    again = await complete_sign_in(uow_factory, challenge.account_id, DEMO_BACKUP_CODE, "web", "b")
    assert again.new_backup_code is not None


async def test_loading_the_demo_twice_changes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    await load_demo(uow_factory)
    first = await _counts(uow_factory)
    await load_demo(uow_factory)
    assert await _counts(uow_factory) == first
    assert first[0] == 6
    assert first[2] >= 4
    async with uow_factory() as uow:
        public = await lookup_case(uow, "WAC2212345678", requester="test")
        assert public.status.title == "Case Was Approved"
        zones = set(await uow.session.scalars(select(Office.timezone)))
    assert "America/Phoenix" in zones
    assert len(zones) >= 4


async def test_an_import_applies_all_rows_or_none(uow_factory: UnitOfWorkFactory) -> None:
    await load_demo(uow_factory)
    before = await _counts(uow_factory)
    rows, problems = parse_cases_csv(
        "receipt_number,form_type,status,owner_email\n"
        "EAC2190099901,I-130,Case Was Received,\n"
        "EAC2190099902,I-130,Case Was Received,nobody@example.com\n"
    )
    assert problems == []
    with pytest.raises(ImportFailed) as failed:
        await import_cases(uow_factory, rows)
    assert [(p.line, p.reason) for p in failed.value.problems] == [(3, "unknown_owner")]
    assert await _counts(uow_factory) == before


async def test_an_imported_status_change_notifies_like_set_status(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await load_demo(uow_factory)
    from core.cases.service import subscribe

    async with uow_factory() as uow:
        await subscribe(uow, "LIN2390001234", channel="telegram", chat_id="42")
        await uow.commit()
    rows, _ = parse_cases_csv("receipt_number,form_type,status\nLIN2390001234,I-140,approved\n")
    result = await import_cases(uow_factory, rows)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    again = await import_cases(uow_factory, rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    async with uow_factory() as uow:
        sent = await pending_notifications(uow)
    assert [(n.channel, n.address, n.payload["status_code"]) for n in sent] == [
        ("telegram", "42", "approved")
    ]
