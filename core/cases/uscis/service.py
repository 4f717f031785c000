"""Case statuses from USCIS: the lookup behind the case-status flow, its cache, and the poller.

``CASEBOT_CASE_SOURCE`` chooses where a status comes from (:class:`CaseSourceMode`):

- ``local``: this system's record only (the demo, ``admin set-status``, CSV imports);
- ``uscis``: USCIS's Case Status API for every receipt number (an account's cases too);
- ``both``: the local record first, USCIS for the receipt numbers it does not hold.

An answer from USCIS is cached (``uscis_answers``) for :attr:`Uscis.ttl` and copied into the
``cases`` table (``source = "uscis"``) with its history, so following a case, an owner's
cases and the notifications of a change work as they do for local cases: a new status found by
a lookup or by :func:`poll_uscis` goes through the same :func:`record_status_change`.

When USCIS gives no usable answer (down, slow, throttling beyond the turn's patience, a
malformed body, the budget spent), a cached answer is shown with the time it was fetched
(``UscisStatus.as_of``), else :class:`~core.errors.UscisUnavailable` is raised at once.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from core.accounts.models import ChannelLink
from core.cases.models import Case, CaseEvent, Subscription
from core.cases.receipt import ReceiptNumber
from core.cases.repository import find_case, find_public_status
from core.cases.service import normalize_form_type, record_status_change
from core.cases.statuses import UNLISTED, get_status
from core.cases.throttle import throttle_lookup
from core.cases.uscis.answer import MalformedAnswer, UscisCase, catalog_status, parse_answer
from core.cases.uscis.breaker import CircuitBreaker
from core.cases.uscis.models import UscisAnswer
from core.cases.uscis.quota import Budget, reserve
from core.cases.uscis.source import (
    CaseStatusSource,
    NotAtSource,
    OutOfBudget,
    RefusedBySource,
    SourceError,
    SourceUnavailable,
)
from core.cases.views import PublicStatus
from core.clock import Clock
from core.db import Database
from core.deferral import Deferral, WorkNeeded, active_deferral
from core.errors import CaseNotFound, DomainError, UscisUnavailable
from core.locks import USCIS_POLL_LOCKS, AdvisoryLock
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "CachedAnswer",
    "CaseSourceMode",
    "Uscis",
    "UscisStatus",
    "ask_uscis",
    "cached_answer",
    "check_uscis",
    "check_uscis_alone",
    "find_status",
    "poll_uscis",
]

logger = logging.getLogger(__name__)

DEFAULT_TTL: Final = timedelta(hours=1)


class CaseSourceMode(enum.StrEnum):
    LOCAL = "local"
    USCIS = "uscis"
    BOTH = "both"


@dataclass
class Uscis:
    """The USCIS side of case lookups, built once by the composition root.

    Attributes:
        source: the Case Status API (``bot.uscis.UscisClient``) or a fake.
        db: the database whose ``uscis_quota`` row all workers share.
        budget: the rate and daily budget.
        breaker: this process's circuit breaker.
        ttl: how long an answer is served from the cache without asking again.
        turn_timeout: seconds a person's lookup may spend on USCIS in all (retries included).
        turn_max_wait: seconds a person's lookup may wait for its moment of the rate limit.
    """

    source: CaseStatusSource
    db: Database
    budget: Budget
    breaker: CircuitBreaker
    ttl: timedelta = DEFAULT_TTL
    turn_timeout: float = 6.0
    turn_max_wait: float = 2.0
    poll_timeout: float = 20.0
    poll_max_wait: float = 10.0

    def __post_init__(self) -> None:
        # On PostgreSQL a reservation is its own transaction, on a small pool of its own: a
        # turn already holds one of the main pool's connections, and with every connection
        # taken by turns waiting to reserve, none would be left to reserve with.
        self.quota_db = (
            Database(self.db.url, pool_size=2, max_overflow=2)
            if self.db.dialect == "postgresql"
            else self.db
        )
        # The asks now out, by receipt (and whether the poller's): one request serves them all.
        self.in_flight: dict[tuple[str, bool], asyncio.Future[Outcome]] = {}

    async def close(self) -> None:
        """Close the quota's own pool (the source is closed by whoever made it)."""
        if self.quota_db is not self.db:
            await self.quota_db.dispose()


