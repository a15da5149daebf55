"""Progress updates and pilot departments: service functions (flush, never commit)."""

from __future__ import annotations

import re
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Department
from app.domain import DomainError, ValidationFailed
from app.transparency.models import ProgressUpdate, TransparencyPilot

MAX_PILOTS = 3
TITLE_MAX = 120
BODY_MAX = 2000
_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")


def can_write_updates(user: User, department: Department) -> bool:
    """Admins write for any department; supervisors for the departments they belong to."""
    if user.role is Role.ADMIN:
        return True
    return user.role is Role.SUPERVISOR and department.id in user.department_ids


def writable_departments(session: Session, user: User) -> list[Department]:
    query = sa.select(Department).where(Department.active.is_(True)).order_by(Department.name)
    if user.role is not Role.ADMIN:
        if user.role is not Role.SUPERVISOR:
            return []
        query = query.where(Department.id.in_(user.department_ids or {-1}))
    return list(session.scalars(query))


def parse_month(text: str | None) -> date:
    """``"2026-11"`` → 1 Nov 2026. :raise ValidationFailed: on anything else."""
    match = _MONTH_RE.match(text or "")
    if not match or not 1 <= int(match[2]) <= 12 or not 2000 <= int(match[1]) <= 2100:
        raise ValidationFailed(_("Revisa los datos marcados."), {
            "month": [_("Escribe el mes como año-mes, por ejemplo 2026-11.")]})
    return date(int(match[1]), int(match[2]), 1)


def create_progress_update(session: Session, *, author: User, department: Department,
                           month_text: str | None, title: str | None, body: str | None,
                           publish: bool, now: datetime) -> ProgressUpdate:
    """Write a department's monthly note; published at once when ``publish``.

    :raise DomainError: when ``author`` may not write for ``department``.
    :raise ValidationFailed: on a bad month, an empty or too long title or body.
    """
    if not can_write_updates(author, department):
        raise DomainError(_("Solo la jefatura del departamento o un administrador "
                            "puede publicar avances."))
    errors: dict[str, list[str]] = {}
    try:
        month = parse_month(month_text)
    except ValidationFailed as error:
        errors.update(error.field_errors)
        month = None
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = [_("Escribe un título.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("El título puede tener hasta %(n)d caracteres.", n=TITLE_MAX)]
    if not body:
        errors["body"] = [_("Escribe qué hizo el departamento este mes.")]
    elif len(body) > BODY_MAX:
        errors["body"] = [_("El texto puede tener hasta %(n)d caracteres.", n=BODY_MAX)]
    if errors:
        raise ValidationFailed(_("Revisa los datos marcados."), errors)
    update = ProgressUpdate(department_id=department.id, month=month, title=title, body=body,
                            author_id=author.id, published_at=now if publish else None,
                            created_at=now)
    session.add(update)
    session.flush()
    return update


def set_published(session: Session, update: ProgressUpdate, *, actor: User, published: bool,
                  now: datetime) -> None:
    """Publish or withdraw an update. :raise DomainError: when ``actor`` may not."""
    if not can_write_updates(actor, update.department):
        raise DomainError(_("Solo la jefatura del departamento o un administrador "
                            "puede publicar avances."))
    update.published_at = now if published else None
    session.flush()


def pilot_department_ids(session: Session) -> set[int]:
    return set(session.scalars(sa.select(TransparencyPilot.department_id)))


def set_pilots(session: Session, *, actor: User, department_ids: list[int],
               now: datetime) -> None:
    """Make exactly ``department_ids`` the pilot departments (at most three).

    :raise DomainError: unless ``actor`` is an admin.
    :raise ValidationFailed: with more than three departments or an unknown one.
    """
    if actor.role is not Role.ADMIN:
        raise DomainError(_("Solo un administrador elige los departamentos piloto."))
    wanted = set(department_ids)
    if len(wanted) > MAX_PILOTS:
        raise ValidationFailed(_("Revisa los datos marcados."), {
            "departments": [_("Elige como máximo %(n)d departamentos.", n=MAX_PILOTS)]})
    known = set(session.scalars(sa.select(Department.id).where(Department.id.in_(wanted))))
    if known != wanted:
        raise ValidationFailed(_("Revisa los datos marcados."), {
            "departments": [_("Uno de los departamentos ya no existe.")]})
    current = pilot_department_ids(session)
    if current - wanted:
        session.execute(sa.delete(TransparencyPilot)
                        .where(TransparencyPilot.department_id.in_(current - wanted)))
    for department_id in sorted(wanted - current):
        session.add(TransparencyPilot(department_id=department_id, chosen_at=now,
                                      chosen_by_id=actor.id))
    session.flush()
