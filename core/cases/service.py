"""Case services: records, public lookup, owner-only detail, subscriptions, status updates.

Every service works inside the caller's unit of work and never commits. Some failures must
survive the failure itself: a throttled or failed public lookup, a wrong Online Access Code.
Those services write the failure into the unit of work *before* raising, and the caller
commits the unit of work even when a :class:`~core.errors.DomainError` comes out (the dialog
engine commits every turn, a refused one too, since the re-prompt is state as well). A caller
that rolls back forgets the failure, so only trusted code (tests, operators) should.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import exists, select

from core.accounts.models import Account, ChannelLink, RepresentativeGrant
from core.cases.access_code import hash_access_code, verify_access_code
from core.cases.models import Case, CaseEvent, Subscription
from core.cases.paper import (
    add_paper_case,
    clear_access_code_locks,
    reset_access_code_attempts,
)
from core.cases.receipt import ReceiptNumber
from core.cases.repository import find_case, find_public_status
from core.cases.statuses import Status, get_status
from core.cases.subscriptions import (
    is_following,
    subscribe,
    subscriptions_for_chat,
    unsubscribe,
)
from core.cases.throttle import LOOKUPS_PER_HOUR, LOOKUPS_PER_MINUTE, throttle_lookup
from core.cases.views import (
    CaseDetail,
    ClientCase,
    HistoryEntry,
    PublicStatus,
    case_detail_of,
    public_status,
)
from core.contacts.service import status_recipients
from core.errors import CaseExists, CaseNotFound, NotAuthorized
from core.outbox.service import add_notification
from core.uow import UnitOfWork

__all__ = [
    "LOOKUPS_PER_HOUR",
    "LOOKUPS_PER_MINUTE",
    "STATUS_CHANGED",
    "CaseDetail",
    "ClientCase",
    "HistoryEntry",
    "PublicStatus",
    "add_paper_case",
    "case_detail",
    "create_case",
    "is_following",
    "list_cases",
    "list_client_cases",
    "lookup_case",
    "normalize_form_type",
    "record_status_change",
    "reset_access_code_attempts",
    "subscribe",
    "subscriptions_for_chat",
    "unsubscribe",
    "update_status",
    "upsert_case",
]

logger = logging.getLogger(__name__)

STATUS_CHANGED: Final = "case_status_changed"  # the outbox kind
FORM_TYPE_MAX_LENGTH: Final = 20
_FORM_TYPE_RE: Final = re.compile(r"(?P<letters>[A-Z]{1,3})-?(?P<rest>\d{1,4}[A-Z]{0,2})")

StatusRef = str | Status


def _status(ref: StatusRef) -> Status:
    return ref if isinstance(ref, Status) else get_status(ref)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("case times must be aware datetimes")
    return moment


def normalize_form_type(text: str) -> str:
    """A form type as stored: upper case, no spaces, with its dash ("i 765" -> "I-765").

    Raises:
        ValueError: not the shape of a form type (1 to 3 letters, a dash, 1 to 4 digits and up
            to 2 letters: I-765, N-400, AR-11, I-821D).
    """
    form = re.sub(r"\s+", "", text).upper()
    match = _FORM_TYPE_RE.fullmatch(form)
    if match is None or len(form) > FORM_TYPE_MAX_LENGTH:
        raise ValueError("a form type looks like I-765")
    return f"{match['letters']}-{match['rest']}"


def _history(history: Sequence[tuple[StatusRef, datetime]] | None) -> list[tuple[Status, datetime]]:
    entries = [(_status(ref), _aware(at)) for ref, at in history or ()]
    return sorted(entries, key=lambda entry: entry[1])


# --- records ---------------------------------------------------------------------------------


async def create_case(
    uow: UnitOfWork,
    *,
    receipt_number: str | ReceiptNumber,
    form_type: str,
    status: StatusRef,
    received_date: date | None = None,
    owner_id: int | None = None,
    access_code: str | None = None,
    history: Sequence[tuple[StatusRef, datetime]] | None = None,
) -> Case:
    """Create a case with its dated history.

    ``history`` lists (status code or title, aware time) in any order. When its latest entry is
    not ``status``, the current status is appended at the clock's now; the time of the last
    entry becomes the case's ``status_updated_at``. The access code is stored hashed.

    Raises:
        InvalidReceiptNumber: the receipt number is not one.
        UnknownStatus: a status is not in the catalog.
        ValueError: a naive time, an empty access code or a bad form type.
        CaseExists: a case with this receipt number exists already.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    current = _status(status)
    entries = _history(history)
    form = normalize_form_type(form_type)
    code_hash = hash_access_code(access_code) if access_code is not None else None
    if await find_case(uow, receipt) is not None:
        raise CaseExists(receipt_number=str(receipt))
    if not entries or entries[-1][0].code != current.code:
        entries.append((current, uow.clock.now()))
    case = Case(
        receipt_number=str(receipt),
        form_type=form,
        status_code=current.code,
        received_date=received_date,
        status_updated_at=entries[-1][1],
        owner_id=owner_id,
        access_code_hash=code_hash,
        created_at=uow.clock.now(),
    )
    uow.session.add(case)
    await uow.flush()
    uow.session.add_all(
        CaseEvent(case_id=case.id, status_code=st.code, occurred_at=at) for st, at in entries
    )
    await uow.flush()
    logger.info("case %s created (%s)", receipt.masked(), current.code)
    return case


