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
    now = now or utcnow()
    if now >= ticket.resolution_due_at:
        return "overdue"
    if ticket.resolution_warn_at is not None and now >= ticket.resolution_warn_at:
        return "due-soon"
    return ""
