"""Emails to the department's staff about deadlines, queued in the outbox."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import Role, User, department_membership
from app.notifications.outbox import enqueue
from app.tickets.models import Ticket


def staff_page_url(ticket: Ticket) -> str:
    """Absolute link to the request's staff detail page (``staff.detail``)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/gestion/solicitudes/{ticket.id}"


def _department_emails(session: Session, ticket: Ticket, roles: set[Role]) -> list[str]:
    """Active members of the request's department with one of ``roles``,
    or the department's own address when it has none."""
    emails = list(session.scalars(
        sa.select(User.email)
        .join(department_membership, department_membership.c.user_id == User.id)
        .where(department_membership.c.department_id == ticket.department_id,
               User.active, User.role.in_(roles))
        .order_by(User.email)
    ))
    if not emails and ticket.department.email:
        emails = [ticket.department.email]
    return emails


def _queue(session: Session, ticket: Ticket, recipients: list[str], *, subject: str,
           template: str, now: datetime) -> list[str]:
    for recipient in recipients:
        enqueue(session, recipient=recipient, subject=subject, template=template,
                context={"ticket": ticket, "staff_url": staff_page_url(ticket),
                         "municipality": current_app.config["MUNICIPALITY_NAME"]},
                ticket_id=ticket.id, now=now)
    return recipients


def notify_sla_warning(session: Session, ticket: Ticket, *, now: datetime) -> list[str]:
    """Warn the department's agents and supervisors that the deadline is near.

    Falls back to ``department.email`` when the department has neither.
    Returns the recipients.
    """
    return _queue(session, ticket,
                  _department_emails(session, ticket, {Role.AGENT, Role.SUPERVISOR}),
                  subject=_("Plazo por vencer: solicitud %(number)s",
                            number=ticket.public_number),
                  template="sla_warning", now=now)


def notify_sla_breach(session: Session, ticket: Ticket, *, now: datetime) -> list[str]:
    """Tell the department's supervisors that the deadline has passed.

    Falls back to ``department.email`` when the department has no supervisor.
    Returns the recipients.
    """
    return _queue(session, ticket, _department_emails(session, ticket, {Role.SUPERVISOR}),
                  subject=_("Plazo vencido: solicitud %(number)s", number=ticket.public_number),
                  template="sla_breach", now=now)
