"""Tracking codes: unguessable, typed by people, with a check character.

A code is 11 random Crockford base32 characters (55 bits) and one Luhn mod 32
check character, shown as ``K7QM-2XDP-9RTA``. The check character catches
every single-character typo and almost every swap of neighbours, so a mistyped
code is rejected before any lookup. Input is forgiving: case, spaces and
hyphens are ignored, and I/L read as 1, O as 0 (Crockford's rules).
"""

from __future__ import annotations

import secrets

from stdnum import luhn
from stdnum.exceptions import ValidationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 11
CODE_LENGTH = RANDOM_LENGTH + 1
_TYPO_MAP = str.maketrans({"I": "1", "L": "1", "O": "0"})


class InvalidTrackingCode(ValueError):
    """The text cannot be a tracking code (wrong length, letters or check)."""


def generate_code() -> str:
    """Return a new normalised code (12 characters, no separators)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + luhn.calc_check_digit(body, alphabet=ALPHABET)


def normalize_code(text: str) -> str:
    """Return the canonical form of a typed code.

    :raise InvalidTrackingCode: if it has the wrong length, a character outside
        the alphabet, or a check character that does not match.
    """
    cleaned = "".join(text.split()).replace("-", "").upper().translate(_TYPO_MAP)
    if len(cleaned) != CODE_LENGTH or any(c not in ALPHABET for c in cleaned):
        raise InvalidTrackingCode(text)
    try:
        luhn.validate(cleaned, alphabet=ALPHABET)
    except ValidationError as exc:
        raise InvalidTrackingCode(text) from exc
    return cleaned


def format_code(code: str) -> str:
    """Group a normalised code in fours for display: ``K7QM-2XDP-9RTA``."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
