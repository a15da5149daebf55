"""Merging a duplicate request into the one that survives.

Privacy: the two requests usually belong to two residents. The merged
resident is told the survivor's *public number* (it reveals nothing personal)
but never its tracking code, contact data or the words staff wrote to the
other resident. They keep following on their own status page (their own
code), which shows the survivor's current status and the dates and statuses
of its public moves, without the text of replies and notes; and each later
public status move of the survivor emails them the new status
(``tickets.followers``, called by ``lifecycle.transition``).
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.database import utcnow
from app.domain import DomainError
from app.i18n import stored_text
from app.tickets import lifecycle
from app.tickets.access import can_see
from app.tickets.models import (
    ActorKind,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
    TicketEvent,
)

REASON_MAX = 4000


class MergeRefused(DomainError):
    """The merge breaks a rule; the message says which."""


def survivor_of(ticket: Ticket) -> Ticket:
    """Follow ``duplicate_of`` to the request that is not itself merged."""
    seen = {ticket.id}
    while ticket.duplicate_of is not None:
        ticket = ticket.duplicate_of
        if ticket.id in seen:  # cannot happen through merge(); never loop forever
            break
        seen.add(ticket.id)
    return ticket


def _refuse(message: str, field: str = "target") -> None:
    raise MergeRefused(message, {field: [message]})


def merge(session: Session, duplicate: Ticket, into: Ticket, *, actor: User,
          reason: str, now: datetime | None = None) -> Ticket:
    """Merge ``duplicate`` into ``into`` (or into its survivor, if it was merged).

    The duplicate moves to ``duplicate`` through ``lifecycle.transition`` with
    a public note naming the survivor's public number (emailed to its
    resident), ``duplicate_of`` points to the survivor, and both timelines get
    a ``merged`` event naming the other request (internal, with ``reason``).
    Returns the survivor. Flushes but never commits.

    :raise MergeRefused: merging a request into itself (also through a chain),
        into a request of another category, into one that is not open, into
        one ``actor`` may not see, with an empty reason, or when the duplicate
        can no longer move to ``duplicate`` (resolved or final).
    """
    now = now or utcnow()
    reason = (reason or "").strip()
    target = survivor_of(into)
    if target.id == duplicate.id:
        _refuse(_("Una solicitud no se puede unir consigo misma."))
    if not can_see(actor, target) or not can_see(actor, duplicate):
        _refuse(_("No encontramos esa solicitud entre las que puedes ver."))
    if target.category_id != duplicate.category_id:
        _refuse(_("Solo se pueden unir solicitudes de la misma categoría. La N° %(n)s es "
                  "de «%(c)s»; si es el mismo problema, cambia primero la categoría.",
                  n=target.public_number, c=target.category.name))
    if not target.status.is_open:
        _refuse(_("La N° %(n)s está «%(s)s»: solo se puede unir a una solicitud abierta.",
                  n=target.public_number, s=target.status.label))
    if not lifecycle.can_move(duplicate.status, Status.DUPLICATE):
        _refuse(_("Esta solicitud está «%(s)s» y ya no se puede marcar como duplicada.",
                  s=duplicate.status.label))
    if not reason:
        _refuse(_("Escribe por qué es el mismo problema."), "reason")
    if len(reason) > REASON_MAX:
        _refuse(_("El motivo puede tener como máximo %(n)d caracteres.", n=REASON_MAX),
                "reason")

    duplicate.duplicate_of = target
    for earlier in list(duplicate.duplicates):  # requests merged into this one follow too
        earlier.duplicate_of = target
    with stored_text():
        public_note = _(
            "Tu solicitud trata el mismo problema que la N° %(n)s, así que la atenderemos "
            "junto con ella. Sigue su avance en esta misma página, con tu mismo código de "
            "seguimiento.", n=target.public_number)
        notes = ((duplicate, target, _("Unida a la N° %(n)s. Motivo: %(r)s")),
                 (target, duplicate, _("Se unió la N° %(n)s como duplicada. Motivo: %(r)s")))
    lifecycle.transition(session, duplicate, Status.DUPLICATE, actor=actor, note=public_note,
                         now=now)
    for ticket, other, text in notes:
        session.add(TicketEvent(
            ticket=ticket, kind=EventKind.MERGED, visibility=EventVisibility.INTERNAL,
            actor_kind=ActorKind.STAFF, actor=actor,
            body=text % {"n": other.public_number, "r": reason}, created_at=now))
    target.updated_at = now
    session.flush()
    return target


def followed_events(ticket: Ticket) -> list[TicketEvent]:
    """The survivor's public status moves a merged request's resident may see."""
    survivor = survivor_of(ticket)
    if survivor is ticket:
        return []
    return [e for e in survivor.public_events
            if e.kind in (EventKind.CREATED, EventKind.STATUS_CHANGED)]
