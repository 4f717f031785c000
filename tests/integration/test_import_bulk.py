"""The bulk importer against a real database (SQLite and PostgreSQL): what it writes for new
and existing cases, access codes, notifications, chunk boundaries, and all-or-nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

import core.importer.apply as apply_module
from core.accounts.links import link_chat
from core.accounts.models import Account
from core.cases.access_code import verify_access_code
from core.cases.models import Case, CaseEvent
from core.cases.service import STATUS_CHANGED, add_paper_case, create_case, subscribe
from core.demo import DEMO_EMAIL, load_demo
from core.errors import InvalidCode, TooManyAttempts
from core.importer import ImportFailed, ImportResult, import_cases, parse_cases_csv
from core.outbox.models import OutboxMessage
from core.uow import UnitOfWork, UnitOfWorkFactory
from tests.fakes import FakeClock

HEADER = "receipt_number,form_type,status,received_date,owner_email,access_code\n"


def rows_of(text: str) -> list[Any]:
    rows, problems = parse_cases_csv(HEADER + text)
    assert problems == []
    return rows


async def case_of(uow_factory: UnitOfWorkFactory, receipt: str) -> Case:
    async with uow_factory() as uow:
        case = await uow.session.scalar(select(Case).where(Case.receipt_number == receipt))
    assert case is not None
    return case


async def history(uow_factory: UnitOfWorkFactory, receipt: str) -> list[str]:
    async with uow_factory() as uow:
        codes = await uow.session.scalars(
            select(CaseEvent.status_code)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.receipt_number == receipt)
            .order_by(CaseEvent.id)
        )
    return list(codes)


async def outbox(uow_factory: UnitOfWorkFactory) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_first_import_creates_cases_with_history_owner_and_hashed_code(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await load_demo(uow_factory)
    result = await import_cases(
        uow_factory,
        rows_of(
            f"EAC2190099901,I-130,Case Was Received,2026-01-05,{DEMO_EMAIL},AB12CD34EF99\n"
            "EAC2190099902,i 765,approved,,,\n"
        ),
    )
    assert result == ImportResult(created=2, updated=0, unchanged=0, notified=0)
    first = await case_of(uow_factory, "EAC2190099901")
    async with uow_factory() as uow:
        ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
    assert first.owner_id == ana
    assert first.received_date is not None
    assert first.received_date.isoformat() == "2026-01-05"
    assert first.access_code_hash is not None
    assert "AB12CD34EF99" not in first.access_code_hash
    assert verify_access_code("AB12-CD34-EF99", first.access_code_hash)
    assert first.status_updated_at == clock.now()
    second = await case_of(uow_factory, "EAC2190099902")
    assert (second.form_type, second.status_code, second.owner_id) == ("I-765", "approved", None)
    assert second.access_code_hash is None
    assert await history(uow_factory, "EAC2190099902") == ["approved"]


async def test_a_status_change_is_recorded_and_announced_once_per_following_chat(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await load_demo(uow_factory)
    async with uow_factory() as uow:
        ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert ana is not None
        await link_chat(uow, ana, "telegram", "100")
        await link_chat(uow, ana, "webchat", "w1")
        # A chat that is both signed in as the owner and subscribed hears it once.
        await subscribe(uow, "IOE0912345678", channel="telegram", chat_id="100")
        await subscribe(uow, "IOE0912345678", channel="telegram", chat_id="200")
        await uow.commit()
    before = await case_of(uow_factory, "IOE0912345678")
    clock.advance(hours=3)
    result = await import_cases(
        uow_factory,
        rows_of("IOE0912345678,I-765,Case Was Approved,,,\nWAC2212345678,I-765,approved,,,\n"),
    )
    # WAC... is approved already and its form type stays: unchanged.
    assert result == ImportResult(created=0, updated=1, unchanged=1, notified=3)
    after = await case_of(uow_factory, "IOE0912345678")
    assert after.status_code == "approved"
    assert after.status_updated_at == clock.now() != before.status_updated_at
    assert (await history(uow_factory, "IOE0912345678"))[-1] == "approved"
    sent = await outbox(uow_factory)
    assert [(m.kind, m.channel, m.address) for m in sent] == [
        (STATUS_CHANGED, "telegram", "100"),
        (STATUS_CHANGED, "webchat", "w1"),
        (STATUS_CHANGED, "telegram", "200"),
    ]
    assert sent[0].payload == {
        "receipt_number": "IOE0912345678",
        "form_type": "I-765",
        "status_code": "approved",
        "old_status_code": before.status_code,
        "changed_at": clock.now().isoformat(),
    }
    again = await import_cases(uow_factory, rows_of("IOE0912345678,I-765,approved,,,\n"))
    assert again == ImportResult(created=0, updated=0, unchanged=1, notified=0)
    assert len(await outbox(uow_factory)) == 3


async def test_a_changed_form_type_updates_without_touching_the_status_time(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await load_demo(uow_factory)
    before = await case_of(uow_factory, "WAC2212345678")
    events_before = await history(uow_factory, "WAC2212345678")
    clock.advance(days=1)
    result = await import_cases(uow_factory, rows_of("WAC2212345678,I-130,approved,,,\n"))
    assert (result.updated, result.notified) == (1, 0)
    after = await case_of(uow_factory, "WAC2212345678")
    assert after.form_type == "I-130"
    assert after.status_updated_at == before.status_updated_at
    assert await history(uow_factory, "WAC2212345678") == events_before


async def test_an_access_code_is_rehashed_only_when_it_differs_and_never_once_used(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with uow_factory() as uow:
        await create_case(
            uow, receipt_number="EAC2190000001", form_type="I-130", status="case_received",
            access_code="AAAA1111BBBB",
        )  # fmt: skip
        used = await create_case(
            uow, receipt_number="EAC2190000002", form_type="I-130", status="case_received",
            access_code="CCCC2222DDDD",
        )  # fmt: skip
        used.access_code_used_at = uow.clock.now()
        await uow.commit()
    hashed: list[str] = []
    original = apply_module.hash_access_code

    def counting_hash(code: str) -> str:
        hashed.append(code)
        return original(code)

    monkeypatch.setattr(apply_module, "hash_access_code", counting_hash)
    same = await import_cases(
        uow_factory, rows_of("EAC2190000001,I-130,case_received,,,AAAA1111BBBB\n")
    )
    assert (same.unchanged, hashed) == (1, [])
    other = rows_of(
        "EAC2190000001,I-130,case_received,,,EEEE3333FFFF\n"
        "EAC2190000002,I-130,case_received,,,GGGG4444HHHH\n"
    )
    result = await import_cases(uow_factory, other)
    assert (result.updated, result.unchanged, hashed) == (1, 1, ["EEEE3333FFFF"])
    assert verify_access_code(
        "EEEE3333FFFF", (await case_of(uow_factory, "EAC2190000001")).access_code_hash
    )
    assert verify_access_code(
        "CCCC2222DDDD", (await case_of(uow_factory, "EAC2190000002")).access_code_hash
    )


async def test_rows_across_several_chunks_are_all_applied_in_one_transaction(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apply_module, "CHUNK", 7)
    text = "".join(f"IOE{2500000000 + n:010d},I-485,case_received,,,\n" for n in range(30))
    assert (await import_cases(uow_factory, rows_of(text))).created == 30
    changed = text.replace("case_received", "approved", 10)
    result = await import_cases(uow_factory, rows_of(changed))
    assert (result.created, result.updated, result.unchanged) == (0, 10, 20)
    async with uow_factory() as uow:
        approved = await uow.session.scalar(
            select(func.count()).select_from(Case).where(Case.status_code == "approved")
        )
        events = await uow.session.scalar(select(func.count()).select_from(CaseEvent))
    assert (approved, events) == (10, 40)


async def test_a_failure_before_the_commit_leaves_nothing_of_any_chunk(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apply_module, "CHUNK", 5)
    text = "".join(f"IOE{2600000000 + n:010d},I-485,case_received,,,\n" for n in range(12))

    async def refuse(uow: UnitOfWork, result: ImportResult) -> None:
        assert result.created == 12  # every chunk was written in this transaction...
        raise ImportFailed([])  # ...and is rolled back with it

    with pytest.raises(ImportFailed):
        await import_cases(uow_factory, rows_of(text), before_commit=refuse)
    async with uow_factory() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Case)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(CaseEvent)) == 0


async def test_an_unknown_owner_in_a_late_row_stops_the_whole_file(
    uow_factory: UnitOfWorkFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apply_module, "CHUNK", 3)
    text = "".join(f"IOE{2700000000 + n:010d},I-485,case_received,,,\n" for n in range(9))
    text += "IOE2700000099,I-485,case_received,,nobody@example.com,\n"
    with pytest.raises(ImportFailed) as failed:
        await import_cases(uow_factory, rows_of(text))
    assert [(p.line, p.reason) for p in failed.value.problems] == [(11, "unknown_owner")]
    async with uow_factory() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Case)) == 0


async def test_a_new_access_code_clears_the_locks_of_wrong_codes_on_its_case(
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
            except (InvalidCode, TooManyAttempts) as error:
                await uow.commit()
                return error
            await uow.commit()
            return None

    for n in range(5):
        assert isinstance(await try_code(f"WRONG000000{n}"), InvalidCode)
    assert isinstance(await try_code("NEWC0DE00000"), TooManyAttempts)
    same = await import_cases(
        uow_factory, rows_of("EAC2190012345,I-130,case_received,,,AB12CD34EF56\n")
    )
    assert same.unchanged == 1
    assert isinstance(await try_code("NEWC0DE00000"), TooManyAttempts)  # same code: still locked
    await import_cases(uow_factory, rows_of("EAC2190012345,I-130,case_received,,,NEWC0DE00000\n"))
    assert await try_code("NEWC0DE00000") is None