async def upsert_case(
    uow: UnitOfWork,
    *,
    receipt_number: str | ReceiptNumber,
    form_type: str,
    status: StatusRef,
    received_date: date | None = None,
    owner_id: int | None = None,
    access_code: str | None = None,
    history: Sequence[tuple[StatusRef, datetime]] | None = None,
) -> tuple[Case, bool, bool]:
    """Create the case, or bring an existing one up to date (the CSV importer's step).

    An existing case takes the form type, and the received date, owner and access code when
    given (an access code already used is left alone; a new one clears every account's lock of
    wrong codes on the case). History entries it lacks (same status at
    the same time) are added; a new status goes through :func:`update_status`'s path, so
    followers are notified. Importing the same row twice changes nothing.

    Returns:
        (the case, whether it was created, whether anything was created or changed).

    Raises:
        The errors of :func:`create_case` except CaseExists.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    current = _status(status)
    entries = _history(history)
    form = normalize_form_type(form_type)
    case = await find_case(uow, receipt, for_update=True, with_events=True)
    if case is None:
        created = await create_case(
            uow,
            receipt_number=receipt,
            form_type=form,
            status=current,
            received_date=received_date,
            owner_id=owner_id,
            access_code=access_code,
            history=entries,
        )
        return created, True, True

    changed = False
    updates: dict[str, Any] = {"form_type": form}
    if received_date is not None:
        updates["received_date"] = received_date
    if owner_id is not None:
        updates["owner_id"] = owner_id
    for name, value in updates.items():
        if getattr(case, name) != value:
            setattr(case, name, value)
            changed = True
    if (
        access_code is not None
        and case.access_code_used_at is None
        and not verify_access_code(access_code, case.access_code_hash)
    ):
        case.access_code_hash = hash_access_code(access_code)
        await clear_access_code_locks(uow, case.id)
        changed = True

    known = {(event.status_code, event.occurred_at) for event in case.events}
    if case.status_code != current.code:
        at = max((t for st, t in entries if st.code == current.code), default=uow.clock.now())
        event = await _change_status(uow, case, current, at)
        if event is not None:
            known.add((event.status_code, event.occurred_at))
            changed = True
    for st, at in entries:
        if (st.code, at) not in known:
            uow.session.add(CaseEvent(case_id=case.id, status_code=st.code, occurred_at=at))
            known.add((st.code, at))
            changed = True
    await uow.flush()
    return case, False, changed


# --- reading ---------------------------------------------------------------------------------


async def lookup_case(
    uow: UnitOfWork, receipt_number: str | ReceiptNumber, *, requester: str
) -> PublicStatus:
    """The public status of a case, for anyone who knows its receipt number.

    Each lookup, found or not, counts against ``requester``'s throttle
    (:data:`LOOKUPS_PER_MINUTE`, :data:`LOOKUPS_PER_HOUR`), so receipt numbers cannot be
    enumerated; commit the unit of work even when this raises (see the module docstring).

    Args:
        requester: who asks, as a stable key: ``"telegram:12345"``, ``"webchat:<session>"``.

    Raises:
        InvalidReceiptNumber: not a receipt number (not counted: nothing was looked up).
        RateLimited: the requester asked too often; ``retry_after_seconds`` says how long to wait.
        CaseNotFound: no case has this receipt number.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    await throttle_lookup(uow, requester)
    found = await find_public_status(uow, receipt)
    if found is None:
        logger.info("lookup of unknown case %s", receipt.masked())
        raise CaseNotFound(receipt_number=str(receipt))
    return found


async def _may_see(uow: UnitOfWork, case: Case, account_id: int) -> bool:
    if case.owner_id is None:
        return False
    if case.owner_id == account_id:
        return True
    granted = await uow.session.scalar(
        select(
            exists().where(
                RepresentativeGrant.representative_id == account_id,
                RepresentativeGrant.client_id == case.owner_id,
            )
        )
    )
    return bool(granted)


