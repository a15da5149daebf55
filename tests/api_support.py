"""Credentials and catalogue data for REST API and Open311 tests."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.accounts.credentials import (
    RESIDENT_APP_SCOPES,
    Scope,
    create_api_key,
    issue_staff_token,
)
from app.accounts.models import User
from app.catalog.attributes import Datatype, define_attribute
from app.catalog.models import Category, Department
from tests.factories import make_category


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def app_key(session: Session, *scopes: Scope, name: str = "App de prueba") -> str:
    """A new application key's secret with ``scopes`` (the resident-app set by default)."""
    return create_api_key(session, name=name, scopes=list(scopes or RESIDENT_APP_SCOPES)).secret


def staff_token(session: Session, user: User, hours: int = 1) -> str:
    return issue_staff_token(session, user, lifetime=timedelta(hours=hours)).secret


def category_with_every_datatype(session: Session, department: Department | None = None,
                                 **kwargs) -> Category:
    """A public category asking one question of each of Open311's six datatypes.

    ``tipo`` (singlevaluelist) is required; there is also one informative,
    non-variable attribute.
    """
    kwargs.setdefault("name", "Luminaria apagada")
    kwargs.setdefault("keywords", "alumbrado, poste")
    category = make_category(session, department, **kwargs)
    define_attribute(session, category, code="tipo", description="¿Qué pasa?",
                     datatype=Datatype.SINGLEVALUELIST, required=True,
                     values=[("apagada", "Está apagada"), ("intermitente", "Parpadea")])
    define_attribute(session, category, code="riesgos", description="¿A quién pone en riesgo?",
                     datatype=Datatype.MULTIVALUELIST, datatype_description="Marque varias.",
                     values=[("autos", "Autos"), ("peatones", "Peatones"),
                             ("ciclistas", "Ciclistas")])
    define_attribute(session, category, code="poste", description="Número del poste",
                     datatype=Datatype.STRING)
    define_attribute(session, category, code="altura", description="Altura en metros",
                     datatype=Datatype.NUMBER)
    define_attribute(session, category, code="desde", description="¿Desde cuándo?",
                     datatype=Datatype.DATETIME)
    define_attribute(session, category, code="detalle", description="Más detalles",
                     datatype=Datatype.TEXT)
    define_attribute(session, category, code="aviso",
                     description="Si hay cables cortados, llame al 133.",
                     datatype=Datatype.STRING, variable=False)
    return category
