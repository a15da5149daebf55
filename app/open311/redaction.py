"""Blank out personal data in a request's free text before it is published.

Open311 listings are public, and residents sometimes write their phone,
email or RUT into the description. ``redact`` removes the request's own
contact details wherever they appear (name words included) and anything that
looks like an email address, a phone number (8+ digits) or a RUT. It cannot
recognise other people's names; ``OPEN311_PUBLISH_DESCRIPTIONS=0`` withholds
descriptions altogether.
"""

from __future__ import annotations

import re

from app.privacy.scrubbing import MASK, scrub  # one definition of the patterns
from app.tickets.models import Ticket


def _known_values(ticket: Ticket) -> list[str]:
    values = []
    if ticket.contact_name:
        values.append(ticket.contact_name)
        values.extend(w for w in re.split(r"\s+", ticket.contact_name) if len(w) >= 3)
    for value in (ticket.contact_email, ticket.contact_phone, ticket.contact_rut):
        if value:
            values.append(value)
    return sorted(set(values), key=len, reverse=True)


def redact(text: str, ticket: Ticket) -> str:
    """``text`` with personal data replaced by ``MASK``."""
    for value in _known_values(ticket):
        text = re.sub(r"(?<!\w)" + re.escape(value) + r"(?!\w)", MASK, text,
                      flags=re.IGNORECASE)
    return scrub(text)

