from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.accounts.models import Account, AccountKind, ChannelLink, RepresentativeGrant
from core.cases import service
from core.cases.access_code import (
    ACCOUNT_FAILURE_LIMIT,
    ACCOUNT_FAILURE_WINDOW,
    CASE_LOCK_DURATION,
)
from core.cases.models import Case, CaseEvent
from core.cases.receipt import ReceiptNumber
from core.errors import (
    AccessCodeAlreadyUsed,
    AccountNotFound,
    CaseAccessLocked,
    CaseAlreadyLinked,
    CaseExists,
    CaseNotFound,
    InvalidCode,
    InvalidReceiptNumber,
    NotAuthorized,
    RateLimited,
    TooManyAttempts,
    UnknownStatus,
)
from core.outbox.models import OutboxMessage
from core.outbox.service import pending_notifications
from core.uow import UnitOfWork, UnitOfWorkFactory
from tests.fakes import FakeClock

PAPER = "EAC2190012345"
CODE = "AB12CD34EF56"
T0 = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


async def add_account(
    uow: UnitOfWork, email: str, kind: AccountKind = AccountKind.APPLICANT
) -> int:
    account = Account(email=email, password_hash="not-a-real-hash", kind=kind)
    uow.session.add(account)
    await uow.flush()
    return account.id


async def link_chat(uow: UnitOfWork, account_id: int, channel: str, chat_id: str) -> None:
    uow.session.add(ChannelLink(channel=channel, chat_id=chat_id, account_id=account_id))
    await uow.flush()


async def event_codes(uow: UnitOfWork, receipt: str) -> list[str]:
    rows = await uow.session.scalars(
        select(CaseEvent.status_code)
        .join(Case)
        .where(Case.receipt_number == receipt)
        .order_by(CaseEvent.occurred_at, CaseEvent.id)
    )
    return list(rows)


async def outbox_count(uow: UnitOfWork) -> int:
    return int(await uow.session.scalar(select(func.count(OutboxMessage.id))) or 0)


@pytest.fixture
async def ana(uow_factory: UnitOfWorkFactory) -> int:
    """An account owning IOE0912345678 (I-765, Case Was Received), with a dated history."""
    async with uow_factory() as uow:
        account_id = await add_account(uow, "ana.demo@example.com")
        await service.create_case(
            uow,
            receipt_number="IOE0912345678",
            form_type="i-765",
            status="Case Was Received",
            received_date=date(2026, 1, 5),
            owner_id=account_id,
            history=[("case_received", T0)],
        )
        await uow.commit()
    return account_id


@pytest.fixture
async def paper_case(uow_factory: UnitOfWorkFactory) -> str:
    async with uow_factory() as uow:
        await service.create_case(
            uow, receipt_number=PAPER, form_type="I-130", status="case_received", access_code=CODE
        )
        await uow.commit()
    return PAPER


# --- creating and importing ------------------------------------------------------------------


