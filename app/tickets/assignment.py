"""Who in the department handles a request: manual and automatic assignment.

``assign`` is the one way a staff member sets or clears ``Ticket.assigned_to``;
``auto_assign`` picks a member for departments that turned it on (round robin
or fewest open requests), at intake and when a request changes department.
Each one records an internal ``assigned`` event and queues an email to the
new assignee (unless they assigned themselves).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.accounts.models import Role, User, department_membership
from app.catalog.models import AutoAssign, Department
from app.database import utcnow
from app.domain import ValidationFailed
from app.i18n import stored_text
from app.notifications.staff import notify_assigned
from app.tickets.models import (
    OPEN_STATUSES,
    ActorKind,
    EventKind,
    EventVisibility,
    Ticket,
    TicketEvent,
)

AUTO_ROLES = (Role.AGENT, Role.SUPERVISOR)

AUTO_ASSIGN_LABELS = {
    AutoAssign.NONE: _l("Sin asignación automática"),
    AutoAssign.ROUND_ROBIN: _l("Por turnos (round robin)"),
    AutoAssign.FEWEST_OPEN: _l("A quien tenga menos solicitudes abiertas"),
}
# How the timeline explains an automatic pick.
_AUTO_REASONS = {
    AutoAssign.ROUND_ROBIN: _l("por turno"),
    AutoAssign.FEWEST_OPEN: _l("menos solicitudes abiertas"),
}


def auto_assign_label(mode: AutoAssign) -> str:
    return str(AUTO_ASSIGN_LABELS[mode])


def _members(department_id: int) -> sa.Select[tuple[User]]:
    return (sa.select(User)
            .join(department_membership, department_membership.c.user_id == User.id)
            .where(department_membership.c.department_id == department_id, User.active))


def department_members(session: Session, department: Department) -> list[User]:
    """Active members of ``department`` (any role), by name: who may be assigned."""
    return list(session.scalars(_members(department.id).order_by(User.name, User.id)))


def _is_member(session: Session, department_id: int, user: User) -> bool:
    return session.scalar(
        _members(department_id).where(User.id == user.id).with_only_columns(User.id)
    ) is not None


def _record(session: Session, ticket: Ticket, body: str, *, actor: User | None,
            now: datetime) -> TicketEvent:
    event = TicketEvent(
        ticket=ticket, kind=EventKind.ASSIGNED, visibility=EventVisibility.INTERNAL,
        actor_kind=ActorKind.STAFF if actor else ActorKind.SYSTEM, actor=actor, body=body,
        created_at=now,
    )
    session.add(event)
    ticket.updated_at = now
    session.flush()
    return event


def assign(session: Session, ticket: Ticket, assignee: User | None, *, actor: User,
           now: datetime | None = None, notify: bool = True) -> TicketEvent:
    """Give the request to ``assignee`` (None: leave it unassigned).

    :raise ValidationFailed: if ``assignee`` is not an active member of the
        request's department, or already has it.
    """
    now = now or utcnow()
    if assignee is not None and not (assignee.active
                                     and _is_member(session, ticket.department_id, assignee)):
        message = _("Elige a una persona activa del departamento de la solicitud.")
        raise ValidationFailed(message, {"assignee": [message]})
    current = ticket.assigned_to_id
    if (assignee.id if assignee else None) == current:
        message = (_("La solicitud ya está asignada a esa persona.") if assignee
                   else _("La solicitud ya está sin asignar."))
        raise ValidationFailed(message, {"assignee": [message]})
    ticket.assigned_to = assignee
    if assignee is None:
        with stored_text():
            note = _("Quedó sin asignar.")
        return _record(session, ticket, note, actor=actor, now=now)
    with stored_text():
        note = _("Asignada a %(name)s.", name=assignee.name)
    event = _record(session, ticket, note, actor=actor, now=now)
    if notify and assignee.id != actor.id:
        notify_assigned(session, ticket, assignee, now=now)
    return event


def _lock_department(session: Session, department: Department) -> Department:
    """Re-read the department row locked on PostgreSQL, so concurrent picks queue up.

    SQLite allows one writer at a time anyway.
    """
    query = sa.select(Department).where(Department.id == department.id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.execute(query.execution_options(populate_existing=True)).scalar_one()


def _next_in_turn(session: Session, department: Department) -> User | None:
    candidates = _members(department.id).where(User.role.in_(AUTO_ROLES)).order_by(User.id)
    last = department.last_assigned_user_id
    chosen = None
    if last is not None:
        chosen = session.scalar(candidates.where(User.id > last).limit(1))
    return chosen or session.scalar(candidates.limit(1))


def _least_loaded(session: Session, department: Department) -> User | None:
    """The member with fewest open requests assigned (in any department), lowest id on ties."""
    open_count = (sa.select(sa.func.count(Ticket.id))
                  .where(Ticket.assigned_to_id == User.id, Ticket.status.in_(OPEN_STATUSES))
                  .correlate(User).scalar_subquery())
    return session.scalar(_members(department.id).where(User.role.in_(AUTO_ROLES))
                          .order_by(open_count, User.id).limit(1))


def pick_assignee(session: Session, department: Department) -> User | None:
    """Choose who gets the next request of ``department`` by its mode; None if off or nobody.

    Round robin goes to the next active agent or supervisor by user id after
    the last one served (wrapping around) and remembers them; inactive users
    and other roles are skipped.
    """
    if department.auto_assign in (None, AutoAssign.NONE):  # None: not flushed yet, so off
        return None
    department = _lock_department(session, department)
    if department.auto_assign is AutoAssign.ROUND_ROBIN:
        chosen = _next_in_turn(session, department)
        if chosen is not None:
            department.last_assigned_user_id = chosen.id
            session.flush()
        return chosen
    if department.auto_assign is AutoAssign.FEWEST_OPEN:
        return _least_loaded(session, department)
    return None


def auto_assign(session: Session, ticket: Ticket, *, now: datetime | None = None,
                notify: bool = True) -> User | None:
    """Assign the request inside its department if that department asks for it.

    Called by ``intake.submit`` after routing and by ``timeline.reassign``.
    Returns the chosen member, or None (mode off, or no eligible member).
    """
    now = now or utcnow()
    chosen = pick_assignee(session, ticket.department)
    if chosen is None:
        return None
    ticket.assigned_to = chosen
    with stored_text():
        note = _("Asignada automáticamente a %(name)s (%(mode)s).", name=chosen.name,
                 mode=_AUTO_REASONS[ticket.department.auto_assign])
    _record(session, ticket, note, actor=None, now=now)
    if notify:
        notify_assigned(session, ticket, chosen, now=now)
    return chosen


def after_department_change(session: Session, ticket: Ticket, *, actor: User | None,
                            now: datetime) -> None:
    """The request moved department: drop its assignee, then auto-assign if the new one does.

    An assignee who also belongs to the new department is still dropped: the
    new department decides who handles it.
    """
    if ticket.assigned_to_id is not None:
        ticket.assigned_to = None
        with stored_text():
            note = _("Quedó sin asignar al cambiar de departamento.")
        _record(session, ticket, note, actor=actor, now=now)
    auto_assign(session, ticket, now=now)
