"""The single way a request enters Conectados, whatever the channel."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.attributes import clean_values
from app.catalog.models import Category, Macrosector
from app.catalog.routing import route
from app.database import utcnow
from app.deadlines.clock import start_clock
from app.domain import ValidationFailed
from app.i18n import email_locale
from app.notifications.emails import queue_confirmation
from app.notifications.staff import notify_new_ticket
from app.tickets.assignment import auto_assign
from app.tickets.attributes import store_values
from app.tickets.contact import ResidentContact, normalize_email, normalize_rut
from app.tickets.models import (
    ActorKind,
    Channel,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
    TicketEvent,
)
from app.tickets.numbering import format_public_number, next_sequence
from app.tickets.tracking import generate_code

DESCRIPTION_MIN = 10
DESCRIPTION_MAX = 4000
ADDRESS_MAX = 300
NAME_MAX = 120
PHONE_MAX = 40
MEDIA_URL_MAX = 500
LOCAL_TZ = ZoneInfo("America/Santiago")


def submit(
    session: Session,
    *,
    category: Category | None,
    description: str,
    channel: Channel,
    contact: ResidentContact,
    consent: bool,
    address: str | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    macrosector: Macrosector | None = None,
    created_by: User | None = None,
    now: datetime | None = None,
    notify: bool = True,
    attributes: Mapping[str, object] | None = None,
    media_url: str | None = None,
    locale: str | None = None,
) -> Ticket:
    """Create a request: validate, number, route, record, and queue the confirmation.

    Flushes but never commits. ``created_by`` is the staff member entering
    the request for a resident (phone, counter). ``notify=False`` skips the
    confirmation email, for imports of past requests. ``attributes`` are the
    answers to the category's custom attributes by code (see
    ``catalog.attributes.clean_values``); None means the channel cannot ask
    them, so required ones are not enforced. ``media_url`` is an http(s) link.
    ``locale`` is the language the resident wrote in; their emails use it
    (None or unknown: Spanish).

    :raise ValidationFailed: with per-field messages when the input breaks a
        rule (unknown or inactive category, empty or over-long text, invalid
        email or RUT, no consent, anonymous where not allowed, bad coordinates,
        attribute answers that do not fit, a malformed media URL).
    """
    now = now or utcnow()
    description = (description or "").strip()
    address = (address or "").strip() or None
    media_url = (media_url or "").strip() or None
    errors: dict[str, list[str]] = {}

    if category is None or not category.active or not category.department.active:
        errors["category"] = [_("Elige una categoría de la lista.")]
    if len(description) < DESCRIPTION_MIN:
        errors["description"] = [
            _("Describe tu solicitud en al menos %(n)d caracteres.", n=DESCRIPTION_MIN)
        ]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [
            _("La descripción puede tener como máximo %(n)d caracteres.", n=DESCRIPTION_MAX)
        ]
    if address and len(address) > ADDRESS_MAX:
        errors["address"] = [
            _("La dirección puede tener como máximo %(n)d caracteres.", n=ADDRESS_MAX)
        ]
    if (latitude is None) != (longitude is None):
        errors["latitude"] = [_("Indica latitud y longitud, o ninguna de las dos.")]
    elif latitude is not None and not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        errors["latitude"] = [_("Las coordenadas no son válidas.")]
    attribute_values: dict[str, object] = {}
    if "category" not in errors:
        attribute_values, attribute_errors = clean_values(category, attributes)
        errors.update(attribute_errors)
    if media_url and (len(media_url) > MEDIA_URL_MAX
                      or not media_url.lower().startswith(("http://", "https://"))
                      or any(c.isspace() for c in media_url)):
        errors["media_url"] = [_("El enlace debe ser una dirección http(s) válida.")]
    if not consent and created_by is None:
        errors["consent"] = [
            _("Necesitamos tu autorización para usar tus datos en esta solicitud.")
        ]
    contact, contact_errors = _clean_contact(contact)
    errors.update(contact_errors)
    if category is not None and not category.allows_anonymous and not errors.get("name"):
        if not contact.name:
            errors["name"] = [_("Escribe tu nombre.")]
        if not (contact.email or contact.phone):
            errors["email"] = [
                _("Indica un correo o un teléfono para poder responderte.")
            ]
    if errors:
        raise ValidationFailed(_("Revisa los datos marcados."), errors)

    decision = route(session, category=category, description=description, address=address,
                     macrosector=macrosector, channel=channel)
    year = now.astimezone(LOCAL_TZ).year
    sequence = next_sequence(session, year)
    ticket = Ticket(
        public_number=format_public_number(year, sequence),
        year=year,
        sequence=sequence,
        tracking_code=_unused_tracking_code(session),
        channel=channel,
        status=Status.RECEIVED,
        category=category,
        department=decision.department,
        description=description,
        address=address,
        latitude=latitude,
        longitude=longitude,
        macrosector=macrosector,
        media_url=media_url,
        contact_name=contact.name,
        contact_email=contact.email,
        contact_phone=contact.phone,
        contact_rut=contact.rut,
        consent_at=now if consent else None,
        locale=email_locale(locale),
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    session.add(TicketEvent(
        ticket=ticket,
        kind=EventKind.CREATED,
        visibility=EventVisibility.PUBLIC,
        actor_kind=ActorKind.STAFF if created_by else ActorKind.RESIDENT,
        actor=created_by,
        to_status=Status.RECEIVED,
        to_department_id=decision.department.id,
        body=decision.reason,
        created_at=now,
    ))
    session.flush()
    auto_assign(session, ticket, now=now, notify=notify)  # departments that turned it on
    store_values(session, ticket, attribute_values)
    start_clock(session, ticket, now)  # due dates from the category's SLA policy
    if notify:
        queue_confirmation(session, ticket, now=now)
        notify_new_ticket(session, ticket, now=now)  # staff who want it at once
    return ticket


def _clean_contact(contact: ResidentContact) -> tuple[ResidentContact, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    name = (contact.name or "").strip() or None
    phone = (contact.phone or "").strip() or None
    email = (contact.email or "").strip() or None
    rut = (contact.rut or "").strip() or None
    if name and len(name) > NAME_MAX:
        errors["name"] = [_("El nombre puede tener como máximo %(n)d caracteres.", n=NAME_MAX)]
    if phone and (len(phone) > PHONE_MAX or sum(c.isdigit() for c in phone) < 8):
        errors["phone"] = [_("Escribe un teléfono válido, por ejemplo +56 9 1234 5678.")]
    if email:
        try:
            email = normalize_email(email)
        except ValueError:
            errors["email"] = [_("Escribe un correo válido, por ejemplo nombre@correo.cl.")]
    if rut:
        try:
            rut = normalize_rut(rut)
        except ValueError:
            errors["rut"] = [
                _("El RUT no es válido. Revisa el número y el dígito verificador.")
            ]
    return ResidentContact(name=name, email=email, phone=phone, rut=rut), errors


def _unused_tracking_code(session: Session) -> str:
    while True:
        code = generate_code()
        taken = session.scalar(sa.select(Ticket.id).where(Ticket.tracking_code == code))
        if taken is None:
            return code
