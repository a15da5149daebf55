"""Canned answers: who manages which, which a request offers, placeholders.

Supervisors manage the answers of their departments; admins manage every
answer, including those for all departments (``department`` None). Agents and
managers use them but do not manage them.

Placeholders are replaced by plain string substitution of a fixed list
(``{numero}``, ``{categoria}``, ``{vecino}``), never ``str.format``: the text
is typed by staff and must not reach object attributes; any other brace stays
as written. The result is text for a textarea, escaped by the template.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Department
from app.database import utcnow
from app.domain import DomainError, ValidationFailed
from app.productivity.models import CannedAnswer
from app.tickets.models import Ticket
from app.tickets.timeline import MESSAGE_MAX

TITLE_MAX = 120


class NotAllowed(DomainError):
    """The staff member may not manage that canned answer."""


def can_manage_any(user: User) -> bool:
    return user.role in (Role.SUPERVISOR, Role.ADMIN)


def can_manage(user: User, answer: CannedAnswer) -> bool:
    if user.role is Role.ADMIN:
        return True
    return (user.role is Role.SUPERVISOR and answer.department_id is not None
            and answer.department_id in user.department_ids)


def manageable(session: Session, user: User) -> list[CannedAnswer]:
    """The answers ``user`` may edit, for the management page."""
    query = sa.select(CannedAnswer).outerjoin(CannedAnswer.department)
    if user.role is not Role.ADMIN:
        if not can_manage_any(user):
            return []
        query = query.where(CannedAnswer.department_id.in_(user.department_ids or {-1}))
    return list(session.scalars(query.order_by(
        Department.name.asc().nulls_first(), CannedAnswer.title)))


def departments_for(session: Session, user: User) -> list[Department]:
    """Departments ``user`` may give an answer to."""
    if user.role is Role.ADMIN:
        return list(session.scalars(sa.select(Department).order_by(Department.name)))
    return list(user.departments) if user.role is Role.SUPERVISOR else []


def available_for(session: Session, ticket: Ticket) -> list[CannedAnswer]:
    """Active answers for ``ticket``'s department, and those for every department."""
    return list(session.scalars(
        sa.select(CannedAnswer)
        .where(CannedAnswer.active,
               sa.or_(CannedAnswer.department_id.is_(None),
                      CannedAnswer.department_id == ticket.department_id))
        .order_by(CannedAnswer.title, CannedAnswer.id)))


def fill_placeholders(body: str, ticket: Ticket) -> str:
    values = {
        "{numero}": ticket.public_number,
        "{categoria}": ticket.category.name,
        "{vecino}": ticket.contact_name or _("vecino/a"),
    }
    for placeholder, value in values.items():
        body = body.replace(placeholder, value)
    return body


def insert_into(typed: str | None, answer: CannedAnswer, ticket: Ticket) -> str:
    """What the reply box holds after «Insertar»: what was typed, then the answer."""
    typed = (typed or "").rstrip()
    filled = fill_placeholders(answer.body, ticket)
    return f"{typed}\n\n{filled}" if typed else filled


def save(session: Session, user: User, answer: CannedAnswer | None, *,
         department: Department | None, title: str, body: str, active: bool
         ) -> CannedAnswer:
    """Create (``answer`` None) or update a canned answer. Flushes, never commits.

    :raise NotAllowed: if ``user`` may not manage it (before or after the change).
    :raise ValidationFailed: empty or too long title or text.
    """
    title, body = (title or "").strip(), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = [_("Escribe un título.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("El título puede tener como máximo %(n)d caracteres.",
                             n=TITLE_MAX)]
    if not body:
        errors["body"] = [_("Escribe el texto de la respuesta.")]
    elif len(body) > MESSAGE_MAX:
        errors["body"] = [_("El texto puede tener como máximo %(n)d caracteres.",
                            n=MESSAGE_MAX)]
    if department is None and user.role is not Role.ADMIN:
        errors["department"] = [_("Elige uno de tus departamentos.")]
    if errors:
        raise ValidationFailed(_("Revisa los campos marcados."), errors)
    if answer is not None and not can_manage(user, answer):
        raise NotAllowed(_("No puedes editar esa respuesta tipo."))
    now = utcnow()
    if answer is None:
        answer = CannedAnswer(created_at=now)
        session.add(answer)
    answer.department = department
    answer.department_id = department.id if department else None
    answer.title, answer.body, answer.active, answer.updated_at = title, body, active, now
    if not can_manage(user, answer):
        raise NotAllowed(_("No puedes dar respuestas tipo a ese departamento."),
                         {"department": [_("Elige uno de tus departamentos.")]})
    session.flush()
    return answer


def delete(session: Session, user: User, answer: CannedAnswer) -> None:
    if not can_manage(user, answer):
        raise NotAllowed(_("No puedes borrar esa respuesta tipo."))
    session.delete(answer)
    session.flush()
