"""Bulk actions on the queue's selected requests, all or nothing.

Each action runs the one service for a single request (``lifecycle.transition``
or ``merging.merge``) on every selected request inside the caller's
transaction. Every request is tried, so the answer names *all* the ones that
cannot move and why; if any failed, ``BulkRefused`` is raised and the caller
rolls the whole transaction back, so nothing changes (no event, no email).

``assign_to`` does the same with ``tickets.assignment.assign``, so each
request gets its internal ``assigned`` event and the assignee one email per
request, exactly as when assigning from the request page.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from app.accounts.models import User, department_membership
from app.catalog.models import Department
from app.domain import DomainError
from app.tickets import assignment, lifecycle, merging
from app.tickets.access import visible_tickets
from app.tickets.models import Status, Ticket

MAX_SELECTED = 200


@dataclass(frozen=True)
class Failure:
    public_number: str
    message: str


class BulkRefused(DomainError):
    """At least one selected request could not take the action; nothing changed."""

    def __init__(self, message: str, failures: list[Failure],
                 field_errors: dict[str, list[str]] | None = None):
        super().__init__(message, field_errors or {})
        self.failures = failures


def selected_tickets(session: Session, user: User, ids: list[int]) -> list[Ticket]:
    """The selected requests ``user`` may see, in one query (others are ignored).

    :raise BulkRefused: if nothing is selected or too much is.
    """
    ids = sorted(set(ids))
    if not ids:
        raise BulkRefused(_("Marca al menos una solicitud de la lista."), [])
    if len(ids) > MAX_SELECTED:
        raise BulkRefused(_("Puedes marcar hasta %(n)d solicitudes a la vez.",
                            n=MAX_SELECTED), [])
    tickets = list(session.scalars(
        visible_tickets(user).where(Ticket.id.in_(ids)).order_by(Ticket.id)
        .options(selectinload(Ticket.category), selectinload(Ticket.duplicates))))
    if not tickets:  # only requests of other departments (or none that exist)
        raise BulkRefused(_("Marca al menos una solicitud de la lista."), [])
    return tickets


def _raise_if_failed(failures: list[Failure]) -> None:
    if failures:
        raise BulkRefused(
            _("No se hizo ningún cambio: %(n)d de las solicitudes marcadas no lo permiten.",
              n=len(failures)), failures)


def change_status(session: Session, tickets: list[Ticket], to: Status, *, actor: User,
                  note: str | None, visible_to_resident: bool = True) -> int:
    """Move every ticket to ``to`` through ``lifecycle.transition``.

    Returns how many moved. Flushes, never commits.

    :raise BulkRefused: naming each request whose move is not allowed or needs
        a reason; then the caller must roll back.
    """
    failures = []
    for ticket in tickets:
        try:
            lifecycle.transition(session, ticket, to, actor=actor, note=note,
                                 visible_to_resident=visible_to_resident)
        except DomainError as error:
            failures.append(Failure(ticket.public_number, error.message))
    _raise_if_failed(failures)
    return len(tickets)


def merge_into(session: Session, tickets: list[Ticket], target_number: str, *, actor: User,
               reason: str) -> Ticket:
    """Merge every selected request (except the target) into request ``target_number``.

    Returns the survivor. Flushes, never commits.

    :raise BulkRefused: unknown target, or naming each request ``merging.merge`` refused.
    """
    number = (target_number or "").strip()
    target = session.scalar(visible_tickets(actor).where(Ticket.public_number == number))
    if target is None:
        message = _("No encontramos la solicitud N° %(n)s entre las que puedes ver.",
                    n=number or "—")
        raise BulkRefused(message, [], {"target": [message]})
    duplicates = [t for t in tickets if t.id != target.id]
    if not duplicates:
        raise BulkRefused(_("Marca otras solicitudes, además de la que se mantiene."), [])
    failures = []
    for ticket in duplicates:
        try:
            merging.merge(session, ticket, target, actor=actor, reason=reason)
        except DomainError as error:
            failures.append(Failure(ticket.public_number, error.message))
    _raise_if_failed(failures)
    return merging.survivor_of(target)


def assign_to(session: Session, tickets: list[Ticket], assignee: User | None, *,
              actor: User) -> tuple[list[Ticket], int]:
    """Give every ticket to ``assignee`` (None: leave them unassigned) with
    ``assignment.assign``, which checks that the assignee is an active member
    of each request's department.

    Requests that already have that assignee are left as they are (not a
    failure). Returns (the tickets that changed, how many were left as they
    were). Flushes, never commits.

    :raise BulkRefused: naming each request whose department the assignee is
        not an active member of; then the caller must roll back.
    """
    target_id = assignee.id if assignee is not None else None
    changed, failures = [], []
    for ticket in tickets:
        if ticket.assigned_to_id == target_id:
            continue
        try:
            assignment.assign(session, ticket, assignee, actor=actor)
        except DomainError as error:
            failures.append(Failure(ticket.public_number, error.message))
        else:
            changed.append(ticket)
    _raise_if_failed(failures)
    return changed, len(tickets) - len(changed)


def assignable_members(session: Session, user: User) -> list[tuple[User, list[str]]]:
    """Who ``user`` may hand requests to: active members of the departments whose
    requests they see, each with the names of those departments (by name)."""
    query = (sa.select(User, Department.name)
             .join(department_membership, department_membership.c.user_id == User.id)
             .join(Department, Department.id == department_membership.c.department_id)
             .where(User.active).order_by(User.name, User.id, Department.name))
    if not user.role.sees_all_departments:
        query = query.where(Department.id.in_(user.department_ids))
    members: dict[int, tuple[User, list[str]]] = {}
    for member, department_name in session.execute(query):
        members.setdefault(member.id, (member, []))[1].append(department_name)
    return list(members.values())


def parse_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            continue
    return ids

