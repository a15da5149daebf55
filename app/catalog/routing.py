"""Which department a new request goes to.

Routing rules (``catalog.routing_models.RoutingRule``) are evaluated in
position order; the first active rule whose conditions all match and whose
department is active wins. When none does, the category's own department
takes the request. The decision carries the rule and a Spanish reason that
names it, recorded on the creation event. The admin preview calls the same
``route`` without creating anything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from app.catalog.models import Category, Department, Macrosector
from app.catalog.routing_models import RoutingRule
from app.i18n import stored_text
from app.tickets.models import Channel

_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class RoutingDecision:
    department: Department
    rule: RoutingRule | None  # None: the category's department
    reason: str  # recorded on the timeline


def normalize_text(text: str | None) -> str:
    """Lower case, accents removed, words separated by single spaces.

    ``"  Perro   BRAVO, ñandú"`` → ``"perro bravo nandu"``; punctuation only
    separates words.
    """
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(_WORD_RE.findall(plain))


def matching_keyword(keywords: list[str], text: str) -> str | None:
    """The first of ``keywords`` found in ``text`` as whole words, or None.

    Both sides are normalised, so case and accents never matter and a
    keyword of several words matches them in that order.
    """
    haystack = f" {normalize_text(text)} "
    for keyword in keywords:
        needle = normalize_text(keyword)
        if needle and f" {needle} " in haystack:
            return keyword
    return None


def _matches(rule: RoutingRule, *, category: Category, text: str, address: str,
             macrosector: Macrosector | None, channel: Channel | None) -> list[str] | None:
    """What matched, as Spanish phrases, or None if some condition does not."""
    matched: list[str] = []
    if rule.category_id is not None:
        if rule.category_id != category.id:
            return None
        matched.append(_("categoría «%(name)s»", name=rule.category.name))
    if rule.keyword_list:
        keyword = matching_keyword(rule.keyword_list, text)
        if keyword is None:
            return None
        matched.append(_("palabra «%(word)s»", word=keyword))
    if rule.macrosector_id is not None:
        if macrosector is None or macrosector.id != rule.macrosector_id:
            return None
        matched.append(_("macrosector «%(name)s»", name=rule.macrosector.name))
    if normalize_text(rule.address_contains):
        if normalize_text(rule.address_contains) not in normalize_text(address):
            return None
        matched.append(_("dirección con «%(text)s»", text=rule.address_contains))
    if rule.channel is not None:
        if channel is None or Channel(channel) is not rule.channel:
            return None
        matched.append(_("canal «%(name)s»", name=rule.channel.label))
    return matched or None  # a rule without conditions never matches


def active_rules(session: Session) -> list[RoutingRule]:
    """Active rules in evaluation order, with what their conditions refer to."""
    return list(session.scalars(
        sa.select(RoutingRule).where(RoutingRule.active)
        .order_by(RoutingRule.position, RoutingRule.id)
        .options(selectinload(RoutingRule.department), selectinload(RoutingRule.category),
                 selectinload(RoutingRule.macrosector))))


@stored_text()
def route(session: Session, *, category: Category, description: str = "",
          address: str | None = None, macrosector: Macrosector | None = None,
          channel: Channel | None = None) -> RoutingDecision:
    """Pick the department for a request in ``category`` with this text and place.

    Keywords are looked for in the description and the address together.
    Rules whose department is inactive are skipped.
    """
    text = f"{description or ''} {address or ''}"
    for rule in active_rules(session):
        if not rule.department.active:
            continue
        matched = _matches(rule, category=category, text=text, address=address or "",
                           macrosector=macrosector, channel=channel)
        if matched:
            return RoutingDecision(
                department=rule.department, rule=rule,
                reason=_("Regla «%(rule)s»: %(conditions)s. Departamento: %(department)s.",
                         rule=rule.name, conditions=", ".join(matched),
                         department=rule.department.name),
            )
    return RoutingDecision(
        department=category.department, rule=None,
        reason=_("Departamento de la categoría «%(category)s»: %(department)s.",
                 category=category.name, department=category.department.name),
    )