@dataclass(frozen=True, slots=True)
class UscisStatus:
    """A case as USCIS reported it.

    Attributes:
        public: what the chat shows of any case (status mapped to the catalog).
        case: USCIS's own words (English and Spanish titles and descriptions, history).
        as_of: when the answer was fetched, if it is shown because USCIS could not be asked
            now; None for a fresh answer.
        as_of_reason: why USCIS could not be asked, when ``as_of`` is set: ``"outage"``,
            ``"busy"`` (our share of the rate) or ``"quota"`` (today's budget), the reasons of
            :class:`~core.errors.UscisUnavailable`.
    """

    public: PublicStatus
    case: UscisCase
    as_of: datetime | None = None
    as_of_reason: str | None = None


async def find_status(
    uow: UnitOfWork,
    receipt_number: str | ReceiptNumber,
    *,
    requester: str,
    mode: CaseSourceMode,
    uscis: Uscis | None,
) -> PublicStatus | UscisStatus:
    """The public status of a case from the source ``mode`` names (see the module docstring).

    The lookup counts against ``requester``'s throttle, as
    :func:`core.cases.service.lookup_case` does (commit even when this raises).

    Raises:
        InvalidReceiptNumber: not a receipt number (never sent to USCIS, not counted).
        RateLimited: the requester asked too often.
        CaseNotFound: neither source has the case.
        UscisUnavailable: USCIS gave no usable answer and nothing is cached.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    await throttle_lookup(uow, requester)
    if mode is not CaseSourceMode.USCIS:
        source = await uow.session.scalar(
            select(Case.source).where(Case.receipt_number == str(receipt))
        )
        if source is not None and (source == "local" or mode is CaseSourceMode.LOCAL):
            found = await find_public_status(uow, receipt)
            if found is not None:
                return found
        if mode is CaseSourceMode.LOCAL or uscis is None:
            logger.info("lookup of unknown case %s", receipt.masked())
            raise CaseNotFound(receipt_number=str(receipt))
    if uscis is None:
        raise UscisUnavailable(reason="outage")
    return await check_uscis(uow, uscis, receipt)


async def check_uscis(
    uow: UnitOfWork, uscis: Uscis, receipt: ReceiptNumber, *, poller: bool = False
) -> UscisStatus:
    """The case as USCIS reports it: from the cache while fresh, else asked (and cached).

    USCIS is asked outside the caller's transaction where the caller can run again: inside a
    :class:`~core.deferral.Deferral` scope (a chat turn, :func:`check_uscis_alone`) an answer
    not known yet raises :class:`~core.deferral.WorkNeeded`, and the next run finds it. So a
    lookup never holds SQLite's write queue (or a pooled PostgreSQL connection) while it waits
    on HTTP. Outside a scope, USCIS is asked inline.

    Args:
        poller: the poller's re-check: always asks (unless the circuit is open), within the
            poller's share of the budget, with more patience than a person's turn.

    Raises:
        CaseNotFound: USCIS has no such case (or refused the number).
        UscisUnavailable: no usable answer and nothing cached.
        WorkNeeded: in a deferral scope, USCIS must be asked first (see above).
    """
    now = uow.clock.now()
    cached = await uow.session.get(UscisAnswer, str(receipt), populate_existing=True)
    if cached is not None and not poller and now - cached.fetched_at < uscis.ttl:
        if not cached.found:
            raise CaseNotFound(receipt_number=str(receipt))
        fresh = _from_cache(cached, receipt)
        if fresh is not None:
            return await _status_of(uow, fresh, None)
    deferral = active_deferral()
    key = ("uscis", str(receipt), poller)
    if (deferral is None or not deferral.knows(key)) and uscis.breaker.is_open:
        return await _fallback(uow, cached, receipt, "outage")
    ask = functools.partial(ask_uscis, uscis, receipt, uow.clock, poller=poller)
    if deferral is not None:
        outcome = deferral.known_or_pending(key, ask)
    else:
        outcome = await ask()
    return await _settle(uow, cached, receipt, outcome)


async def check_uscis_alone(
    uow_factory: UnitOfWorkFactory, uscis: Uscis, receipt: ReceiptNumber, *, poller: bool = False
) -> UscisStatus:
    """:func:`check_uscis` in a unit of work of its own, committed, with USCIS asked outside
    it (the poller, ``casebot admin uscis check``).

    Raises:
        CaseNotFound, UscisUnavailable: as :func:`check_uscis` (what it stored is committed).
    """
    deferral = Deferral()
    while True:
        async with uow_factory() as uow:
            with deferral.scope():
                try:
                    status = await check_uscis(uow, uscis, receipt, poller=poller)
                except WorkNeeded:
                    pass
                except (CaseNotFound, UscisUnavailable):
                    await uow.commit()  # the "no such case" answer is cached
                    raise
                else:
                    await uow.commit()
                    return status
        await deferral.compute()


Outcome = UscisCase | SourceError
"""What asking USCIS gave: the case, or why there is none."""


class _CircuitOpen(SourceUnavailable):
    """Another lookup holds the half-open circuit's one trial."""


