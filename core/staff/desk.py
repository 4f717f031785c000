"""The agent desk over the staff accounts: whether a signed-in agent can take a person now.

``StaffDesk`` implements ``core.handoff.desk.AgentDesk``: a chat of a language can be put
through when it is within the agents' business hours (``CASEBOT_AGENT_HOURS``), at least one
staff member who speaks the language is available (switched to available, signed in, not
idle), and that language's waiting line is shorter than ``queue_limit``
(``CASEBOT_AGENT_QUEUE_LIMIT``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import func, select

from core.handoff.models import Handoff, HandoffStatus
from core.staff.hours import AgentHours, is_open, next_opening
from core.staff.sessions import available_staff
from core.uow import UnitOfWorkFactory

__all__ = ["DEFAULT_QUEUE_LIMIT", "StaffDesk"]

# Most people waiting in one language's line before new ones are offered a secure message.
DEFAULT_QUEUE_LIMIT: Final = 20


@dataclass
class StaffDesk:
    """Agents from the staff accounts, at the configured hours.

    Args:
        uow_factory: where staff and the waiting line are read (its clock tells the time).
        hours: the agents' business hours.
        queue_limit: most people waiting per language (None: no limit).
    """

    uow_factory: UnitOfWorkFactory
    hours: AgentHours
    queue_limit: int | None = DEFAULT_QUEUE_LIMIT

    async def can_take(self, language: str) -> bool:
        if not is_open(self.hours, self.uow_factory.clock.now()):
            return False
        async with self.uow_factory() as uow:
            if not await available_staff(uow, language):
                return False
            if self.queue_limit is None:
                return True
            waiting = await uow.session.scalar(
                select(func.count(Handoff.id)).where(
                    Handoff.status == HandoffStatus.WAITING, Handoff.language == language
                )
            )
            return (waiting or 0) < self.queue_limit

    def next_opening(self, now: datetime) -> datetime:
        return next_opening(self.hours, now)
