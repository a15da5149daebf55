"""Finding a resident's earlier requests by email, phone or RUT (for staff)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from app.accounts.models import User
from app.domain import ValidationFailed
from app.tickets.access import visible_tickets
from app.tickets.contact import normalize_email, normalize_rut
from app.tickets.models import Ticket

RESULT_LIMIT = 50
PHONE_DIGITS = 8  # Chilean numbers: the last 8 digits identify a line
# Looks like a RUT (12.345.678-5, 12345678-K): never searched as a phone.
_RUT_SHAPE = re.compile(r"^\s*\d{1,2}\.?\d{3}\.?\d{3}\s*-\s*[\dkK]\s*$")


@dataclass(frozen=True)
class LookupResult:
    kind: str  # "email", "rut" or "phone"
    value: str  # the normalised value searched
    tickets: list[Ticket]


def _digits_of(column):
    """SQL: the column with the usual phone punctuation removed (portable replace())."""
    expr = column
    for char in (" ", "-", "+", "(", ")", "."):
        expr = sa.func.replace(expr, char, "")
    return expr


def find_by_contact(session: Session, user: User, query: str, *,
                    limit: int | None = RESULT_LIMIT) -> LookupResult:
    """Requests ``user`` may see whose contact email, RUT or phone matches ``query``.

    An address with ``@`` is an email (compared normalised); a valid RUT is
    compared as ``12345678-5``; otherwise at least 8 digits are a phone,
    matched on its last 8 digits whatever the spaces, ``+56`` or hyphens.
    Newest first, at most ``limit`` (None: all, for a privacy export). Only reads.

    :raise ValidationFailed: (field ``buscar``) if the text is none of those.
    """
    query = (query or "").strip()
    base = visible_tickets(user).options(selectinload(Ticket.category))
    if "@" in query:
        try:
            value = normalize_email(query)
        except ValueError:
            _refuse(_("Ese correo no es válido."))
        condition = sa.func.lower(Ticket.contact_email) == value.lower()
        kind = "email"
    else:
        try:
            value = normalize_rut(query)
            condition = Ticket.contact_rut == value
            kind = "rut"
        except ValueError:
            if _RUT_SHAPE.match(query):
                _refuse(_("El RUT no es válido. Revisa el número y el dígito verificador."))
            digits = re.sub(r"\D", "", query)
            if len(digits) < PHONE_DIGITS or re.search(r"[^\d\s()+.-]", query):
                _refuse(_("Escribe un correo, un teléfono (al menos 8 dígitos) o un RUT "
                          "válido con su dígito verificador."))
            value = digits
            condition = _digits_of(Ticket.contact_phone).like(f"%{digits[-PHONE_DIGITS:]}")
            kind = "phone"
    tickets = session.scalars(base.where(condition)
                              .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                              .limit(limit)).all()
    return LookupResult(kind=kind, value=value, tickets=list(tickets))


def _refuse(message: str):
    raise ValidationFailed(message, {"buscar": [message]})
