"""Operator actions on staff accounts, each in one unit of work with its audit entry (as
``core.admin.actions``). The set-up code is never written to the audit log."""

from __future__ import annotations

from collections.abc import Sequence

from core.admin.audit import Outcome, record_action
from core.staff.accounts import (
    NewStaff,
    StaffView,
    add_staff,
    disable_staff,
    list_staff,
    reissue_setup_code,
)
from core.staff.models import StaffRole
from core.uow import UnitOfWorkFactory

__all__ = ["add_staff_as", "disable_staff_as", "read_staff", "reissue_setup_code_as"]


async def add_staff_as(
    uow_factory: UnitOfWorkFactory,
    actor: str,
    email: str,
    display_name: str,
    languages: Sequence[str],
    role: StaffRole,
) -> NewStaff:
    """Add a staff member (see ``core.staff.accounts.add_staff`` for the refusals)."""
    async with uow_factory() as uow:
        added = await add_staff(uow, email, display_name, languages, role)
        await record_action(
            uow,
            actor=actor,
            action="staff.add",
            target=f"staff:{added.staff.email}",
            params={
                "display_name": added.staff.display_name,
                "languages": list(added.staff.languages),
                "role": role,
            },
            outcome=Outcome.CHANGED,
            result={"staff_id": added.staff.id, "setup_expires_at": added.expires_at},
        )
        await uow.commit()
    return added


async def disable_staff_as(uow_factory: UnitOfWorkFactory, actor: str, email: str) -> bool:
    """Disable a staff member; False when they were disabled already.

    Raises:
        StaffNotFound: no staff member has this email.
    """
    async with uow_factory() as uow:
        view, changed = await disable_staff(uow, email)
        await record_action(
            uow,
            actor=actor,
            action="staff.disable",
            target=f"staff:{view.email}",
            outcome=Outcome.CHANGED if changed else Outcome.UNCHANGED,
        )
        await uow.commit()
    return changed


async def reissue_setup_code_as(uow_factory: UnitOfWorkFactory, actor: str, email: str) -> NewStaff:
    """A new set-up code (the old password and authenticator stop working).

    Raises:
        StaffNotFound: no staff member has this email.
    """
    async with uow_factory() as uow:
        again = await reissue_setup_code(uow, email)
        await record_action(
            uow,
            actor=actor,
            action="staff.reset",
            target=f"staff:{again.staff.email}",
            outcome=Outcome.CHANGED,
            result={"setup_expires_at": again.expires_at},
        )
        await uow.commit()
    return again


async def read_staff(uow_factory: UnitOfWorkFactory) -> list[StaffView]:
    async with uow_factory() as uow:
        return await list_staff(uow)
