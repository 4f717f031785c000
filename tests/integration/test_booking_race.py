"""No double booking and no overbooking under concurrency, enforced by the database.

Each attempt runs in its own unit of work (its own session and transaction), all started at
once with asyncio.gather: on PostgreSQL they really run side by side on the connection pool; on
SQLite they queue for the single writer. Either way, exactly the allowed bookings succeed and
every other attempt ends in a clean domain error.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from core.accounts.models import Account
from core.appointments import add_office, book_appointment, reschedule_appointment
from core.appointments.models import Appointment, AppointmentKind, SlotUsage
from core.cases.models import Case
from core.db import Database
from core.errors import AlreadyBooked, DomainError, RescheduleNotAllowed, SlotTaken
from core.uow import UnitOfWorkFactory

SLOT = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)  # Tuesday 8:00 in New York
ATTEMPTS = 200


async def seed(uow_factory: UnitOfWorkFactory, *, accounts: int, capacity: int) -> list[int]:
    """An office whose slots hold ``capacity`` people, and ``accounts`` accounts each with a
    case ready for biometrics (case id == account id)."""
    async with uow_factory() as uow:
        await add_office(
            uow, code="NYC", name="New York ASC", address="26 Federal Plaza", city="New York",
            state="NY", zip_code="10278", timezone="America/New_York", capacity=capacity,
        )  # fmt: skip
        await uow.session.execute(
            insert(Account),
            [{"id": n, "email": f"person{n}@example.com", "password_hash": "x"}
             for n in range(1, accounts + 1)],
        )  # fmt: skip
        await uow.session.execute(
            insert(Case),
            [{"id": n, "receipt_number": f"IOE{n:010d}", "form_type": "I-485",
              "status_code": "fingerprint_fee_received", "owner_id": n}
             for n in range(1, accounts + 1)],
        )  # fmt: skip
        await uow.commit()
    return list(range(1, accounts + 1))


async def all_at_once(attempts: Iterable[Awaitable[str]]) -> list[str]:
    """Run every attempt concurrently; an exception other than a domain error propagates."""
    return list(await asyncio.gather(*attempts))


async def attempt_booking(
    uow_factory: UnitOfWorkFactory, account_id: int, starts_at: datetime, case_id: int | None
) -> str:
    async with uow_factory() as uow:
        try:
            await book_appointment(
                uow, account_id=account_id, office_id="NYC", starts_at=starts_at,
                kind=AppointmentKind.BIOMETRICS, case_id=case_id,
            )  # fmt: skip
        except DomainError as exc:
            return type(exc).__name__
        await uow.commit()
    return "booked"


async def counts(db: Database) -> tuple[int, dict[datetime, int]]:
    async with db.sessionmaker() as session:
        booked = await session.scalar(select(func.count()).select_from(Appointment))
        usage = dict((await session.execute(select(SlotUsage.starts_at, SlotUsage.taken))).all())
    return booked or 0, usage


async def test_two_hundred_people_racing_for_the_last_seat_give_one_booking(
    db: Database, uow_factory: UnitOfWorkFactory
) -> None:
    accounts = await seed(uow_factory, accounts=ATTEMPTS, capacity=1)
    started = time.perf_counter()
    results = await all_at_once(
        attempt_booking(uow_factory, account, SLOT, case_id=account) for account in accounts
    )
    elapsed = time.perf_counter() - started
    print(f"\n{ATTEMPTS} concurrent bookings on {db.dialect}: {elapsed:.2f} s")
    # Anything but a domain error (an IntegrityError, "database is locked", a deadlock...)
    # escapes attempt_booking and fails the test right there.
    assert Counter(results) == {"booked": 1, "SlotTaken": ATTEMPTS - 1}
    assert await counts(db) == (1, {SLOT: 1})
    assert elapsed < 30


async def test_one_case_racing_for_two_slots_gets_one_appointment(
    db: Database, uow_factory: UnitOfWorkFactory
) -> None:
    cases = await seed(uow_factory, accounts=20, capacity=20)
    other = SLOT + timedelta(minutes=30)
    results = await all_at_once(
        attempt_booking(uow_factory, case, starts_at, case_id=case)
        for case in cases
        for starts_at in (SLOT, other)
    )
    assert Counter(results) == {"booked": 20, "AlreadyBooked": 20}
    booked, usage = await counts(db)
    assert booked == 20
    assert sum(usage.values()) == 20
    assert all(taken <= 20 for taken in usage.values())


async def test_concurrent_reschedules_of_one_appointment_respect_the_limit(
    db: Database, uow_factory: UnitOfWorkFactory
) -> None:
    await seed(uow_factory, accounts=1, capacity=1)
    async with uow_factory() as uow:
        booked = await book_appointment(
            uow, account_id=1, office_id="NYC", starts_at=SLOT,
            kind=AppointmentKind.BIOMETRICS, case_id=1,
        )  # fmt: skip
        code = booked.confirmation_code
        await uow.commit()

    async def move(day: int) -> str:
        async with uow_factory() as uow:
            try:
                await reschedule_appointment(
                    uow, account_id=1, code=code, new_starts_at=SLOT + timedelta(days=day)
                )
            except (RescheduleNotAllowed, SlotTaken, AlreadyBooked) as exc:
                return type(exc).__name__
            await uow.commit()
        return "moved"

    results = await all_at_once(move(day) for day in (1, 2, 3, 6, 7))
    assert Counter(results) == {"moved": 2, "RescheduleNotAllowed": 3}
    booked, usage = await counts(db)
    assert booked == 1
    assert sum(usage.values()) == 1
