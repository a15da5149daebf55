"""Admins' edits to the municipal calendar: extra closures and working days."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.deadlines.models import HolidayOverride, OverrideKind
from app.domain import ValidationFailed

NAME_MAX = 120


def parse_day(text: str | None) -> date | None:
    """``24-12-2026`` (the Chilean order) or ISO ``2026-12-24``; None if unreadable."""
    text = (text or "").strip().replace("/", "-")
    for order in ("%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, order).date()
        except ValueError:
            continue
    return None


def add_override(session: Session, *, day_text: str | None, name: str | None,
                 kind: str | None, actor: User | None) -> HolidayOverride:
    """Record a closure or a working-day override for one date.

    :raise ValidationFailed: for an unreadable date, an empty or over-long
        name, an unknown kind, or a date that already has an override.
    """
    errors: dict[str, list[str]] = {}
    day = parse_day(day_text)
    if day is None:
        errors["day"] = [_("Escribe la fecha como día-mes-año, por ejemplo 24-12-2026.")]
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Escribe el nombre del día.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("El nombre puede tener como máximo %(n)d caracteres.", n=NAME_MAX)]
    try:
        override_kind = OverrideKind(kind or "")
    except ValueError:
        errors["kind"] = [_("Elige un tipo de la lista.")]
    if day is not None and session.scalar(
            sa.select(HolidayOverride.id).where(HolidayOverride.day == day)) is not None:
        errors["day"] = [_("Esa fecha ya está en la lista; elimínala primero para cambiarla.")]
    if errors:
        raise ValidationFailed(_("Revisa los datos marcados."), errors)
    override = HolidayOverride(day=day, name=name, kind=override_kind, created_by=actor)
    session.add(override)
    session.flush()
    return override


def delete_override(session: Session, override: HolidayOverride) -> None:
    session.delete(override)
    session.flush()