async def ask_uscis(
    uscis: Uscis, receipt: ReceiptNumber, clock: Clock, *, poller: bool = False
) -> Outcome:
    """Ask USCIS about one case, in no unit of work of the caller's: each request's place in
    the shared rate and budget is reserved in a short unit of work of its own, committed before
    the request leaves, so the try counts whatever becomes of the caller's transaction.

    Concurrent asks about one receipt in this process share one request. The circuit breaker is
    consulted and told the result. Never raises for what USCIS does: the error is the outcome.
    """
    flights = uscis.in_flight
    key = (str(receipt), poller)
    flight = flights.get(key)
    if flight is None:
        flight = flights[key] = asyncio.ensure_future(_ask(uscis, receipt, clock, poller))
        flight.add_done_callback(lambda _: flights.pop(key, None))
    return await asyncio.shield(flight)


async def _ask(uscis: Uscis, receipt: ReceiptNumber, clock: Clock, poller: bool) -> Outcome:
    if not uscis.breaker.allow():
        return _CircuitOpen("circuit open")
    permit = functools.partial(_reserve_alone, uscis, clock, poller)
    timeout = uscis.poll_timeout if poller else uscis.turn_timeout
    try:
        answer = await uscis.source.fetch(receipt, permit=permit, within=timeout)
    except NotAtSource as exc:
        uscis.breaker.succeeded()
        logger.info("USCIS has no case %s", receipt.masked())
        return exc
    except RefusedBySource as exc:
        uscis.breaker.succeeded()
        logger.warning("USCIS refused the format of %s", receipt.masked())
        return exc
    except OutOfBudget as exc:
        uscis.breaker.abandoned()
        logger.info("no USCIS request for %s: %s", receipt.masked(), exc.reason)
        return exc
    except SourceUnavailable as exc:
        uscis.breaker.failed()
        logger.warning("USCIS gave no answer for %s: %s", receipt.masked(), exc.reason)
        return exc
    except BaseException:
        uscis.breaker.abandoned()
        raise
    uscis.breaker.succeeded()
    return answer


async def _reserve_alone(uscis: Uscis, clock: Clock, poller: bool) -> float:
    async with UnitOfWork(uscis.db, clock) as own:
        wait = await reserve(
            uscis.quota_db,
            own,
            uscis.budget,
            limit=uscis.budget.poller_limit if poller else None,
            max_wait=uscis.poll_max_wait if poller else uscis.turn_max_wait,
        )
        await own.commit()
    return wait


