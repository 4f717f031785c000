"""The audit log: who did what to which record, with which parameters, when, and the outcome.

Every operator action (``casebot admin ...`` or the admin HTTP API) writes one row in the same
transaction as the change itself, so the log holds an action exactly when the action took
effect: a refused action (bad input, an unknown office, a CSV file with bad rows) rolls back and
leaves no row, and a committed change always has one. Reads of personal data (listing or
exporting appointments) are recorded too, with the outcome ``read``.

The actor is an identity, never a secret: ``cli:<OS user>`` for the command line,
``api:<fingerprint>`` for the HTTP API, where the fingerprint is the first 12 hex digits of the
token's SHA-256 (enough to tell two tokens apart, useless to rebuild one). Parameters are data
an operator may read back: no token, no access code, no file contents.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import JSON, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from core.db import Base, UTCDateTime, str_enum
from core.uow import UnitOfWork

__all__ = [
    "AuditEntry",
    "AuditRecord",
    "Outcome",
    "api_actor",
    "cli_actor",
    "list_audit",
    "record_action",
]

ACTOR_LENGTH: Final = 100
TARGET_LENGTH: Final = 200
FINGERPRINT_DIGITS: Final = 12


class Outcome(enum.StrEnum):
    CHANGED = "changed"  # the action changed something
    UNCHANGED = "unchanged"  # accepted, but everything was as asked already
    READ = "read"  # personal data was read (a list, an export)


class AuditEntry(Base):
    """One operator action that took effect."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH), index=True)
    action: Mapped[str] = mapped_column(String(60))  # e.g. case.set_status, office.close_day
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))  # e.g. case:IOE0912345678
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[Outcome] = mapped_column(str_enum(Outcome))
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of the audit log as it is read back."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    params: dict[str, Any]
    outcome: Outcome
    result: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditRecord:
        return cls(
            entry.id,
            entry.at,
            entry.actor,
            entry.action,
            entry.target,
            entry.params,
            entry.outcome,
            entry.result,
        )


def cli_actor(user: str) -> str:
    """The actor of a command-line action: ``cli:<OS user>``."""
    return f"cli:{user.strip() or 'unknown'}"[:ACTOR_LENGTH]


def api_actor(token: str) -> str:
    """The actor of an HTTP API action: ``api:`` and the token's fingerprint (never the token)."""
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    return f"api:{digest[:FINGERPRINT_DIGITS]}"


def _json_value(value: Any) -> Any:
    """Parameters as JSON values: dates and times in ISO 8601, enums by value."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


async def record_action(
    uow: UnitOfWork,
    *,
    actor: str,
    action: str,
    target: str,
    params: Mapping[str, Any] | None = None,
    outcome: Outcome,
    result: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit row in the caller's unit of work (committed with the action).

    Raises:
        ValueError: ``actor`` or ``action`` is empty.
    """
    if not actor or not action:
        raise ValueError("an audit entry needs an actor and an action")
    entry = AuditEntry(
        at=uow.clock.now(),
        actor=actor[:ACTOR_LENGTH],
        action=action,
        target=target[:TARGET_LENGTH],
        params=_json_value(dict(params or {})),
        outcome=outcome,
        result=_json_value(dict(result or {})),
    )
    uow.session.add(entry)
    await uow.flush()
    return entry


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """Filters for :func:`list_audit`; None means any."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    after_id: int = 0
    limit: int = 100


async def list_audit(uow: UnitOfWork, query: AuditQuery | None = None) -> list[AuditEntry]:
    """Audit entries, oldest first, after ``after_id`` (for paging), at most ``limit``.

    Raises:
        ValueError: ``limit`` is not between 1 and 1,000, or ``since`` is naive.
    """
    query = query or AuditQuery()
    if not 1 <= query.limit <= 1000:
        raise ValueError("limit must be between 1 and 1000")
    statement = select(AuditEntry).where(AuditEntry.id > query.after_id)
    if query.action is not None:
        statement = statement.where(AuditEntry.action == query.action)
    if query.actor is not None:
        statement = statement.where(AuditEntry.actor == query.actor)
    if query.since is not None:
        if query.since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        statement = statement.where(AuditEntry.at >= query.since)
    rows = await uow.session.scalars(statement.order_by(AuditEntry.id).limit(query.limit))
    return list(rows)