async def test_creates_a_case_with_its_dated_history(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        case = await service.create_case(
            uow,
            receipt_number="wac 22 123 45678",
            form_type="I-130",
            status="Case Was Approved",
            history=[("Case Was Approved", T0 + timedelta(days=30)), ("case_received", T0)],
        )
        await uow.commit()
    assert case.receipt_number == "WAC2212345678"
    assert case.status_code == "approved"
    assert case.status_updated_at == T0 + timedelta(days=30)
    async with uow_factory() as uow:
        assert await event_codes(uow, "WAC2212345678") == ["case_received", "approved"]


async def test_a_case_without_history_starts_in_its_status_now(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        case = await service.create_case(
            uow, receipt_number="LIN2390001234", form_type="I-485", status="rfe_sent"
        )
        assert case.status_updated_at == clock.now()
        assert await event_codes(uow, "LIN2390001234") == ["rfe_sent"]


async def test_the_current_status_closes_a_history_that_ends_elsewhere(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        case = await service.create_case(
            uow,
            receipt_number="MSC2091234567",
            form_type="I-90",
            status="card_mailed",
            history=[("case_received", T0)],
        )
        assert await event_codes(uow, "MSC2091234567") == ["case_received", "card_mailed"]
        assert case.status_updated_at == clock.now()


async def test_refuses_a_second_case_with_the_same_receipt_number(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(CaseExists) as caught:
            await service.create_case(
                uow, receipt_number="ioe0912345678", form_type="I-765", status="approved"
            )
    assert caught.value.receipt_number == "IOE0912345678"


async def test_an_unknown_status_creates_nothing(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(UnknownStatus):
            await service.create_case(
                uow,
                receipt_number="WAC2212345678",
                form_type="I-130",
                status="approved",
                history=[("Case Was Lost", T0)],
            )
        assert await uow.session.scalar(select(func.count(Case.id))) == 0


async def test_a_naive_history_time_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="aware"):
            await service.create_case(
                uow,
                receipt_number="WAC2212345678",
                form_type="I-130",
                status="approved",
                history=[("approved", datetime(2026, 1, 5))],
            )


async def test_the_access_code_is_stored_hashed(
    uow_factory: UnitOfWorkFactory, paper_case: str
) -> None:
    async with uow_factory() as uow:
        stored = await uow.session.scalar(
            select(Case.access_code_hash).where(Case.receipt_number == paper_case)
        )
    assert stored is not None
    assert CODE not in stored


async def test_importing_the_same_row_twice_changes_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    row = {
        "receipt_number": "WAC2212345678",
        "form_type": "I-130",
        "status": "approved",
        "received_date": date(2025, 12, 1),
        "access_code": "ZZ12YY34XX56",
        "history": [("case_received", T0), ("approved", T0 + timedelta(days=9))],
    }
    async with uow_factory() as uow:
        _, created, changed = await service.upsert_case(uow, **row)  # type: ignore[arg-type]
        await uow.commit()
    assert (created, changed) == (True, True)
    async with uow_factory() as uow:
        _, created, changed = await service.upsert_case(uow, **row)  # type: ignore[arg-type]
        await uow.commit()
    assert (created, changed) == (False, False)
    async with uow_factory() as uow:
        assert await event_codes(uow, "WAC2212345678") == ["case_received", "approved"]


async def test_importing_a_new_status_updates_and_notifies(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        await link_chat(uow, ana, "telegram", "111")
        case, created, changed = await service.upsert_case(
            uow,
            receipt_number="IOE0912345678",
            form_type="I-765",
            status="Fingerprint Fee Was Received",
            history=[("case_received", T0), ("fingerprint_fee_received", T0 + timedelta(days=2))],
        )
        await uow.commit()
    assert (created, changed) == (False, True)
    assert case.status_updated_at == T0 + timedelta(days=2)
    async with uow_factory() as uow:
        codes = await event_codes(uow, "IOE0912345678")
        assert codes == ["case_received", "fingerprint_fee_received"]
        [note] = await pending_notifications(uow)
        assert note.payload["status_code"] == "fingerprint_fee_received"


async def test_importing_merges_missing_history_and_new_fields(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        _, _, changed = await service.upsert_case(
            uow,
            receipt_number="IOE0912345678",
            form_type="I-765",
            status="case_received",
            history=[("accepted_by_lockbox", T0 - timedelta(days=1)), ("case_received", T0)],
        )
        assert changed
        assert await event_codes(uow, "IOE0912345678") == ["accepted_by_lockbox", "case_received"]
        _, _, changed = await service.upsert_case(
            uow, receipt_number="IOE0912345678", form_type="I-765V", status="case_received"
        )
        assert changed
        assert await outbox_count(uow) == 0


# --- public lookup ---------------------------------------------------------------------------


async def test_anyone_can_look_up_a_case_by_what_they_type(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        found = await service.lookup_case(uow, "ioe-0912-345-678", requester="telegram:9")
    assert found.receipt == ReceiptNumber("IOE0912345678")
    assert found.form_type == "I-765"
    assert found.status.code == "case_received"
    assert found.updated_at == T0
    assert found.received_date == date(2026, 1, 5)


async def test_an_unknown_receipt_number_is_not_found(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(CaseNotFound) as caught:
            await service.lookup_case(uow, "EAC2190099999", requester="telegram:9")
    assert caught.value.receipt_number == "EAC2190099999"


async def lookup(uow_factory: UnitOfWorkFactory, receipt: str, requester: str) -> str:
    """One lookup in its own unit of work, committed even when it fails (as the engine does)."""
    async with uow_factory() as uow:
        try:
            await service.lookup_case(uow, receipt, requester=requester)
        except (CaseNotFound, RateLimited) as error:
            await uow.commit()
            return type(error).__name__
        await uow.commit()
        return "ok"


async def test_lookups_are_throttled_per_requester(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, ana: int
) -> None:
    results = [await lookup(uow_factory, "IOE0912345678", "telegram:9") for _ in range(11)]
    assert results == ["ok"] * service.LOOKUPS_PER_MINUTE + ["RateLimited"]
    assert await lookup(uow_factory, "IOE0912345678", "telegram:10") == "ok"
    clock.advance(minutes=1)
    assert await lookup(uow_factory, "IOE0912345678", "telegram:9") == "ok"


async def test_failed_lookups_count_against_the_throttle(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    for n in range(service.LOOKUPS_PER_MINUTE):
        assert await lookup(uow_factory, f"EAC21900{n:05d}", "webchat:s") == "CaseNotFound"
    assert await lookup(uow_factory, "IOE0912345678", "webchat:s") == "RateLimited"


async def test_lookups_have_an_hourly_cap_too(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, ana: int
) -> None:
    clock.set(clock.now().replace(minute=0))
    for _ in range(service.LOOKUPS_PER_HOUR // service.LOOKUPS_PER_MINUTE):
        for _ in range(service.LOOKUPS_PER_MINUTE):
            assert await lookup(uow_factory, "IOE0912345678", "telegram:9") == "ok"
        clock.advance(minutes=1)
    assert await lookup(uow_factory, "IOE0912345678", "telegram:9") == "RateLimited"


async def test_a_malformed_receipt_number_costs_no_lookup(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    for _ in range(service.LOOKUPS_PER_MINUTE + 5):
        async with uow_factory() as uow:
            with pytest.raises(InvalidReceiptNumber):
                await service.lookup_case(uow, "A123456789", requester="telegram:9")
            await uow.commit()
    assert await lookup(uow_factory, "IOE0912345678", "telegram:9") == "ok"


# --- detail and lists ------------------------------------------------------------------------


async def test_the_owner_sees_the_full_dated_history(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        await service.update_status(uow, "IOE0912345678", "rfe_sent", at=T0 + timedelta(days=3))
        detail = await service.case_detail(uow, "IOE0912345678", account_id=ana)
    assert [(h.status.code, h.occurred_at) for h in detail.history] == [
        ("case_received", T0),
        ("rfe_sent", T0 + timedelta(days=3)),
    ]
    assert detail.status.code == "rfe_sent"
    assert detail.owner_id == ana


async def test_a_representative_of_the_owner_sees_the_detail(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        lawyer = await add_account(uow, "lawyer@example.com", AccountKind.REPRESENTATIVE)
        uow.session.add(RepresentativeGrant(representative_id=lawyer, client_id=ana))
        await uow.flush()
        detail = await service.case_detail(uow, "IOE0912345678", account_id=lawyer)
    assert detail.receipt == ReceiptNumber("IOE0912345678")


async def test_nobody_else_sees_the_detail(
    uow_factory: UnitOfWorkFactory, ana: int, paper_case: str
) -> None:
    async with uow_factory() as uow:
        stranger = await add_account(uow, "stranger@example.com")
        lawyer = await add_account(uow, "other-lawyer@example.com", AccountKind.REPRESENTATIVE)
        uow.session.add(RepresentativeGrant(representative_id=lawyer, client_id=stranger))
        await uow.flush()
        for account_id in (stranger, lawyer):
            with pytest.raises(NotAuthorized):
                await service.case_detail(uow, "IOE0912345678", account_id=account_id)
        with pytest.raises(NotAuthorized):  # a case in no account
            await service.case_detail(uow, paper_case, account_id=stranger)
        with pytest.raises(CaseNotFound):
            await service.case_detail(uow, "EAC2190099999", account_id=ana)


async def test_lists_the_cases_of_an_account_and_of_a_representatives_clients(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        other = await add_account(uow, "other@example.com")
        lawyer = await add_account(uow, "lawyer@example.com", AccountKind.REPRESENTATIVE)
        await service.create_case(
            uow,
            receipt_number="IOE0912345679",
            form_type="I-485",
            status="fingerprint_fee_received",
            owner_id=ana,
        )
        await service.create_case(
            uow,
            receipt_number="WAC2212345678",
            form_type="I-130",
            status="approved",
            owner_id=other,
        )
        uow.session.add(RepresentativeGrant(representative_id=lawyer, client_id=ana))
        await uow.flush()
        mine = await service.list_cases(uow, ana)
        clients = await service.list_client_cases(uow, lawyer)
        assert await service.list_cases(uow, lawyer) == []
    assert [str(c.receipt) for c in mine] == ["IOE0912345678", "IOE0912345679"]
    assert [(c.client_id, c.client_email, str(c.case.receipt)) for c in clients] == [
        (ana, "ana.demo@example.com", "IOE0912345678"),
        (ana, "ana.demo@example.com", "IOE0912345679"),
    ]


# --- paper-filed cases -----------------------------------------------------------------------


async def add_paper(
    uow_factory: UnitOfWorkFactory, account_id: int, code: str, receipt: str = PAPER
) -> Case | Exception:
    """One try in its own unit of work, committed even when it fails (as the engine does)."""
    async with uow_factory() as uow:
        try:
            case = await service.add_paper_case(
                uow, account_id=account_id, receipt_number=receipt, access_code=code
            )
        except (InvalidCode, TooManyAttempts, CaseNotFound) as error:
            await uow.commit()
            return error
        await uow.commit()
        return case


async def test_adds_a_paper_case_with_its_access_code_as_typed(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, ana: int, paper_case: str
) -> None:
    case = await add_paper(uow_factory, ana, "ab12-cd34 ef56")
    assert isinstance(case, Case)
    assert case.owner_id == ana
    assert case.access_code_used_at == clock.now()
    async with uow_factory() as uow:
        assert [str(c.receipt) for c in await service.list_cases(uow, ana)] == [
            "EAC2190012345",
            "IOE0912345678",
        ]


async def test_a_wrong_code_says_how_many_tries_are_left_and_is_remembered(
    uow_factory: UnitOfWorkFactory, ana: int, paper_case: str
) -> None:
    first = await add_paper(uow_factory, ana, "AB12CD34EF57")
    second = await add_paper(uow_factory, ana, "AB12CD34EF58")
    assert isinstance(first, InvalidCode)
    assert first.attempts_left == 4
    assert isinstance(second, InvalidCode)
    assert second.attempts_left == 3


async def test_a_failure_is_only_remembered_when_the_caller_commits(
    uow_factory: UnitOfWorkFactory, ana: int, paper_case: str
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(InvalidCode):
            await service.add_paper_case(
                uow, account_id=ana, receipt_number=PAPER, access_code="WRONG0000000"
            )
    again = await add_paper(uow_factory, ana, "WRONG0000001")
    assert isinstance(again, InvalidCode)
    assert again.attempts_left == 4


async def test_five_wrong_codes_lock_the_case_for_that_account_for_an_hour(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, ana: int, paper_case: str
) -> None:
    results = [await add_paper(uow_factory, ana, f"WRONG000000{n}") for n in range(5)]
    assert [getattr(r, "attempts_left", None) for r in results] == [4, 3, 2, 1, 0]
    locked = await add_paper(uow_factory, ana, CODE)
    assert isinstance(locked, CaseAccessLocked)
    assert locked.until == clock.now() + CASE_LOCK_DURATION
    assert timedelta(hours=1) == CASE_LOCK_DURATION
    clock.advance(CASE_LOCK_DURATION - timedelta(seconds=1))
    assert isinstance(await add_paper(uow_factory, ana, CODE), CaseAccessLocked)
    clock.advance(timedelta(seconds=1))
    assert isinstance(await add_paper(uow_factory, ana, CODE), Case)


async def test_a_stranger_s_wrong_codes_do_not_lock_the_case_for_its_owner(
    uow_factory: UnitOfWorkFactory, ana: int, paper_case: str
) -> None:
    async with uow_factory() as uow:
        stranger = await add_account(uow, "mallory@example.com")
        await uow.commit()
    for n in range(5):
        assert isinstance(await add_paper(uow_factory, stranger, f"WRONG000000{n}"), InvalidCode)
    assert isinstance(await add_paper(uow_factory, stranger, CODE), CaseAccessLocked)
    first = await add_paper(uow_factory, ana, "WRONG0000009")
    assert isinstance(first, InvalidCode)
    assert first.attempts_left == 4  # the stranger's failures are not the owner's
    assert isinstance(await add_paper(uow_factory, ana, CODE), Case)


async def test_the_help_desk_unlocks_a_case_for_every_account(
    uow_factory: UnitOfWorkFactory, ana: int, paper_case: str
) -> None:
    for n in range(5):
        await add_paper(uow_factory, ana, f"WRONG000000{n}")
    async with uow_factory() as uow:
        assert await service.reset_access_code_attempts(uow, PAPER) == 1
        await uow.commit()
    assert isinstance(await add_paper(uow_factory, ana, CODE), Case)


async def test_a_new_access_code_imported_for_a_case_clears_its_locks(
    uow_factory: UnitOfWorkFactory, ana: int, paper_case: str
) -> None:
    for n in range(5):
        await add_paper(uow_factory, ana, f"WRONG000000{n}")
    async with uow_factory() as uow:
        await service.upsert_case(
            uow, receipt_number=PAPER, form_type="I-130", status="case_received",
            access_code="NEW000CODE00",
        )  # fmt: skip
        await uow.commit()
    assert isinstance(await add_paper(uow_factory, ana, "NEW000CODE00"), Case)


async def test_an_account_has_a_daily_budget_of_wrong_codes_across_cases(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, ana: int
) -> None:
    clock.set(datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    receipts = [f"EAC21900{n:05d}" for n in range(3)]
    async with uow_factory() as uow:
        for receipt in receipts:
            await service.create_case(
                uow,
                receipt_number=receipt,
                form_type="I-130",
                status="case_received",
                access_code=CODE,
            )
        await uow.commit()
    results = [
        await add_paper(uow_factory, ana, "WRONG0000000", receipts[n // 4])
        for n in range(ACCOUNT_FAILURE_LIMIT)
    ]
    assert all(isinstance(r, InvalidCode) for r in results)
    assert getattr(results[-1], "attempts_left", None) == 0
    refused = await add_paper(uow_factory, ana, CODE, receipts[2])
    assert isinstance(refused, TooManyAttempts)
    assert refused.until == clock.now() + ACCOUNT_FAILURE_WINDOW
    clock.advance(ACCOUNT_FAILURE_WINDOW)
    assert isinstance(await add_paper(uow_factory, ana, CODE, receipts[2]), Case)


async def test_unknown_receipt_numbers_spend_the_accounts_budget(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    for n in range(ACCOUNT_FAILURE_LIMIT):
        result = await add_paper(uow_factory, ana, CODE, f"EAC21900{n:05d}")
        assert isinstance(result, CaseNotFound)
    assert isinstance(await add_paper(uow_factory, ana, CODE, "EAC2190099999"), TooManyAttempts)


async def test_a_used_code_cannot_add_the_case_again(
    uow_factory: UnitOfWorkFactory, ana: int, paper_case: str
) -> None:
    assert isinstance(await add_paper(uow_factory, ana, CODE), Case)
    async with uow_factory() as uow:
        lawyer = await add_account(uow, "lawyer@example.com", AccountKind.REPRESENTATIVE)
        with pytest.raises(CaseAlreadyLinked) as mine:
            await service.add_paper_case(
                uow, account_id=ana, receipt_number=PAPER, access_code=CODE
            )
        with pytest.raises(AccessCodeAlreadyUsed) as theirs:
            await service.add_paper_case(
                uow, account_id=lawyer, receipt_number=PAPER, access_code=CODE
            )
    assert mine.value.to_this_account
    assert theirs.value.receipt_number == PAPER


async def test_a_case_in_another_account_does_not_say_whose(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        other = await add_account(uow, "other@example.com")
        with pytest.raises(AccessCodeAlreadyUsed):
            await service.add_paper_case(
                uow, account_id=other, receipt_number="IOE0912345678", access_code=CODE
            )


async def test_adding_a_case_needs_an_existing_account(
    uow_factory: UnitOfWorkFactory, paper_case: str
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(AccountNotFound):
            await service.add_paper_case(
                uow, account_id=999, receipt_number=PAPER, access_code=CODE
            )


# --- subscriptions ---------------------------------------------------------------------------


async def test_anyone_may_subscribe_once(uow_factory: UnitOfWorkFactory, ana: int) -> None:
    async with uow_factory() as uow:
        assert await service.subscribe(uow, "ioe0912345678", channel="webchat", chat_id="s1")
        assert not await service.subscribe(uow, "IOE0912345678", channel="webchat", chat_id="s1")
        await uow.commit()
    async with uow_factory() as uow:
        followed = await service.subscriptions_for_chat(uow, "webchat", "s1")
        assert [str(c.receipt) for c in followed] == ["IOE0912345678"]
        assert await service.subscriptions_for_chat(uow, "telegram", "s1") == []


async def test_unsubscribing_is_idempotent(uow_factory: UnitOfWorkFactory, ana: int) -> None:
    async with uow_factory() as uow:
        await service.subscribe(uow, "IOE0912345678", channel="telegram", chat_id="5")
        assert await service.unsubscribe(uow, "IOE0912345678", channel="telegram", chat_id="5")
        assert not await service.unsubscribe(uow, "IOE0912345678", channel="telegram", chat_id="5")
        assert not await service.unsubscribe(uow, PAPER, channel="telegram", chat_id="5")
        assert await service.subscriptions_for_chat(uow, "telegram", "5") == []


async def test_subscribing_to_unknown_numbers_counts_against_the_lookup_throttle(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    for n in range(service.LOOKUPS_PER_MINUTE):
        async with uow_factory() as uow:
            with pytest.raises(CaseNotFound):
                await service.subscribe(uow, f"EAC21900{n:05d}", channel="telegram", chat_id="7")
            await uow.commit()
    assert await lookup(uow_factory, "IOE0912345678", "telegram:7") == "RateLimited"


# --- status updates --------------------------------------------------------------------------


async def test_a_status_update_is_recorded_with_its_time(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, ana: int
) -> None:
    async with uow_factory() as uow:
        assert await service.update_status(uow, "IOE0912345678", "Case Was Approved")
        await uow.commit()
    async with uow_factory() as uow:
        found = await service.lookup_case(uow, "IOE0912345678", requester="t")
        assert found.status.code == "approved"
        assert found.updated_at == clock.now()
        assert await event_codes(uow, "IOE0912345678") == ["case_received", "approved"]


async def test_the_same_status_again_changes_nothing(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        await link_chat(uow, ana, "telegram", "111")
        assert not await service.update_status(uow, "IOE0912345678", "case_received")
        assert await event_codes(uow, "IOE0912345678") == ["case_received"]
        assert await outbox_count(uow) == 0


async def test_notifies_each_chat_of_the_owner_and_each_subscriber_once(
    uow_factory: UnitOfWorkFactory, ana: int, paper_case: str
) -> None:
    changed_at = T0 + timedelta(days=7)
    async with uow_factory() as uow:
        await link_chat(uow, ana, "telegram", "111")
        await link_chat(uow, ana, "webchat", "w-1")
        await service.subscribe(uow, "IOE0912345678", channel="telegram", chat_id="111")
        await service.subscribe(uow, "IOE0912345678", channel="telegram", chat_id="222")
        await service.subscribe(uow, paper_case, channel="telegram", chat_id="333")
        await service.update_status(uow, "IOE0912345678", "rfe_sent", at=changed_at)
        await uow.commit()
    async with uow_factory() as uow:
        notes = await pending_notifications(uow)
        event_id = await uow.session.scalar(
            select(CaseEvent.id).where(CaseEvent.status_code == "rfe_sent")
        )
        await uow.commit()  # keeps the rows loaded after the block
    assert [(n.channel, n.address) for n in notes] == [
        ("telegram", "111"),
        ("webchat", "w-1"),
        ("telegram", "222"),
    ]
    assert {n.kind for n in notes} == {"case_status_changed"}
    assert notes[0].payload == {
        "receipt_number": "IOE0912345678",
        "form_type": "I-765",
        "status_code": "rfe_sent",
        "old_status_code": "case_received",
        "changed_at": changed_at.isoformat(),
    }
    assert notes[0].dedupe_key == f"case_status_changed:{event_id}:telegram:111"


async def test_each_change_notifies_again(uow_factory: UnitOfWorkFactory, ana: int) -> None:
    async with uow_factory() as uow:
        await service.subscribe(uow, "IOE0912345678", channel="telegram", chat_id="222")
        await service.update_status(uow, "IOE0912345678", "rfe_sent")
        await service.update_status(uow, "IOE0912345678", "rfe_response_received")
        notes = await pending_notifications(uow)
        assert [n.payload["status_code"] for n in notes] == ["rfe_sent", "rfe_response_received"]


async def test_a_rolled_back_update_leaves_neither_status_nor_notifications(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        await link_chat(uow, ana, "telegram", "111")
        await uow.commit()
    async with uow_factory() as uow:
        assert await service.update_status(uow, "IOE0912345678", "approved")
        assert await outbox_count(uow) == 1
        await uow.rollback()
    async with uow_factory() as uow:
        found = await service.lookup_case(uow, "IOE0912345678", requester="t")
        assert found.status.code == "case_received"
        assert await event_codes(uow, "IOE0912345678") == ["case_received"]
        assert await outbox_count(uow) == 0


async def test_an_update_refuses_unknown_statuses_and_cases(
    uow_factory: UnitOfWorkFactory, ana: int
) -> None:
    async with uow_factory() as uow:
        with pytest.raises(UnknownStatus):
            await service.update_status(uow, "IOE0912345678", "Case Was Lost")
        with pytest.raises(CaseNotFound):
            await service.update_status(uow, "EAC2190099999", "approved")
        with pytest.raises(ValueError, match="aware"):
            await service.update_status(
                uow,
                "IOE0912345678",
                "approved",
                at=datetime(2026, 1, 1),
            )
