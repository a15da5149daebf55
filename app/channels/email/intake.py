"""Turn one received email into a request, a reply on a request, or a kept record.

``ingest_message`` is the one service for both the IMAP poller and the raw
RFC 822 pipe. Every message gets an ``InboundEmail`` row with its raw bytes,
whatever happens to it, so nothing is lost:

- a message whose key (Message-ID, or a digest of the bytes) is already
  recorded is a *duplicate*: nothing new happens;
- unreadable bytes are kept as *malformed*, with the reason;
- auto-replies, list mail and bounces are *ignored*: no request, no answer;
- a sender over ``EMAIL_MAX_PER_SENDER_PER_HOUR`` is *throttled* (kept, unanswered);
- a message carrying the tracking code of a request *of the same sender* is
  *appended* to that request's timeline (reopening it if resolved);
- anything else *creates* a request through ``tickets.intake.submit`` and the
  confirmation is threaded to the resident's message; if intake refuses the
  content (e.g. too short), it is kept as *rejected* with intake's messages.

Consent: a resident who writes to the municipality's mailbox gives their
address and words for that purpose, so email intake records consent as given
by sending (``consent_at`` = the time the message was received).

Services flush, never commit; the poller and the CLI commit once per message.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import getaddresses

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.catalog.models import Category
from app.channels.email.models import InboundEmail, InboundSource, InboundStatus
from app.channels.email.parser import (
    MalformedEmail,
    ParsedAttachment,
    ParsedEmail,
    parse_message,
)
from app.database import utcnow
from app.domain import DomainError, ValidationFailed
from app.i18n import written_for
from app.notifications.emails import queue_confirmation, status_page_url
from app.notifications.outbox import enqueue
from app.privacy.anonymisation import ANONYMISERS
from app.tickets import intake, timeline
from app.tickets.attachments import add_attachment
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Status, Ticket

log = logging.getLogger(__name__)

FLOOD_WINDOW = timedelta(hours=1)
# What counts against a sender's hourly limit: messages that made us do work.
_COUNTED = (InboundStatus.CREATED, InboundStatus.APPENDED, InboundStatus.REJECTED)
_FINAL = frozenset({Status.CLOSED, Status.REFERRED, Status.DUPLICATE})
REFERENCES_MAX = 10


class EmailIntakeNotConfigured(DomainError):
    """The settings cannot run email intake (missing or unknown category…)."""


@dataclass(frozen=True)
class IntakeSettings:
    category: Category  # for new requests (routing rules may still move them)
    max_per_sender_per_hour: int
    own_addresses: frozenset[str]  # our own sender addresses: never a request
    # Where residents write (EMAIL_INTAKE_ADDRESS, else IMAP_USER if an address):
    # our answers carry it as Reply-To, so a reply comes back to the intake.
    reply_to: str | None = None


@dataclass(frozen=True)
class IngestOutcome:
    status: InboundStatus
    inbound: InboundEmail  # for a duplicate: the row recorded the first time
    ticket: Ticket | None = None

    @property
    def reason(self) -> str | None:
        return self.inbound.reason


def load_settings(session: Session, config: Mapping[str, object]) -> IntakeSettings:
    """Read and check the intake settings.

    :raise EmailIntakeNotConfigured: if ``EMAIL_DEFAULT_CATEGORY`` is unset or
        names no active category of an active department, or the hourly limit
        is below 1.
    """
    slug = str(config.get("EMAIL_DEFAULT_CATEGORY") or "").strip()
    if not slug:
        raise EmailIntakeNotConfigured(_(
            "Falta EMAIL_DEFAULT_CATEGORY: indica el identificador (slug) de la "
            "categoría para las solicitudes que llegan por correo."))
    category = session.scalar(sa.select(Category).where(Category.slug == slug))
    if category is None or not category.active or not category.department.active:
        raise EmailIntakeNotConfigured(_(
            "EMAIL_DEFAULT_CATEGORY=%(slug)s no corresponde a una categoría activa.",
            slug=slug))
    limit = int(config.get("EMAIL_MAX_PER_SENDER_PER_HOUR") or 0)
    if limit < 1:
        raise EmailIntakeNotConfigured(_(
            "EMAIL_MAX_PER_SENDER_PER_HOUR debe ser un número mayor que cero."))
    own = {addr.lower() for _name, addr in
           getaddresses([str(config.get("MAIL_DEFAULT_SENDER") or "")]) if "@" in addr}
    reply_to = str(config.get("EMAIL_INTAKE_ADDRESS") or "").strip()
    if not reply_to and "@" in str(config.get("IMAP_USER") or ""):
        reply_to = str(config["IMAP_USER"]).strip()
    if reply_to and ("@" not in reply_to or any(c in reply_to for c in "\r\n<>,; ")):
        raise EmailIntakeNotConfigured(_(
            "EMAIL_INTAKE_ADDRESS debe ser una dirección de correo (sin nombre)."))
    if reply_to:
        own.add(reply_to.lower())  # the intake mailbox writing to itself is a loop
    return IntakeSettings(category=category, max_per_sender_per_hour=limit,
                          own_addresses=frozenset(own), reply_to=reply_to or None)


def message_key(raw: bytes, message_id: str | None) -> str:
    """The idempotency key: the Message-ID, or a digest of the bytes without one."""
    if message_id:
        return message_id
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def ingest_message(session: Session, raw: bytes, *, settings: IntakeSettings,
                   source: InboundSource, now: datetime | None = None) -> IngestOutcome:
    """Record one received email and act on it (see the module docstring).

    Never raises for bad input: every refusal is an outcome with a reason.
    Flushes but never commits.
    """
    now = now or utcnow()
    try:
        parsed: ParsedEmail | None = parse_message(raw)
        error: MalformedEmail | None = None
        message_id = parsed.message_id
    except MalformedEmail as exc:
        parsed, error, message_id = None, exc, exc.message_id
    key = message_key(raw, message_id)
    existing = session.scalar(sa.select(InboundEmail).where(InboundEmail.message_key == key))
    if existing is not None:
        log.info("email %s already received (inbound %s): nothing to do", key, existing.id)
        return IngestOutcome(InboundStatus.DUPLICATE, existing, existing.ticket)

    record = InboundEmail(message_key=key, raw=raw, source=source, received_at=now,
                          attachment_count=0)
    ticket: Ticket | None = None
    if parsed is None:
        if error is None:
            raise RuntimeError("parse_message returned neither a message nor an error")
        record.sender, record.subject = error.sender, error.subject
        record.status, record.reason = InboundStatus.MALFORMED, error.reason
    else:
        record.sender, record.subject = parsed.sender, parsed.subject or None
        record.attachment_count = len(parsed.attachments)
        record.attachment_names = [a.filename for a in parsed.attachments] or None
        ticket = _act(session, parsed, record, settings=settings, now=now)
    session.add(record)
    record.ticket = ticket
    session.flush()
    log.info("email %s from %s: %s%s", key, record.sender, record.status.value,
             f" ({record.reason})" if record.reason else "")
    return IngestOutcome(record.status, record, ticket)


def _act(session: Session, parsed: ParsedEmail, record: InboundEmail, *,
         settings: IntakeSettings, now: datetime) -> Ticket | None:
    """Decide and do what the message asks; set ``record.status``/``reason``."""
    if parsed.automated:
        record.status = InboundStatus.IGNORED
        record.reason = _("Correo automático (%(why)s): no crea solicitud ni recibe respuesta.",
                          why=parsed.kind_reason)
        return None
    if parsed.sender is None:  # the parser guarantees a sender for personal mail
        raise RuntimeError("personal mail parsed without a sender")
    if parsed.sender in settings.own_addresses:
        record.status = InboundStatus.IGNORED
        record.reason = _("Enviado por la propia plataforma: no se responde (evita bucles).")
        return None
    if _recent_count(session, parsed.sender, now) >= settings.max_per_sender_per_hour:
        record.status = InboundStatus.THROTTLED
        record.reason = _(
            "El remitente superó %(n)d correos por hora: se guarda sin procesar ni responder.",
            n=settings.max_per_sender_per_hour)
        return None

    ticket, mismatch = _replied_ticket(session, parsed)
    if ticket is not None:
        return _append(session, parsed, ticket, record, reply_to=settings.reply_to, now=now)
    try:
        ticket = _create(session, parsed, settings=settings, now=now)
    except ValidationFailed as exc:
        record.status = InboundStatus.REJECTED
        details = "; ".join(f"{field}: {' '.join(messages)}"
                            for field, messages in exc.field_errors.items())
        record.reason = f"{exc.message} {details}".strip()
        return None
    record.status = InboundStatus.CREATED
    if mismatch:
        record.reason = _("Traía el código de la solicitud %(number)s, pero de otro remitente: "
                          "se creó una solicitud nueva.", number=mismatch.public_number)
    _store_attachments(session, ticket, parsed.attachments, record, now=now)
    return ticket


def _recent_count(session: Session, sender: str, now: datetime) -> int:
    return session.scalar(
        sa.select(sa.func.count(InboundEmail.id)).where(
            InboundEmail.sender == sender,
            InboundEmail.received_at > now - FLOOD_WINDOW,
            InboundEmail.status.in_(_COUNTED),
        )) or 0


def _replied_ticket(session: Session, parsed: ParsedEmail) -> tuple[Ticket | None,
                                                                     Ticket | None]:
    """The request this message replies to, by tracking code, if the sender is its contact.

    Returns ``(ticket, None)`` on a match, or ``(None, other)`` where ``other``
    is a request whose code was written by someone else (privacy: never
    append to another person's request).
    """
    mismatch = None
    for code in parsed.tracking_codes():
        ticket = session.scalar(sa.select(Ticket).where(Ticket.tracking_code == code))
        if ticket is None:
            continue
        if ticket.contact_email and ticket.contact_email.casefold() == parsed.sender.casefold():
            return ticket, None
        mismatch = mismatch or ticket
    return None, mismatch


def _append(session: Session, parsed: ParsedEmail, ticket: Ticket, record: InboundEmail, *,
            reply_to: str | None, now: datetime) -> Ticket:
    body = _fit(parsed.text, timeline.MESSAGE_MAX) or _(
        "(El vecino/a respondió por correo sin texto; %(n)d adjunto(s).)",
        n=len(parsed.attachments))
    was_final = ticket.status in _FINAL
    timeline.add_resident_message(session, ticket, body=body, now=now)
    record.status = InboundStatus.APPENDED
    if was_final:
        record.reason = _("La solicitud está en estado final; se agregó el mensaje y se "
                          "pidió al vecino/a ingresar una solicitud nueva.")
        with written_for(ticket.locale):  # the resident's language
            enqueue(session, recipient=ticket.contact_email,
                    subject=_("Tu solicitud %(number)s ya está cerrada",
                              number=ticket.public_number),
                    template="ticket_email_closed",
                    context={"ticket": ticket, "status_url": status_page_url(ticket),
                             "municipality": _municipality()},
                    ticket_id=ticket.id, now=now, headers=reply_headers(parsed, reply_to),
                    locale=ticket.locale)
    _store_attachments(session, ticket, parsed.attachments, record, now=now)
    return ticket


def _create(session: Session, parsed: ParsedEmail, *, settings: IntakeSettings,
            now: datetime) -> Ticket:
    text = parsed.text
    if parsed.subject and parsed.subject not in text:
        text = f"{parsed.subject}\n\n{text}".strip()
    ticket = intake.submit(
        session, category=settings.category, description=_fit(text, intake.DESCRIPTION_MAX),
        channel=Channel.EMAIL, contact=ResidentContact(name=parsed.name, email=parsed.sender),
        consent=True,  # given by writing to us (see the module docstring)
        attributes=None,  # email cannot ask the category's questions
        now=now, notify=False,  # the confirmation below is threaded to their message
    )
    queue_confirmation(session, ticket, now=now,
                       headers=reply_headers(parsed, settings.reply_to))
    return ticket


def _store_attachments(session: Session, ticket: Ticket,
                       attachments: tuple[ParsedAttachment, ...], record: InboundEmail, *,
                       now: datetime) -> None:
    """Attach the email's files to ``ticket`` through ``tickets.attachments``.

    Files are public (shown on the resident's own status page), as on the web
    form. A file the attachment rules refuse (type, size, count) is skipped and
    named in ``record.reason``; its bytes stay in the kept raw message, so
    nothing is lost and the request is still created.
    """
    refused = []
    for attachment in attachments:
        try:
            add_attachment(session, ticket, filename=attachment.filename,
                           data=attachment.data, public=True, channel=Channel.EMAIL, now=now)
        except ValidationFailed as exc:
            refused.append(_("Adjunto «%(name)s» no guardado: %(why)s",
                             name=attachment.filename or "sin nombre", why=exc.message))
    if refused:
        record.reason = " ".join(filter(None, [record.reason, *refused]))


def reply_headers(parsed: ParsedEmail, reply_to: str | None = None) -> dict[str, str]:
    """Headers that thread our answer to the resident's message (RFC 5322 §3.6.4).

    Also ``Auto-Submitted: auto-replied`` (RFC 3834), so the resident's own
    auto-responder does not answer our confirmation, and ``Reply-To`` the
    intake address, so answering our email reaches the intake, not the
    no-reply sender.
    """
    headers = {"Auto-Submitted": "auto-replied"}
    if reply_to:
        headers["Reply-To"] = reply_to
    if parsed.message_id:
        references = [r for r in parsed.references if r != parsed.message_id]
        references = references[-(REFERENCES_MAX - 1):] + [parsed.message_id]
        headers["In-Reply-To"] = parsed.message_id
        headers["References"] = " ".join(references)
    return headers


def _fit(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    note = "\n\n" + _("[Texto recortado; el correo completo queda guardado.]")
    return text[:limit - len(note)].rstrip() + note


def _municipality() -> str:
    return current_app.config["MUNICIPALITY_NAME"]


def forget_inbound_messages(session: Session, ticket: Ticket) -> None:
    """Drop the personal data of the emails that made or joined ``ticket``.

    Called by ``privacy.anonymisation`` (retention, erasure). The raw message,
    sender, subject and file names go; the Message-ID key and the outcome stay,
    so a re-delivered message is still recognised and never becomes a new
    request.
    """
    session.execute(sa.update(InboundEmail).where(InboundEmail.ticket_id == ticket.id).values(
        raw=b"", sender=None, subject=None, attachment_names=None, reason=None))


ANONYMISERS.append(forget_inbound_messages)
