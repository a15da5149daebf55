"""The resident's contact details, validated the same way for every channel."""

from __future__ import annotations

from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from stdnum.cl import rut as cl_rut
from stdnum.exceptions import ValidationError


@dataclass(frozen=True)
class ResidentContact:
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    rut: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return not (self.name or self.email or self.phone or self.rut)


def normalize_rut(value: str) -> str:
    """Return a RUT as ``12345678-5`` (no dots, upper-case K).

    :raise ValueError: if it is malformed or its check digit is wrong.
    """
    try:
        compact = cl_rut.validate(value)
    except ValidationError as exc:
        raise ValueError(str(exc)) from exc
    return f"{compact[:-1]}-{compact[-1]}"


def normalize_email(value: str) -> str:
    """Return the address with its domain normalised.

    No DNS lookup is made, so validation works offline.

    :raise ValueError: if the address is not valid.
    """
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


def has_contact(ticket) -> bool:
    """Whether ``ticket`` still holds any contact data (none once anonymised)."""
    return any((ticket.contact_name, ticket.contact_email, ticket.contact_phone,
                ticket.contact_rut))
