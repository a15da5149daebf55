"""Every model, imported in one place so the metadata is complete."""

from sqlalchemy.orm import configure_mappers

from app.accounts.credentials import ApiKey, StaffToken
from app.accounts.models import Role, User, department_membership
from app.accounts.password_reset import PasswordResetToken
from app.api.idempotency import IdempotencyRecord
from app.catalog.attributes import CategoryAttribute
from app.catalog.models import Category, Department, Macrosector, Visibility
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.preferences import StaffNotificationPreference
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

__all__ = [
    "Attachment",
    "ActorKind", "ApiKey", "Category", "CategoryAttribute", "IdempotencyRecord", "StaffToken",
    "TicketAttributeValue", "Channel", "Department", "EventKind", "EventVisibility",
    "Macrosector", "OutboxMessage", "OutboxStatus", "Role", "Status", "Ticket",
    "TicketEvent", "User", "Visibility", "YearCounter", "department_membership",
    "ResolutionSurvey", "Survey", "SurveyAnswer", "SurveyOption", "SurveyParticipation",
    "SurveyQuestion", "SurveySubmission",
    "StaffNotificationPreference",
    "PasswordResetToken",
]

# Set up relationships now, so backrefs (Category.attributes, Ticket.attribute_values)
# exist as class attributes before the first query of a fresh process.
configure_mappers()
