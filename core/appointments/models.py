"""Tables of appointments: offices, their hours and closures, slot usage, appointments.

Overbooking is made impossible by the database itself: each booked slot has a ``slot_usage`` row
whose ``taken`` may never pass its ``capacity`` (a CHECK constraint), and the counter is only ever
raised by a conditional UPDATE. One active appointment per case and type is a unique
``active_key`` that is cleared when the appointment is cancelled.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.clock import utcnow
from core.db import Base, UTCDateTime, str_enum

__all__ = [
    "Appointment",
    "AppointmentKind",
    "AppointmentStatus",
    "Office",
    "OfficeClosure",
    "OfficeHours",
    "SlotUsage",
]


class AppointmentKind(enum.StrEnum):
    BIOMETRICS = "biometrics"
    IN_PERSON = "in_person"  # a field-office appointment for help in person (formerly InfoPass)


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class Office(Base):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(80))
    state: Mapped[str] = mapped_column(String(2), index=True)
    zip_code: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))  # an IANA zone, e.g. America/Phoenix
    services: Mapped[list[str]] = mapped_column(JSON, default=list)  # AppointmentKind values
    slot_minutes: Mapped[int] = mapped_column(default=30)
    capacity: Mapped[int] = mapped_column(default=2)  # people per slot
    active: Mapped[bool] = mapped_column(default=True)

    hours: Mapped[list[OfficeHours]] = relationship(
        back_populates="office", lazy="raise", cascade="all, delete-orphan"
    )
    closures: Mapped[list[OfficeClosure]] = relationship(
        back_populates="office", lazy="raise", cascade="all, delete-orphan"
    )


class OfficeHours(Base):
    """Opening hours of one weekday (0 = Monday), in the office's local time."""

    __tablename__ = "office_hours"
    __table_args__ = (
        UniqueConstraint("office_id", "weekday"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("opens < closes", name="opens_before_closes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)

    office: Mapped[Office] = relationship(back_populates="hours", lazy="raise")


class OfficeClosure(Base):
    """A local day on which the office is closed (besides federal holidays)."""

    __tablename__ = "office_closures"
    __table_args__ = (UniqueConstraint("office_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="")

    office: Mapped[Office] = relationship(back_populates="closures", lazy="raise")


class SlotUsage(Base):
    """How many people a slot holds already; never more than its capacity."""

    __tablename__ = "slot_usage"
    __table_args__ = (CheckConstraint("taken >= 0 AND taken <= capacity", name="within_capacity"),)

    office_id: Mapped[int] = mapped_column(
        ForeignKey("offices.id", ondelete="CASCADE"), primary_key=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    capacity: Mapped[int]
    taken: Mapped[int] = mapped_column(default=0)


class Appointment(Base):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    confirmation_code: Mapped[str] = mapped_column(String(12), unique=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), default=None
    )
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    kind: Mapped[AppointmentKind] = mapped_column(str_enum(AppointmentKind))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[AppointmentStatus] = mapped_column(
        str_enum(AppointmentStatus), default=AppointmentStatus.BOOKED
    )
    reschedule_count: Mapped[int] = mapped_column(default=0)
    # "kind:case:<id>" (or "kind:account:<id>" without a case) while booked, NULL once
    # cancelled: the database keeps one active appointment per case and type.
    active_key: Mapped[str | None] = mapped_column(String(60), unique=True, default=None)
    reason: Mapped[str] = mapped_column(String(200), default="")
    # Why a cancelled appointment was cancelled by somebody else than its holder:
    # "office_closed" (an operator closed the office that day); NULL otherwise.
    cancel_reason: Mapped[str | None] = mapped_column(String(40), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office: Mapped[Office] = relationship(lazy="raise")
