"""The emails a resident receives about their request, queued in the outbox.

Each is written in the language the resident filed the request in
(``Ticket.locale``).
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.i18n import written_for
from app.notifications.outbox import enqueue
from app.tickets.models import Ticket, TicketEvent


def status_page_url(ticket: Ticket) -> str:
    """Absolute link to the resident's status page for this request."""
    base = current_app.config["PUBLIC_BASE_URL"]
    return f"{base}/seguimiento/{ticket.formatted_tracking_code}"


def _queue_for_resident(session: Session, ticket: Ticket, *, subject: str,
                        template: str, now: datetime | None,
                        event: TicketEvent | None = None,
                        headers: dict[str, str] | None = None) -> None:
    if not ticket.contact_email:
        return
    enqueue(
        session,
        recipient=ticket.contact_email,
        subject=subject,
        template=template,
        context={
            "ticket": ticket,
            "event": event,
            "status_url": status_page_url(ticket),
            "municipality": current_app.config["MUNICIPALITY_NAME"],
        },
        ticket_id=ticket.id,
        now=now,
        headers=headers,
        locale=ticket.locale,
    )


def queue_confirmation(session: Session, ticket: Ticket, now: datetime | None = None,
                       headers: dict[str, str] | None = None) -> None:
    """Queue the 'we received your request' email with the tracking code.

    ``headers``: e.g. ``In-Reply-To``/``References`` when answering an email.
    """
    with written_for(ticket.locale):
        _queue_for_resident(
            session, ticket, now=now, template="ticket_received", headers=headers,
            subject=_("Recibimos tu solicitud %(number)s", number=ticket.public_number),
        )


def queue_status_change(session: Session, ticket: Ticket, event: TicketEvent,
                        now: datetime | None = None) -> None:
    """Queue the email telling the resident their request changed status."""
    with written_for(ticket.locale):
        _queue_for_resident(
            session, ticket, now=now, event=event, template="ticket_status_changed",
            subject=_("Tu solicitud %(number)s: %(status)s",
                      number=ticket.public_number, status=ticket.status.label),
        )


def queue_public_reply(session: Session, ticket: Ticket, event: TicketEvent,
                       now: datetime | None = None) -> None:
    """Queue the email carrying a staff reply to the resident."""
    with written_for(ticket.locale):
        _queue_for_resident(
            session, ticket, now=now, event=event, template="ticket_public_reply",
            subject=_("Respuesta a tu solicitud %(number)s", number=ticket.public_number),
        )
