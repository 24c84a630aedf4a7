"""SQLAlchemy 2.0 typed models. No commits here, no Flask globals."""

from app.models.archive import Achievement, PerformanceArchive
from app.models.calendar import CalendarDay, CalendarYear
from app.models.certificate import Certificate
from app.models.committee import Committee, CommitteeScope
from app.models.document import DocSequence, Document
from app.models.draft import BackgroundJob, InstanceMigration, ModelDraft
from app.models.education import CeRecord
from app.models.event import AuditChain, Event
from app.models.integrity import IntegrityRecord, SupervisionFlag
from app.models.org import Organisation
from app.models.outbox import OutboxMessage
from app.models.plan import AnnualPlan, PlanEntry
from app.models.process import MessageSubscription, ProcessInstance, ProcessVersion
from app.models.review import Objection, PublicNotice, SessionEntry
from app.models.setting import Setting
from app.models.supervision import AuthorityDecision, Notification, RandomDraw, SupervisionFinding
from app.models.task import HumanTask
from app.models.tracking import CaseComment, EmailMessage, InstanceCheckpoint, SavedView
from app.models.user import ApiToken, LoginAttempt, User, UserRole

__all__ = [
    "AuditChain",
    "CaseComment",
    "EmailMessage",
    "InstanceCheckpoint",
    "SavedView",
    "AnnualPlan",
    "BackgroundJob",
    "InstanceMigration",
    "ModelDraft",
    "PlanEntry",
    "Achievement",
    "ApiToken",
    "AuthorityDecision",
    "CalendarDay",
    "CalendarYear",
    "CeRecord",
    "Certificate",
    "Committee",
    "CommitteeScope",
    "DocSequence",
    "Document",
    "Event",
    "HumanTask",
    "IntegrityRecord",
    "LoginAttempt",
    "MessageSubscription",
    "Notification",
    "Objection",
    "Organisation",
    "OutboxMessage",
    "PerformanceArchive",
    "ProcessInstance",
    "ProcessVersion",
    "PublicNotice",
    "RandomDraw",
    "SessionEntry",
    "Setting",
    "SupervisionFinding",
    "SupervisionFlag",
    "User",
    "UserRole",
]