async def _settle(
    uow: UnitOfWork, cached: UscisAnswer | None, receipt: ReceiptNumber, outcome: object
) -> UscisStatus:
    """Keep what USCIS said (cache, case record, notifications) in the caller's transaction,
    and answer with it."""
    if isinstance(outcome, UscisCase):
        before = _title(cached)
        await _store(uow, receipt, outcome)
        await _mirror(uow, outcome, before)
        return await _status_of(uow, outcome, None)
    if isinstance(outcome, NotAtSource):
        await _store(uow, receipt, None)
        raise CaseNotFound(receipt_number=str(receipt))
    if isinstance(outcome, RefusedBySource):
        raise CaseNotFound(receipt_number=str(receipt))
    if isinstance(outcome, OutOfBudget):
        return await _fallback(uow, cached, receipt, outcome.reason)
    if isinstance(outcome, SourceUnavailable):
        return await _fallback(uow, cached, receipt, "outage")
    raise TypeError(f"not an outcome of asking USCIS: {outcome!r}")


async def _fallback(
    uow: UnitOfWork, cached: UscisAnswer | None, receipt: ReceiptNumber, reason: str
) -> UscisStatus:
    """The cached answer with its time, when USCIS cannot be asked now; else the error."""
    if cached is not None and cached.found:
        stale = _from_cache(cached, receipt)
        if stale is not None:
            return await _status_of(uow, stale, cached.fetched_at, reason)
    raise UscisUnavailable(reason=reason)


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """What the cache holds about one receipt number: whether USCIS found it, and when."""

    found: bool
    fetched_at: datetime


async def cached_answer(uow: UnitOfWork, receipt: ReceiptNumber) -> CachedAnswer | None:
    """The cached answer about ``receipt``, fresh or stale, or None (nothing cached)."""
    cached = await uow.session.get(UscisAnswer, str(receipt))
    return None if cached is None else CachedAnswer(cached.found, cached.fetched_at)


def _from_cache(cached: UscisAnswer, receipt: ReceiptNumber) -> UscisCase | None:
    try:
        return parse_answer({"case_status": cached.body}, receipt)
    except MalformedAnswer as exc:  # stored by an older version: ask again
        logger.warning("cached USCIS answer unreadable (%s); asking again", exc.reason)
        return None


async def _store(uow: UnitOfWork, receipt: ReceiptNumber, answer: UscisCase | None) -> None:
    # An upsert: two turns (two workers) settling the same answer at once must not collide.
    values = {
        "receipt_number": str(receipt),
        "found": answer is not None,
        "body": None if answer is None else answer.dump(),
        "fetched_at": uow.clock.now(),
    }
    statement = _insert(uow)(UscisAnswer).values(**values)
    await uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=[UscisAnswer.receipt_number],
            set_={name: statement.excluded[name] for name in ("found", "body", "fetched_at")},
        )
    )


def _insert(uow: UnitOfWork) -> Any:
    return postgresql.insert if uow.dialect == "postgresql" else sqlite.insert


async def _status_of(
    uow: UnitOfWork, answer: UscisCase, as_of: datetime | None, reason: str | None = None
) -> UscisStatus:
    status = answer.status
    updated_at = answer.modified_at or (answer.history[-1].at if answer.history else None)
    public = PublicStatus(
        receipt=answer.receipt,
        form_type=answer.form_type or "—",
        status=status,
        updated_at=updated_at or uow.clock.now(),
        received_date=answer.submitted_at.date() if answer.submitted_at else None,
    )
    return UscisStatus(public=public, case=answer, as_of=as_of, as_of_reason=reason)


def _form_type(raw: str) -> str:
    try:
        return normalize_form_type(raw)
    except ValueError:
        return raw.strip()[:20] or "—"


def _title(cached: UscisAnswer | None) -> str | None:
    """The English title of a cached answer, if any."""
    if cached is None or not cached.found or not isinstance(cached.body, dict):
        return None
    title = cached.body.get("current_case_status_text_en")
    return title if isinstance(title, str) else None


