"""Removing a request's personal data while keeping its statistics.

What goes: the contact (name, email, phone, RUT), the attachments (rows and
stored files), the emails queued or sent about it (they hold the address and
the text), and the personal parts of free text. What stays: number, status,
category, department, macrosector, channel, every date and duration, the
survey scores, the timeline's structure (who on staff did what, when).

Free text depends on the category's visibility:

- private categories (social help, complaints about people...): the
  description, every timeline text, text attributes and the survey comment
  become ``[anonimizado]``; the address and coordinates are blanked too.
- public categories (a broken street light): the text is about the place, and
  it may be in the open data already, so it is kept with the resident's own
  contact details and anything shaped like an email, phone or RUT replaced
  (``open311.redaction``); address and coordinates stay.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit.service import record
from app.catalog.attributes import Datatype
from app.catalog.models import Visibility
from app.database import utcnow
from app.notifications.models import OutboxMessage
from app.open311.redaction import redact
from app.privacy.scrubbing import scrub
from app.surveys.models import ResolutionSurvey
from app.tickets.attachments import storage
from app.tickets.attributes import TicketAttributeValue
from app.tickets.models import ActorKind, EventKind, EventVisibility, Ticket, TicketEvent

PLACEHOLDER = "[anonimizado]"

# Other features with personal data about a request register a function here,
# called as ``fn(session, ticket)`` before the contact is blanked (e.g. the
# email intake's ``forget_inbound_messages``).
ANONYMISERS: list[Callable[[Session, Ticket], None]] = []

_DELETE_ON_COMMIT = "privacy.delete_on_commit"


def anonymise_ticket(session: Session, ticket: Ticket, *, reason: str,
                     actor: User | None = None, now: datetime | None = None,
                     ip: str | None = None, verification: str | None = None) -> bool:
    """Remove ``ticket``'s personal data (see the module docstring); flush, no commit.

    ``reason`` is a short code kept in the event and the audit entry
    ("retention" or "subject_request"); ``verification``, the staff note of
    how the person's identity was checked, goes into the audit entry with
    anything shaped like an email, phone or RUT masked. Returns False (and changes nothing)
    if the request was anonymised already. Stored files are deleted only
    after the transaction commits.
    """
    if ticket.anonymised_at is not None:
        return False
    now = now or utcnow()
    private = ticket.category.visibility is Visibility.PRIVATE

    def clean(text: str | None) -> str | None:
        if not text:
            return text
        return PLACEHOLDER if private else redact(text, ticket)

    for anonymiser in ANONYMISERS:
        anonymiser(session, ticket)

    ticket.description = clean(ticket.description) or PLACEHOLDER
    for event in ticket.events:
        event.body = clean(event.body)
    for value in session.scalars(sa.select(TicketAttributeValue)
                                 .where(TicketAttributeValue.ticket_id == ticket.id)):
        if value.attribute.datatype in (Datatype.STRING, Datatype.TEXT) and value.value:
            value.value = clean(str(value.value))
    for survey in session.scalars(sa.select(ResolutionSurvey)
                                  .where(ResolutionSurvey.ticket_id == ticket.id)):
        survey.comment = clean(survey.comment)
    if private:
        ticket.address = None
        ticket.latitude = ticket.longitude = None
        ticket.media_url = None

    files = [a.storage_key for a in list(ticket.attachments)]
    for attachment in list(ticket.attachments):
        ticket.attachments.remove(attachment)  # delete-orphan: the row goes
    if files:
        _delete_files_after_commit(session, files)
    outbox = session.execute(sa.delete(OutboxMessage)
                             .where(OutboxMessage.ticket_id == ticket.id)).rowcount

    ticket.contact_name = ticket.contact_email = None
    ticket.contact_phone = ticket.contact_rut = None
    ticket.anonymised_at = now
    session.add(TicketEvent(
        ticket=ticket, kind=EventKind.ANONYMISED, visibility=EventVisibility.INTERNAL,
        actor_kind=ActorKind.STAFF if actor is not None else ActorKind.SYSTEM, actor=actor,
        body=(_("Datos personales eliminados por plazo de conservación.")
              if reason == "retention"
              else _("Datos personales eliminados a solicitud del titular.")),
        created_at=now))
    details = {"reason": reason, "private_category": private,
               "attachments_deleted": len(files), "emails_deleted": outbox}
    if verification:
        details["verification"] = scrub(verification.strip())[:1000]
    record(session, actor=actor, action="privacy.erase", target_type="ticket",
           target_id=ticket.id, ip=ip, now=now, details=details)
    session.flush()
    return True


def _delete_files_after_commit(session: Session, keys: list[str]) -> None:
    """Delete the stored files once the rows' deletion is committed (never before)."""
    real = session() if isinstance(session, sa.orm.scoped_session) else session
    if not sa.event.contains(real, "after_commit", _delete_pending):
        sa.event.listen(real, "after_commit", _delete_pending)
        sa.event.listen(real, "after_rollback", _forget_pending)
    real.info.setdefault(_DELETE_ON_COMMIT, []).extend((storage(), k) for k in keys)


def _delete_pending(session: Session) -> None:
    for store, key in session.info.pop(_DELETE_ON_COMMIT, []):
        store.delete(key)


def _forget_pending(session: Session) -> None:
    session.info.pop(_DELETE_ON_COMMIT, None)
