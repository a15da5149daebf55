"""The single way a request changes status.

``ALLOWED_MOVES`` is the whole status machine; ``transition`` enforces it,
stamps the request's times, writes the timeline event and queues the
resident's email, in the caller's transaction. A move to ``resolved`` also
opens the request's satisfaction survey (``surveys.invitations``).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.database import utcnow
from app.deadlines.clock import after_transition
from app.domain import DomainError
from app.notifications.emails import queue_status_change
from app.surveys.invitations import invite_after_resolution
from app.tickets.followers import queue_follower_updates
from app.tickets.models import (
    ActorKind,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
    TicketEvent,
)

S = Status
_TERMINAL = frozenset({S.RESOLVED, S.CLOSED, S.REFERRED, S.DUPLICATE})

ALLOWED_MOVES: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.IN_REVIEW, S.IN_PROGRESS, S.WAITING_RESIDENT}) | _TERMINAL,
    S.IN_REVIEW: frozenset({S.IN_PROGRESS, S.WAITING_RESIDENT}) | _TERMINAL,
    S.IN_PROGRESS: frozenset({S.WAITING_RESIDENT}) | _TERMINAL,
    S.WAITING_RESIDENT: frozenset({S.IN_PROGRESS}) | _TERMINAL,
    S.RESOLVED: frozenset({S.IN_PROGRESS, S.CLOSED}),  # reopen, or close
    S.CLOSED: frozenset(),
    S.REFERRED: frozenset(),
    S.DUPLICATE: frozenset(),
}

# Moves the resident must be told the reason for.
NOTE_REQUIRED = frozenset({S.WAITING_RESIDENT, S.REFERRED, S.DUPLICATE})
# Closing an open request (not a resolved one) needs a reason too.
NOTE_REQUIRED_WHEN_OPEN = frozenset({S.CLOSED})


class TransitionNotAllowed(DomainError):
    """The status machine has no move from the current status to the target."""


class ReasonRequired(DomainError):
    """The move needs a written reason and none was given."""


def can_move(current: Status, target: Status) -> bool:
    return target in ALLOWED_MOVES[current]


def allowed_targets(current: Status) -> list[Status]:
    """Targets reachable from ``current``, in the order of the Status enum."""
    return [s for s in Status if s in ALLOWED_MOVES[current]]


def transition(
    session: Session,
    ticket: Ticket,
    to: Status,
    *,
    actor: User | None,
    actor_kind: ActorKind | None = None,
    note: str | None = None,
    visible_to_resident: bool = True,
    now: datetime | None = None,
    notify: bool = True,
) -> TicketEvent:
    """Move ``ticket`` to ``to`` and record who did it, when and why.

    ``actor`` is the staff member, or None for the resident or the system
    (then give ``actor_kind``). Flushes but never commits.

    :raise TransitionNotAllowed: if the move is not in ``ALLOWED_MOVES``.
    :raise ReasonRequired: if the move needs a note and ``note`` is empty.
    """
    now = now or utcnow()
    current = ticket.status
    if not can_move(current, to):
        raise TransitionNotAllowed(
            _("No se puede pasar de «%(from)s» a «%(to)s».",
              **{"from": current.label, "to": to.label})
        )
    note = (note or "").strip() or None
    if note is None and (to in NOTE_REQUIRED
                         or (to in NOTE_REQUIRED_WHEN_OPEN and current.is_open)):
        raise ReasonRequired(
            _("Escribe el motivo para pasar a «%(to)s».", to=to.label),
            {"note": [_("Este cambio necesita un motivo.")]},
        )
    if actor_kind is None:
        actor_kind = ActorKind.STAFF if actor is not None else ActorKind.SYSTEM

    ticket.status = to
    ticket.updated_at = now
    if actor_kind is ActorKind.STAFF and ticket.first_response_at is None:
        ticket.first_response_at = now
    if to is S.RESOLVED:
        ticket.resolved_at = now
    elif to is S.IN_PROGRESS and current is S.RESOLVED:
        ticket.resolved_at = None  # reopened
    if to in (S.CLOSED, S.REFERRED, S.DUPLICATE):
        ticket.closed_at = now

    event = TicketEvent(
        ticket=ticket,
        kind=EventKind.STATUS_CHANGED,
        visibility=EventVisibility.PUBLIC if visible_to_resident else EventVisibility.INTERNAL,
        actor_kind=actor_kind,
        actor=actor,
        from_status=current,
        to_status=to,
        body=note,
        created_at=now,
    )
    session.add(event)
    session.flush()
    after_transition(session, ticket, event, now)  # SLA clock: pause, resume, durations
    if to is S.RESOLVED:  # the satisfaction survey; its link goes in the email below
        invite_after_resolution(session, ticket, now=now, emailed=bool(
            notify and visible_to_resident and ticket.contact_email))
    if notify and visible_to_resident:
        queue_status_change(session, ticket, event, now=now)
        # Residents whose requests were merged into this one (tickets.merging).
        queue_follower_updates(session, ticket, event, now=now)
    return event
