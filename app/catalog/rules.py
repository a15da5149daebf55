"""Editing routing rules and departments' auto-assignment (the admin pages call these).

Each function validates, changes and flushes; the view commits.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.catalog.models import AutoAssign, Category, Department, Macrosector
from app.catalog.routing import normalize_text
from app.catalog.routing_models import RoutingRule
from app.domain import ValidationFailed
from app.tickets.models import Channel

NAME_MAX = 120
KEYWORDS_MAX = 300
KEYWORD_MAX = 60
ADDRESS_MAX = 120


@dataclass(frozen=True)
class RuleInput:
    """What an admin typed; ids as given (None: any)."""

    name: str | None
    department_id: int | None
    active: bool = True
    category_id: int | None = None
    keywords: str | None = ""
    macrosector_id: int | None = None
    address_contains: str | None = ""
    channel: str | None = None


def _clean(session: Session, data: RuleInput, rule: RoutingRule | None) -> dict:
    errors: dict[str, list[str]] = {}
    name = " ".join((data.name or "").split())
    if not name:
        errors["name"] = [_("Escribe un nombre para la regla.")]
    elif len(name) > NAME_MAX:
        errors["name"] = [_("El nombre puede tener como máximo %(n)d caracteres.", n=NAME_MAX)]
    else:
        taken = session.scalar(sa.select(RoutingRule.id).where(
            sa.func.lower(RoutingRule.name) == name.lower(),
            RoutingRule.id != (rule.id if rule else -1)))
        if taken is not None:
            errors["name"] = [_("Ya existe una regla con ese nombre.")]

    department = session.get(Department, data.department_id) if data.department_id else None
    if department is None:
        errors["department"] = [_("Elige el departamento que recibirá las solicitudes.")]

    category = session.get(Category, data.category_id) if data.category_id else None
    if data.category_id and category is None:
        errors["category"] = [_("Elige una categoría de la lista.")]
    macrosector = (session.get(Macrosector, data.macrosector_id)
                   if data.macrosector_id else None)
    if data.macrosector_id and macrosector is None:
        errors["macrosector"] = [_("Elige un macrosector de la lista.")]

    channel = None
    if data.channel:
        try:
            channel = Channel(data.channel)
        except ValueError:
            errors["channel"] = [_("Elige un canal de la lista.")]

    words = [" ".join(k.split()) for k in (data.keywords or "").split(",")]
    words = [w for w in words if w]
    keywords = ", ".join(words)
    if len(keywords) > KEYWORDS_MAX:
        errors["keywords"] = [_("Las palabras pueden sumar como máximo %(n)d caracteres.",
                                n=KEYWORDS_MAX)]
    elif any(len(w) > KEYWORD_MAX for w in words):
        errors["keywords"] = [_("Cada palabra o frase puede tener como máximo %(n)d "
                                "caracteres.", n=KEYWORD_MAX)]
    elif any(not normalize_text(w) for w in words):
        errors["keywords"] = [_("Cada palabra debe tener letras o números.")]

    address = " ".join((data.address_contains or "").split())
    if len(address) > ADDRESS_MAX:
        errors["address_contains"] = [
            _("El texto de la dirección puede tener como máximo %(n)d caracteres.",
              n=ADDRESS_MAX)]
    elif address and not normalize_text(address):
        errors["address_contains"] = [_("El texto de la dirección debe tener letras o "
                                        "números.")]

    if not errors and not (category or words or macrosector or address or channel):
        errors["category"] = [_("Indica al menos una condición: categoría, palabras, "
                                "macrosector, dirección o canal.")]
    if errors:
        raise ValidationFailed(_("Revisa los datos de la regla."), errors)
    return {"name": name, "department": department, "active": bool(data.active),
            "category": category, "keywords": keywords, "macrosector": macrosector,
            "address_contains": address, "channel": channel}


def ordered_rules(session: Session) -> list[RoutingRule]:
    """Every rule (active or not) in evaluation order."""
    return list(session.scalars(
        sa.select(RoutingRule).order_by(RoutingRule.position, RoutingRule.id)))


def create_rule(session: Session, data: RuleInput) -> RoutingRule:
    """Add a rule at the end of the list (evaluated last, before the category default).

    :raise ValidationFailed: with per-field messages (missing or duplicate name,
        unknown department, category, macrosector or channel, over-long words,
        no condition at all).
    """
    values = _clean(session, data, None)
    last = session.scalar(sa.select(sa.func.max(RoutingRule.position)))
    rule = RoutingRule(position=(last or 0) + 1, **values)
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule: RoutingRule, data: RuleInput) -> RoutingRule:
    """Change a rule's name, conditions, department or active flag; keeps its place.

    :raise ValidationFailed: as ``create_rule``.
    """
    for name, value in _clean(session, data, rule).items():
        setattr(rule, name, value)
    session.flush()
    return rule


def delete_rule(session: Session, rule: RoutingRule) -> None:
    session.delete(rule)
    session.flush()


def move_rule(session: Session, rule: RoutingRule, direction: int) -> bool:
    """Swap ``rule`` with its neighbour above (``-1``) or below (``+1``).

    Positions are renumbered 1..n first, so gaps and ties never block a move.
    Returns False when the rule is already first (or last).
    """
    rules = ordered_rules(session)
    for number, each in enumerate(rules, start=1):
        each.position = number
    index = rules.index(rule)
    other = index + direction
    if direction not in (-1, 1) or not 0 <= other < len(rules):
        session.flush()
        return False
    rules[index].position, rules[other].position = rules[other].position, rules[index].position
    session.flush()
    return True


def set_auto_assign(session: Session, department: Department, mode: str | None) -> Department:
    """Turn a department's auto-assignment off, to round robin or to fewest open.

    :raise ValidationFailed: if ``mode`` is not one of ``AutoAssign``.
    """
    try:
        department.auto_assign = AutoAssign(mode or "")
    except ValueError:
        message = _("Elige un modo de asignación de la lista.")
        raise ValidationFailed(message, {"auto_assign": [message]}) from None
    session.flush()
    return department