async def _mirror(uow: UnitOfWork, answer: UscisCase, title_before: str | None) -> None:
    """Copy USCIS's answer into the case record: its history, and a new status with the
    notifications of its followers (in USCIS's words too, since a title the catalog lacks is
    shown as USCIS wrote it; a change between two such titles is a change)."""
    status = answer.status
    at = answer.modified_at or uow.clock.now()
    # Made if missing, in one statement: two turns copying the same new case at once (two
    # workers, or two chats sharing one request) must not both insert it.
    created = await uow.session.scalar(
        _insert(uow)(Case)
        .values(
            receipt_number=str(answer.receipt),
            form_type=_form_type(answer.form_type),
            status_code=status.code,
            source="uscis",
            received_date=answer.submitted_at.date() if answer.submitted_at else None,
            status_updated_at=at,
            created_at=uow.clock.now(),
        )
        .on_conflict_do_nothing(index_elements=[Case.receipt_number])
        .returning(Case.id)
    )
    case = await find_case(uow, answer.receipt, for_update=True, with_events=True)
    assert case is not None  # made above, or there already
    if created is not None:
        known: set[tuple[str, datetime]] = set()
    else:
        case.source = "uscis"
        known = {(event.status_code, event.occurred_at) for event in case.events}
        words = {"title_en": answer.title_en, "title_es": answer.title_es}
        reworded = (
            status is UNLISTED and title_before is not None and title_before != answer.title_en
        )
        if case.status_code != status.code or reworded:
            event = await record_status_change(uow, case, status, at, words=words)
            if event is not None:
                known.add((event.status_code, event.occurred_at))
    entries = [(catalog_status(e.title_en).code, e.at) for e in answer.history]
    if not any(code == status.code for code, _ in entries):
        entries.append((status.code, at))
    for code, moment in entries:
        if (code, moment) not in known:
            uow.session.add(CaseEvent(case_id=case.id, status_code=code, occurred_at=moment))
            known.add((code, moment))
    await uow.flush()


async def poll_uscis(
    uow_factory: UnitOfWorkFactory, uscis: Uscis, *, mode: CaseSourceMode, batch: int = 50
) -> int:
    """Re-check followed USCIS cases whose answer is older than the cache's life.

    Followed: a chat subscribed to the case, or its owner has a signed-in chat. In ``uscis``
    mode every case is USCIS's; in ``both`` only those copied from USCIS. Cases still moving
    come before decided ones, then the stalest first; the poller stops at ``batch`` cases, at
    its share of the daily budget, or when USCIS stops answering.

    Every worker runs the poller; a pass runs in one worker at a time (an advisory lock), so
    that workers do not check the same cases twice. A worker that finds the lock held skips
    its pass.

    Returns:
        How many cases were checked (0 when another worker's pass runs).
    """
    if mode is CaseSourceMode.LOCAL:
        return 0
    lock = AdvisoryLock(uow_factory.db, USCIS_POLL_LOCKS, 0)
    if not await lock.try_acquire():
        logger.debug("USCIS poll skipped: another worker polls")
        return 0
    try:
        return await _poll(uow_factory, uscis, mode, batch)
    finally:
        await lock.release()


async def _poll(
    uow_factory: UnitOfWorkFactory, uscis: Uscis, mode: CaseSourceMode, batch: int
) -> int:
    async with uow_factory() as uow:
        now = uow.clock.now()
        followed = or_(
            exists().where(Subscription.case_id == Case.id),
            exists().where(ChannelLink.account_id == Case.owner_id),
        )
        query = (
            select(Case.receipt_number, Case.status_code, UscisAnswer.fetched_at)
            .outerjoin(UscisAnswer, UscisAnswer.receipt_number == Case.receipt_number)
            .where(followed)
        )
        if mode is CaseSourceMode.BOTH:
            query = query.where(Case.source == "uscis")
        rows = (await uow.session.execute(query)).all()
    due = [
        (_final(code), fetched or datetime.min.replace(tzinfo=now.tzinfo), receipt)
        for receipt, code, fetched in rows
        if fetched is None or now - fetched >= uscis.ttl
    ]
    due.sort()
    checked = 0
    for _, _, receipt in due[:batch]:
        if uscis.breaker.is_open:
            break
        try:
            await check_uscis_alone(uow_factory, uscis, ReceiptNumber(receipt), poller=True)
        except CaseNotFound:
            pass
        except UscisUnavailable as exc:
            logger.info("USCIS poll stopped after %d cases: %s", checked, exc.reason)
            break
        checked += 1
    return checked


def _final(code: str) -> bool:
    """Decided cases are re-checked after the ones still moving."""
    try:
        return get_status(code).final
    except DomainError:
        return False
