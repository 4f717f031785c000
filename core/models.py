"""Every table, imported in one place so the metadata is complete (for Alembic and tests)."""

from __future__ import annotations

from core.accounts.models import (
    Account,
    AccountKind,
    ChannelLink,
    CodePurpose,
    EmailCode,
    OtpMethod,
    RepresentativeGrant,
    ResetAnswer,
)
from core.admin.audit import AuditEntry
from core.appointments.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Office,
    OfficeClosure,
    OfficeHours,
    SlotUsage,
)
from core.cases.models import AccessCodeFailures, Case, CaseEvent, Subscription
from core.cases.uscis.models import UscisAnswer, UscisQuota
from core.contacts.models import ContactCode, ContactFollow, ContactPoint
from core.conversations import Conversation
from core.db import Base
from core.handoff.models import Handoff, HandoffMessage, SecureMessage
from core.inbox import InboxUpdate
from core.outbox.models import OutboxMessage, OutboxStatus, RateLimitWindow
from core.processing_times import ProcessingTime
from core.sms.models import SmsDelivery, SmsOptOut
from core.staff.models import StaffMember, StaffRole, StaffSession
from core.web_sessions import WebAttachment, WebMessage, WebSession

__all__ = [
    "AccessCodeFailures",
    "Account",
    "AccountKind",
    "Appointment",
    "AppointmentKind",
    "AppointmentStatus",
    "AuditEntry",
    "Base",
    "Case",
    "CaseEvent",
    "ChannelLink",
    "CodePurpose",
    "ContactCode",
    "ContactFollow",
    "ContactPoint",
    "Conversation",
    "EmailCode",
    "Handoff",
    "HandoffMessage",
    "InboxUpdate",
    "Office",
    "OfficeClosure",
    "OfficeHours",
    "OtpMethod",
    "OutboxMessage",
    "OutboxStatus",
    "ProcessingTime",
    "RateLimitWindow",
    "RepresentativeGrant",
    "ResetAnswer",
    "SecureMessage",
    "SlotUsage",
    "SmsDelivery",
    "SmsOptOut",
    "StaffMember",
    "StaffRole",
    "StaffSession",
    "Subscription",
    "UscisAnswer",
    "UscisQuota",
    "WebAttachment",
    "WebMessage",
    "WebSession",
]
