"""Every model, imported in one place so the metadata is complete."""

from sqlalchemy.orm import configure_mappers

from app.accounts.credentials import ApiKey, StaffToken
from app.accounts.models import Role, User, department_membership
from app.accounts.password_reset import PasswordResetToken
from app.api.idempotency import IdempotencyRecord
from app.audit.models import AuditEntry
from app.catalog.attributes import CategoryAttribute
from app.catalog.models import AutoAssign, Category, Department, Macrosector, Visibility
from app.catalog.routing_models import RoutingRule
from app.catalog.sla import SlaPolicy
from app.channels.email.models import InboundEmail
from app.deadlines.models import HolidayOverride
from app.metrics.rollup import DailyRollup, RollupState
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.preferences import StaffNotificationPreference
from app.productivity.models import CannedAnswer, SavedFilter
from app.residents.models import ResidentAccount, ResidentLoginToken
from app.surveys.models import (
    ResolutionSurvey,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyParticipation,
    SurveyQuestion,
    SurveySubmission,
)
from app.tickets.attachments import Attachment
from app.tickets.attributes import TicketAttributeValue
from app.tickets.models import (
    ActorKind,
    Channel,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
    TicketEvent,
    YearCounter,
)
from app.transparency.models import ProgressUpdate, TransparencyPilot

__all__ = [
    "Attachment", "AuditEntry", "DailyRollup", "RollupState",
    "ActorKind", "ApiKey", "Category", "CategoryAttribute", "IdempotencyRecord", "StaffToken",
    "TicketAttributeValue", "Channel", "Department", "EventKind", "EventVisibility",
    "Macrosector", "OutboxMessage", "OutboxStatus", "Role", "Status", "Ticket",
    "TicketEvent", "User", "Visibility", "YearCounter", "department_membership",
    "ResolutionSurvey", "Survey", "SurveyAnswer", "SurveyOption", "SurveyParticipation",
    "SurveyQuestion", "SurveySubmission",
    "StaffNotificationPreference",
    "InboundEmail",
    "HolidayOverride", "SlaPolicy",
    "AutoAssign", "RoutingRule",
    "CannedAnswer", "ResidentAccount", "ResidentLoginToken", "SavedFilter",
    "ProgressUpdate", "TransparencyPilot",
    "PasswordResetToken",
]

# Set up relationships now, so backrefs (Category.attributes, Ticket.attribute_values)
# exist as class attributes before the first query of a fresh process.
configure_mappers()
