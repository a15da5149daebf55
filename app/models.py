"""Every model, imported in one place so the metadata is complete."""

from app.accounts.models import Role, User, department_membership
from app.catalog.models import Category, Department, Macrosector, Visibility
from app.notifications.models import OutboxMessage, OutboxStatus
from app.surveys.models import (
    ResolutionSurvey,
    Survey,
    SurveyAnswer,
    SurveyOption,
    SurveyParticipation,
    SurveyQuestion,
    SurveySubmission,
)
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
    "ActorKind", "Category", "Channel", "Department", "EventKind", "EventVisibility",
    "Macrosector", "OutboxMessage", "OutboxStatus", "Role", "Status", "Ticket",
    "TicketEvent", "User", "Visibility", "YearCounter", "department_membership",
    "ResolutionSurvey", "Survey", "SurveyAnswer", "SurveyOption", "SurveyParticipation",
    "SurveyQuestion", "SurveySubmission",
]
