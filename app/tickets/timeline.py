"""Staff replies and notes, resident messages, and reassignment between departments."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.models import Department
from app.database import utcnow
from app.deadlines.clock import record_first_response
from app.domain import ValidationFailed
from app.i18n import stored_text
from app.notifications.emails import queue_public_reply
from app.tickets.assignment import after_department_change
from app.tickets.lifecycle import transition
from app.tickets.models import (
    ActorKind,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
    TicketEvent,
)

MESSAGE_MAX = 4000


def _clean_body(body: str | None, field: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed(_("Escribe el texto."), {field: [_("Escribe el texto.")]})
    if len(body) > MESSAGE_MAX:
        message = _("El texto puede tener como máximo %(n)d caracteres.", n=MESSAGE_MAX)
        raise ValidationFailed(message, {field: [message]})
    return body


def add_public_reply(session: Session, ticket: Ticket, *, author: User, body: str,
                     now: datetime | None = None, notify: bool = True) -> TicketEvent:
    """Add a reply the resident sees (and receives by email); counts as first response.

    :raise ValidationFailed: if the text is empty or too long.
    """
    now = now or utcnow()
    event = TicketEvent(
        ticket=ticket, kind=EventKind.PUBLIC_REPLY, visibility=EventVisibility.PUBLIC,
        actor_kind=ActorKind.STAFF, actor=author, body=_clean_body(body, "body"),
        created_at=now,
    )
    session.add(event)
    ticket.updated_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        record_first_response(session, ticket, now)  # business time, for dashboards
    session.flush()
    if notify:
        queue_public_reply(session, ticket, event, now=now)
    return event


def add_internal_note(session: Session, ticket: Ticket, *, author: User, body: str,
                      now: datetime | None = None) -> TicketEvent:
    """Add a note only staff see; never emailed, never shown to the resident.

    :raise ValidationFailed: if the text is empty or too long.
    """
    now = now or utcnow()
    event = TicketEvent(
        ticket=ticket, kind=EventKind.INTERNAL_NOTE, visibility=EventVisibility.INTERNAL,
        actor_kind=ActorKind.STAFF, actor=author, body=_clean_body(body, "body"),
        created_at=now,
    )
    session.add(event)
    ticket.updated_at = now
    session.flush()
    return event


def reassign(session: Session, ticket: Ticket, department: Department | None, *,
             actor: User, reason: str, now: datetime | None = None) -> TicketEvent:
    """Move the request to another department, with the reason on the timeline.

    The event is internal, since the reason may speak of internal matters; the
    resident's status page shows the department that has the request now.

    The assignee is dropped; the new department auto-assigns if it does so.

    :raise ValidationFailed: if the department is missing, inactive or the
        current one, or the reason is empty.
    """
    now = now or utcnow()
    if department is None or not department.active:
        raise ValidationFailed(_("Elige un departamento activo."),
                               {"department": [_("Elige un departamento activo.")]})
    if department.id == ticket.department_id:
        message = _("La solicitud ya está en ese departamento.")
        raise ValidationFailed(message, {"department": [message]})
    reason = _clean_body(reason, "reason")
    event = TicketEvent(
        ticket=ticket, kind=EventKind.REASSIGNED, visibility=EventVisibility.INTERNAL,
        actor_kind=ActorKind.STAFF, actor=actor, body=reason,
        from_department_id=ticket.department_id, to_department_id=department.id,
        created_at=now,
    )
    ticket.department = department
    ticket.updated_at = now
    session.add(event)
    session.flush()
    after_department_change(session, ticket, actor=actor, now=now)  # clear or auto-assign
    return event


def add_resident_message(session: Session, ticket: Ticket, *, body: str,
                         now: datetime | None = None) -> TicketEvent:
    """Record a message the resident sent about their request (e.g. an email reply).

    The event is public (the resident wrote it). A resolved request reopens
    (``resolved`` → ``in_progress`` by the resident, through
    ``lifecycle.transition``, which emails the resident the new status). A
    request in a final status (closed, referred, duplicate) only records the
    message: it cannot reopen; the channel tells the resident what to do.

    :raise ValidationFailed: if the text is empty or too long.
    """
    now = now or utcnow()
    event = TicketEvent(
        ticket=ticket, kind=EventKind.RESIDENT_MESSAGE, visibility=EventVisibility.PUBLIC,
        actor_kind=ActorKind.RESIDENT, actor=None, body=_clean_body(body, "body"),
        created_at=now,
    )
    session.add(event)
    ticket.updated_at = now
    session.flush()
    if ticket.status is Status.RESOLVED:
        with stored_text():
            note = _("El vecino/a respondió; la solicitud se reabre.")
        transition(session, ticket, Status.IN_PROGRESS, actor=None,
                   actor_kind=ActorKind.RESIDENT, now=now, note=note)
    return event
