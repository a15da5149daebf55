"""How due dates look on staff pages: overdue, due soon, or on time."""

from __future__ import annotations

from datetime import datetime

from app.database import utcnow
from app.tickets.models import Status, Ticket


def deadline_state(ticket: Ticket, now: datetime | None = None) -> str:
    """``"overdue"``, ``"due-soon"`` (past the warning instant), ``"paused"`` or ``""``.

    Only open requests have a state; a closed or resolved one is never late.
    """
    if not ticket.status.is_open or ticket.resolution_due_at is None:
        return ""
    if ticket.status is Status.WAITING_RESIDENT:
        return "paused"
    return _state(ticket.resolution_due_at, ticket.resolution_warn_at, now)


def first_response_state(ticket: Ticket, now: datetime | None = None) -> str | None:
    """While an open request still awaits its first answer and has a first-response
    due date: ``"overdue"``, ``"due-soon"`` or ``""``; otherwise None (nothing to show).
    """
    if (not ticket.status.is_open or ticket.first_response_at is not None
            or ticket.first_response_due_at is None):
        return None
    return _state(ticket.first_response_due_at, ticket.first_response_warn_at, now)


def _state(due: datetime, warn: datetime | None, now: datetime | None) -> str:
    now = now or utcnow()
    if now >= due:
        return "overdue"
    if warn is not None and now >= warn:
        return "due-soon"
    return ""
