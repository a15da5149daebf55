"""REST: categories (with their custom attributes) and departments, read only."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.accounts.credentials import Scope
from app.api.auth import ApiBlueprint
from app.api.errors import ApiError
from app.api.presenters import category_dict, department_dict
from app.api.schemas import CategorySchema, DepartmentSchema, ErrorSchema
from app.catalog.models import Category, Department
from app.extensions import db

blp = ApiBlueprint("catalogo", __name__, url_prefix="/api/v1",
                   description="Categorías (con sus preguntas adicionales) y departamentos "
                               "activos.")


def _active_categories() -> sa.Select[tuple[Category]]:
    return (sa.select(Category).join(Category.department)
            .where(Category.active, Department.active)
            .options(selectinload(Category.department), selectinload(Category.attributes)))


@blp.route("/categories", methods=["GET"])
@blp.requires(Scope.CATEGORIES_READ)
@blp.response(200, CategorySchema(many=True))
def list_categories():
    """Categorías activas

    Incluye las privadas (no aparecen en Open311, pero se pueden crear por esta API).
    """
    categories = db.session.scalars(
        _active_categories().order_by(Department.name, Category.name)).all()
    return [category_dict(c) for c in categories]


@blp.route("/categories/<slug>", methods=["GET"])
@blp.requires(Scope.CATEGORIES_READ)
@blp.response(200, CategorySchema)
@blp.alt_response(404, schema=ErrorSchema, description="No existe o no está activa.")
def get_category(slug: str):
    """Una categoría activa, con sus preguntas adicionales"""
    category = (db.session.scalar(_active_categories().where(Category.slug == slug))
                if "\x00" not in slug else None)
    if category is None:
        raise ApiError(404)
    return category_dict(category)


@blp.route("/departments", methods=["GET"])
@blp.requires(Scope.CATEGORIES_READ)
@blp.response(200, DepartmentSchema(many=True))
def list_departments():
    """Departamentos activos (destinos de reasignación y filtro de listados)"""
    departments = db.session.scalars(
        sa.select(Department).where(Department.active).order_by(Department.name)).all()
    return [department_dict(d) for d in departments]
