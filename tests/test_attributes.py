"""Per-category custom attributes: definitions, validation of answers, storage by intake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.catalog.attributes import Datatype, clean_values, define_attribute
from app.domain import ValidationFailed
from app.tickets.attributes import values_by_code
from tests.api_support import category_with_every_datatype
from tests.factories import make_category, make_ticket


@pytest.mark.parametrize(("code", "raw", "stored"), [
    ("tipo", "apagada", "apagada"),
    ("tipo", ["intermitente"], "intermitente"),
    ("riesgos", ["autos", "peatones", "autos"], ["autos", "peatones"]),
    ("riesgos", "ciclistas", ["ciclistas"]),
    ("poste", "  12345-A ", "12345-A"),
    ("altura", "3,5", 3.5),
    ("altura", "12", 12),
    ("altura", 7.25, 7.25),
    ("desde", "2026-03-15T18:30", "2026-03-15T18:30-03:00"),
    ("desde", "2026-07-15 08:00", "2026-07-15T08:00-04:00"),
    ("desde", "2026-03-15T21:30:00Z", "2026-03-15T21:30+00:00"),
    ("detalle", "Primera línea\nsegunda línea", "Primera línea\nsegunda línea"),
])
def test_answers_of_each_datatype_are_stored_in_canonical_form(session, code, raw, stored):
    category = category_with_every_datatype(session)
    values, errors = clean_values(category, {"tipo": "apagada", code: raw})
    assert errors == {}
    assert values[code] == stored


@pytest.mark.parametrize(("code", "raw"), [
    ("tipo", "verde"),
    ("tipo", ["apagada", "intermitente"]),
    ("riesgos", ["autos", "aviones"]),
    ("poste", "una\nlínea de más"),
    ("poste", "x" * 301),
    ("poste", {"no": "objeto"}),
    ("altura", "tres"),
    ("altura", True),
    ("altura", "NaN"),
    ("altura", "1e999"),
    ("desde", "ayer"),
    ("desde", 15),
    ("desde", "0001-01-01T00:00+01:00"),
    ("detalle", "x" * 4001),
    ("detalle", "con \x00 nulo"),
    ("aviso", "no lleva respuesta"),
    ("inventado", "campo desconocido"),
])
def test_answers_that_do_not_fit_are_refused_per_field(session, code, raw):
    category = category_with_every_datatype(session)
    values, errors = clean_values(category, {"tipo": "apagada", code: raw})
    assert list(errors) == [f"attributes.{code}"]
    assert code not in values


def test_required_attribute_is_enforced_only_when_the_channel_asks(session):
    category = category_with_every_datatype(session)
    assert clean_values(category, {})[1] == {"attributes.tipo": ["Completa este campo."]}
    assert clean_values(category, {"tipo": "  "})[1] == {"attributes.tipo":
                                                         ["Completa este campo."]}
    # None: the channel (e.g. email) could not ask, so nothing is required.
    assert clean_values(category, None) == ({}, {})


def test_intake_stores_answers_and_refuses_bad_ones_with_nothing_saved(session):
    category = category_with_every_datatype(session)
    ticket = make_ticket(session, category, attributes={
        "tipo": "apagada", "riesgos": ["peatones"], "altura": "4", "poste": ""})
    assert values_by_code(ticket) == {"tipo": "apagada", "riesgos": ["peatones"], "altura": 4}
    with pytest.raises(ValidationFailed) as refused:
        make_ticket(session, category, attributes={"riesgos": ["autos"]})
    assert refused.value.field_errors == {"attributes.tipo": ["Completa este campo."]}


def test_intake_without_attributes_accepts_categories_with_required_ones(session):
    category = category_with_every_datatype(session)
    ticket = make_ticket(session, category)  # e.g. an email: nobody asked the questions
    assert values_by_code(ticket) == {}


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"code": "con espacio"}, "code"),
    ({"code": "tipo"}, "code"),  # taken
    ({"description": ""}, "description"),
    ({"order": 1}, "order"),  # taken
    ({"order": 0}, "order"),
    ({"datatype": Datatype.SINGLEVALUELIST, "values": []}, "values"),
    ({"datatype": Datatype.SINGLEVALUELIST, "values": [("a", "A"), ("a", "B")]}, "values"),
    ({"datatype": Datatype.STRING, "values": [("a", "A")]}, "values"),
    ({"variable": False, "required": True}, "required"),
])
def test_definitions_that_break_the_spec_are_refused(session, kwargs, field):
    category = make_category(session)
    define_attribute(session, category, code="tipo", description="¿Qué?",
                     datatype=Datatype.STRING)
    arguments = {"code": "nuevo", "description": "Pregunta", "datatype": Datatype.STRING}
    arguments.update(kwargs)
    with pytest.raises(ValidationFailed) as refused:
        define_attribute(session, category, **arguments)
    assert field in refused.value.field_errors


def test_attributes_keep_their_order(session):
    category = make_category(session)
    define_attribute(session, category, code="b", description="B", datatype=Datatype.STRING,
                     order=5)
    define_attribute(session, category, code="a", description="A", datatype=Datatype.STRING,
                     order=2)
    define_attribute(session, category, code="c", description="C", datatype=Datatype.STRING)
    session.expire(category, ["attributes"])
    assert [(a.code, a.order) for a in category.attributes] == [("a", 2), ("b", 5), ("c", 6)]


def test_relationships_exist_before_any_query_in_a_fresh_process():
    """A first request of a new worker must find Category.attributes (a backref)."""
    code = ("import app.models\n"
            "from app.catalog.models import Category\n"
            "from app.tickets.models import Ticket\n"
            "print(hasattr(Category, 'attributes'), hasattr(Ticket, 'attribute_values'))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent, check=True)
    assert result.stdout.split() == ["True", "True"]
