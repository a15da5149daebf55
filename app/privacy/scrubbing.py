"""Masking what looks like personal data in free text and in log lines.

Kept free of app imports so that low-level modules (the outbox) can use it.
"""

from __future__ import annotations

import re

MASK = "[dato oculto]"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
RUT = re.compile(r"\b\d{1,2}\.?\d{3}\.?\d{3}\s*-\s*[\dkK]\b")
PHONE = re.compile(r"(?<![\w])\+?\d(?:[\s().-]*\d){7,}")


def scrub(text: str | None) -> str | None:
    """``text`` with anything shaped like an email, a RUT or a phone replaced by ``MASK``."""
    if not text:
        return text
    for pattern in (EMAIL, RUT, PHONE):
        text = pattern.sub(MASK, text)
    return text
