"""Which requests a staff member may see: the one rule every staff view uses."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.tickets.models import Ticket


def visible_tickets(user: User) -> sa.Select[tuple[Ticket]]:
    """A select of the requests ``user`` may see.

    Managers and admins see every department; agents and supervisors only the
    departments they belong to (none if they belong to none).
    """
    query = sa.select(Ticket)
    if not user.role.sees_all_departments:
        query = query.where(Ticket.department_id.in_(user.department_ids or {-1}))
    return query


def can_see(user: User, ticket: Ticket) -> bool:
    return user.role.sees_all_departments or ticket.department_id in user.department_ids


def get_visible_ticket_or_404(session: Session, user: User, ticket_id: int) -> Ticket:
    """Load a request for a staff page.

    :raise 404: if it does not exist or ``user`` may not see it (the same
        answer, so staff cannot probe other departments' numbers).
    """
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not can_see(user, ticket):
        abort(404)
    return ticket
