"""Offices and appointments as the chat and the admin tools read them.

Read-only protocols: a service hands back its rows, and a caller outside ``core`` sees only
these fields, never a session-bound object it could change or lazily load from. The ORM
classes of ``core.appointments.models`` satisfy them (mypy checks that where they meet).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Protocol

from core.appointments.models import AppointmentKind, AppointmentStatus

__all__ = ["AppointmentView", "ClosureView", "HoursView", "OfficeView", "OfficeWithSchedule"]


class HoursView(Protocol):
    """An office's opening hours on one weekday (0 is Monday), in its own time zone."""

    @property
    def weekday(self) -> int: ...
    @property
    def opens(self) -> time: ...
    @property
    def closes(self) -> time: ...


class ClosureView(Protocol):
    """A day an office is closed."""

    @property
    def day(self) -> date: ...
    @property
    def reason(self) -> str: ...


class OfficeView(Protocol):
    """An office: where it is, its time zone (IANA), what it offers and how."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def city(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def zip_code(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def services(self) -> Sequence[str]: ...
    @property
    def slot_minutes(self) -> int: ...
    @property
    def capacity(self) -> int: ...


class OfficeWithSchedule(OfficeView, Protocol):
    """An office loaded with its hours and closures (``with_schedule=True``)."""

    @property
    def hours(self) -> Sequence[HoursView]: ...
    @property
    def closures(self) -> Sequence[ClosureView]: ...


class AppointmentView(Protocol):
    """A booked (or cancelled) appointment, loaded with its office."""

    @property
    def confirmation_code(self) -> str: ...
    @property
    def case_id(self) -> int | None: ...
    @property
    def office_id(self) -> int: ...
    @property
    def kind(self) -> AppointmentKind: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def status(self) -> AppointmentStatus: ...
    @property
    def reschedule_count(self) -> int: ...
    @property
    def office(self) -> OfficeView: ...
