"""Which department a new request goes to.

For now the category's own department decides; ordered routing rules come
with the routing issue and plug in here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from app.catalog.models import Category, Department


@dataclass(frozen=True)
class RoutingDecision:
    department: Department
    reason: str  # recorded on the timeline


def route(category: Category) -> RoutingDecision:
    """Pick the department for a request in ``category``."""
    return RoutingDecision(
        department=category.department,
        reason=_("Asignada a %(department)s según la categoría «%(category)s».",
                 department=category.department.name, category=category.name),
    )
