"""Residents of merged requests follow the request theirs was merged into."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.i18n import written_for
from app.notifications.emails import status_page_url
from app.notifications.outbox import enqueue
from app.tickets.models import EventVisibility, Ticket, TicketEvent


def queue_follower_updates(session: Session, ticket: Ticket, event: TicketEvent, *,
                           now: datetime | None = None) -> None:
    """Email the residents of requests merged into ``ticket`` its new public status.

    Only the status and the survivor's public number; never the note, which
    was written to the survivor's own resident (see ``tickets.merging``).
    """
    if event.visibility is not EventVisibility.PUBLIC or event.to_status is None:
        return
    for merged in ticket.duplicates:
        if not merged.contact_email:
            continue
        with written_for(merged.locale):  # the resident's language
            enqueue(session, recipient=merged.contact_email,
                    subject=_("Tu solicitud %(number)s: novedades", number=merged.public_number),
                    template="ticket_merged_update",
                    context={"ticket": merged, "survivor": ticket, "event": event,
                             "status_url": status_page_url(merged),
                             "municipality": current_app.config["MUNICIPALITY_NAME"]},
                    ticket_id=merged.id, now=now, locale=merged.locale)
