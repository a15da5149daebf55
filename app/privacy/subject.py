"""A resident's rights, exercised through staff: find, export, erase.

Residents have no accounts, so staff identify them (by email, phone or RUT)
and verify the person asking is them before exporting or erasing. Only
managers and admins may do it (``may_handle``): they already see every
department, so the search reveals nothing they could not see; an agent of
one department cannot use it to look into others.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.domain import ValidationFailed
from app.i18n import DEFAULT_LOCALE, LOCALES
from app.privacy.anonymisation import anonymise_ticket
from app.tickets.attributes import display_value
from app.tickets.lookup import LookupResult, find_by_contact
from app.tickets.models import Ticket

HANDLERS = frozenset({Role.MANAGER, Role.ADMIN})
NOTE_MIN = 15


def may_handle(user: User) -> bool:
    return user.is_authenticated and user.role in HANDLERS


def find_subject(session: Session, user: User, query: str) -> LookupResult:
    """Every request (no limit) whose contact email, phone or RUT matches ``query``.

    :raise ValidationFailed: (field ``buscar``) for text that is none of those.
    """
    return find_by_contact(session, user, query, limit=None)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def ticket_export(ticket: Ticket) -> dict:
    """Everything the municipality holds about the resident in one request.

    Internal notes and staff names are left out: they are the municipality's
    working papers, not the resident's data (their facts, e.g. status
    changes, are in the public timeline).
    """
    survey = ticket.resolution_survey
    return {
        "numero": ticket.public_number,
        "codigo_seguimiento": ticket.formatted_tracking_code,
        "canal": ticket.channel.label,
        "categoria": ticket.category.name,
        "departamento": ticket.department.name,
        "estado": ticket.status.label,
        "descripcion": ticket.description,
        "direccion": ticket.address,
        "latitud": str(ticket.latitude) if ticket.latitude is not None else None,
        "longitud": str(ticket.longitude) if ticket.longitude is not None else None,
        "enlace_multimedia": ticket.media_url,
        "contacto": {
            "nombre": ticket.contact_name, "correo": ticket.contact_email,
            "telefono": ticket.contact_phone, "rut": ticket.contact_rut,
        },
        "consentimiento": _iso(ticket.consent_at),
        "idioma_de_los_correos": LOCALES.get(ticket.locale, LOCALES[DEFAULT_LOCALE])[0],
        "creada": _iso(ticket.created_at),
        "resuelta": _iso(ticket.resolved_at),
        "cerrada": _iso(ticket.closed_at),
        "anonimizada": _iso(ticket.anonymised_at),
        "datos_adicionales": [
            {"campo": v.attribute.description, "valor": display_value(v.attribute, v.value)}
            for v in sorted(ticket.attribute_values, key=lambda v: v.attribute.order)],
        "adjuntos": [{"nombre": a.filename, "tipo": a.content_type, "publico": a.public,
                      "fecha": _iso(a.created_at)} for a in ticket.attachments],
        "historial": [
            {"fecha": _iso(e.created_at), "tipo": e.kind.value,
             "estado": e.to_status.label if e.to_status else None, "texto": e.body}
            for e in ticket.public_events],
        "encuesta_satisfaccion": _survey_export(survey),
    }


def _survey_export(survey) -> dict | None:
    if survey is None or survey.responded_at is None:
        return None
    return {
        "respondida": _iso(survey.responded_at),
        "resuelta": survey.resolved_answer.label if survey.resolved_answer else None,
        "nota": survey.rating, "amabilidad": survey.courtesy_rating,
        "tiempo": survey.time_rating, "comentario": survey.comment,
        "pidio_reabrir": survey.reopen_requested,
    }


def subject_export(result: LookupResult, *, now: datetime) -> dict:
    return {
        "generado": now.isoformat(),
        "busqueda": {"tipo": result.kind, "valor": result.value},
        "solicitudes": [ticket_export(t) for t in result.tickets],
    }


def erase_subject(session: Session, result: LookupResult, *, actor: User, verification: str,
                  confirmed: bool, now: datetime, ip: str | None = None) -> int:
    """Anonymise every request of the person found, on their verified request.

    ``verification`` is the staff member's note of how the person proved who
    they are; it is required, and kept in each audit entry with emails,
    phones and RUTs masked.

    :raise ValidationFailed: without a note of at least ``NOTE_MIN``
        characters, without the confirmation, or when nothing was found.
    """
    errors: dict[str, list[str]] = {}
    if len((verification or "").strip()) < NOTE_MIN:
        errors["verificacion"] = [_("Describe cómo verificaste la identidad de la persona "
                                    "(al menos %(n)d caracteres).", n=NOTE_MIN)]
    if not confirmed:
        errors["confirmar"] = [_("Confirma que quieres anonimizar estas solicitudes.")]
    if not result.tickets:
        errors["buscar"] = [_("No hay solicitudes que anonimizar.")]
    if errors:
        raise ValidationFailed(_("Revisa el formulario."), errors)
    done = 0
    for ticket in result.tickets:
        if anonymise_ticket(session, ticket, reason="subject_request", actor=actor, now=now,
                            ip=ip, verification=verification):
            done += 1
    return done
