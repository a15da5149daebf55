"""How survey figures are written on pages (Spanish number format)."""

from __future__ import annotations

from flask_babel import format_decimal


def average(value: float | None) -> str:
    """An average with one decimal (``4,2``), or a dash when there is none."""
    return "—" if value is None else format_decimal(value, "0.0")


def percentage(value: float | None) -> str:
    """A percentage with at most one decimal (``37,5 %``), or a dash."""
    return "—" if value is None else f"{format_decimal(value, '0.#')} %"