async def case_detail(
    uow: UnitOfWork, receipt_number: str | ReceiptNumber, *, account_id: int
) -> CaseDetail:
    """The case with its full dated history, for its owner or a representative of the owner.

    Raises:
        InvalidReceiptNumber: not a receipt number.
        CaseNotFound: no case has this receipt number.
        NotAuthorized: the account neither owns the case nor represents its owner.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    case = await find_case(uow, receipt, with_events=True)
    if case is None:
        raise CaseNotFound(receipt_number=str(receipt))
    if not await _may_see(uow, case, account_id):
        raise NotAuthorized()
    return case_detail_of(case, case.events)


async def list_cases(uow: UnitOfWork, account_id: int) -> list[PublicStatus]:
    """The cases in an account, by receipt number."""
    cases = await uow.session.scalars(
        select(Case).where(Case.owner_id == account_id).order_by(Case.receipt_number)
    )
    return [public_status(case) for case in cases]


async def list_client_cases(uow: UnitOfWork, representative_id: int) -> list[ClientCase]:
    """The cases of every client who granted ``representative_id``, by client email."""
    rows = await uow.session.execute(
        select(Case, Account.email)
        .join(RepresentativeGrant, RepresentativeGrant.client_id == Case.owner_id)
        .join(Account, Account.id == Case.owner_id)
        .where(RepresentativeGrant.representative_id == representative_id)
        .order_by(Account.email, Case.receipt_number)
    )
    return [
        ClientCase(client_id=case.owner_id, client_email=email, case=public_status(case))
        for case, email in rows
        if case.owner_id is not None
    ]


# --- status changes --------------------------------------------------------------------------


async def _recipients(uow: UnitOfWork, case: Case) -> list[tuple[str, str]]:
    """Every chat signed in as the owner, then every subscriber; each (channel, chat) once."""
    chats: list[tuple[str, str]] = []
    if case.owner_id is not None:
        links = await uow.session.execute(
            select(ChannelLink.channel, ChannelLink.chat_id)
            .where(ChannelLink.account_id == case.owner_id)
            .order_by(ChannelLink.id)
        )
        chats.extend((channel, chat_id) for channel, chat_id in links)
    subscribers = await uow.session.execute(
        select(Subscription.channel, Subscription.chat_id)
        .where(Subscription.case_id == case.id)
        .order_by(Subscription.id)
    )
    chats.extend((channel, chat_id) for channel, chat_id in subscribers)
    return list(dict.fromkeys(chats))


async def _change_status(
    uow: UnitOfWork,
    case: Case,
    status: Status,
    at: datetime,
    words: Mapping[str, str] | None = None,
) -> CaseEvent | None:
    """Set the status, record the event and queue the notifications, in this transaction."""
    if case.status_code == status.code and words is None:
        return None
    old_code = case.status_code
    case.status_code = status.code
    case.status_updated_at = at
    event = CaseEvent(case_id=case.id, status_code=status.code, occurred_at=at)
    uow.session.add(event)
    await uow.flush()
    payload = {
        "receipt_number": case.receipt_number,
        "form_type": case.form_type,
        "status_code": status.code,
        "old_status_code": old_code,
        "changed_at": at.isoformat(),
        **(words or {}),
    }
    recipients = await _recipients(uow, case)
    for channel, chat_id in recipients:
        await add_notification(
            uow,
            kind=STATUS_CHANGED,
            channel=channel,
            address=chat_id,
            payload=payload,
            dedupe_key=f"{STATUS_CHANGED}:{event.id}:{channel}:{chat_id}",
        )
    # Confirmed email addresses and mobile numbers (core.contacts), each in its own language.
    contacts = await status_recipients(uow, case)
    for contact in contacts:
        await add_notification(
            uow,
            kind=STATUS_CHANGED,
            channel=contact.channel,
            address=contact.address,
            payload={**payload, "locale": contact.locale, "time_zone": contact.time_zone},
            dedupe_key=f"{STATUS_CHANGED}:{event.id}:{contact.channel}:{contact.address}",
        )
    logger.info(
        "case %s: %s -> %s, %d notifications queued",
        ReceiptNumber(case.receipt_number).masked(),
        old_code,
        status.code,
        len(recipients) + len(contacts),
    )
    return event


async def record_status_change(
    uow: UnitOfWork,
    case: Case,
    status: Status,
    at: datetime,
    *,
    words: Mapping[str, str] | None = None,
) -> CaseEvent | None:
    """Set a loaded case's status (``find_case(..., for_update=True)``) as
    :func:`update_status` does: a dated event and the followers' notifications; None when the
    case already has that status.

    Args:
        words: the source's own words for the new status (``title_en``, ``title_es``), carried
            in the notifications, which show a status the catalog lacks in them. Given, the
            change is recorded even when the code stays the same: between two titles the
            catalog lacks (both :data:`~core.cases.statuses.UNLISTED`), the caller saw the
            words change.
    """
    return await _change_status(uow, case, status, _aware(at), words)


async def update_status(
    uow: UnitOfWork,
    receipt_number: str | ReceiptNumber,
    status_code_or_title: StatusRef,
    *,
    at: datetime | None = None,
) -> bool:
    """Move a case to a new status and notify who follows it, all in this transaction.

    Records a dated event, and queues one ``case_status_changed`` outbox message per chat
    signed in as the owner or subscribed to the case (a chat that is both gets one).

    Returns:
        False when the case already has that status (nothing is written).

    Raises:
        InvalidReceiptNumber: not a receipt number.
        UnknownStatus: the status is not in the catalog.
        ValueError: ``at`` is naive.
        CaseNotFound: no case has this receipt number.
    """
    receipt = ReceiptNumber.parse(receipt_number)
    status = _status(status_code_or_title)
    moment = _aware(at) if at is not None else uow.clock.now()
    case = await find_case(uow, receipt, for_update=True)
    if case is None:
        raise CaseNotFound(receipt_number=str(receipt))
    return await _change_status(uow, case, status, moment) is not None
