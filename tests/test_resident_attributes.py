"""The category's own questions on the resident web form, and on the staff page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.accounts.models import Role
from app.tickets.attributes import values_by_code
from app.tickets.models import Ticket
from tests.api_support import category_with_every_datatype
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_user
from tests.pages import count, error_summary, text_of

SUBMIT_URL = "/solicitudes/nueva"


@pytest.fixture
def categories(database):
    with database() as session:
        department = make_department(session, name="Obras Municipales")
        asking = category_with_every_datatype(session, department)
        plain = make_category(session, department, name="Vereda en mal estado")
        session.commit()
        return {"asking": (asking.id, asking.slug), "plain": (plain.id, plain.slug)}


def _form(category_id, **extra):
    data = MultiDict({"category": str(category_id), "shown_category": str(category_id),
                      "description": "El poste de luz de la esquina está apagado.",
                      "name": "Rosa Pérez", "email": "rosa@example.cl", "consent": "y"})
    for key, value in extra.items():
        if isinstance(value, list):
            data.setlist(key, value)
        else:
            data[key] = value
    return data


def _post(client, data, url=SUBMIT_URL):
    html = client.get(url).get_data(as_text=True)
    data["csrf_token"] = csrf_token_from(html)
    return client.post(SUBMIT_URL, data=data)


def test_chosen_category_shows_its_questions_with_labels_and_hints(client, categories):
    _id, slug = categories["asking"]
    html = client.get(f"{SUBMIT_URL}?categoria={slug}").get_data(as_text=True)
    assert "Preguntas sobre «Luminaria apagada»" in html
    assert re.search(r'<label for="attr_tipo">¿Qué pasa\?</label>', html)
    assert '<select id="attr_tipo" name="attr_tipo"' in html
    assert '<fieldset class="choices" id="attr_riesgos" aria-describedby="attr_riesgos-hint">' \
        in html
    assert html.count('name="attr_riesgos"') == 3
    assert 'type="datetime-local"' in html and 'inputmode="decimal"' in html
    assert '<textarea id="attr_detalle"' in html
    assert "Número del poste (opcional)" in html
    assert "Si hay cables cortados, llame al 133." in html  # informative attribute
    assert 'name="attr_aviso"' not in html


def test_a_category_without_questions_shows_none(client, categories):
    _id, slug = categories["plain"]
    html = client.get(f"{SUBMIT_URL}?categoria={slug}").get_data(as_text=True)
    assert "Preguntas sobre" not in html and 'name="attr_' not in html


def test_answers_are_stored_through_intake(client, database, categories):
    category_id, slug = categories["asking"]
    response = _post(client, _form(category_id, attr_tipo="intermitente",
                                   attr_riesgos=["autos", "ciclistas"], attr_altura="2,5",
                                   attr_desde="2026-03-15T18:30", attr_poste=""),
                     url=f"{SUBMIT_URL}?categoria={slug}")
    assert response.status_code == 302
    with database() as session:
        ticket = session.scalar(sa.select(Ticket))
        assert values_by_code(ticket) == {"tipo": "intermitente",
                                          "riesgos": ["autos", "ciclistas"], "altura": 2.5,
                                          "desde": "2026-03-15T18:30-03:00"}


def test_a_missing_required_answer_comes_back_with_the_form_filled(client, database,
                                                                   categories):
    category_id, _slug = categories["asking"]
    response = _post(client, _form(category_id, attr_altura="tres", attr_riesgos=["peatones"]))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = error_summary(html)
    assert 'href="#attr_tipo"' in summary and 'href="#attr_altura"' in summary
    assert 'aria-invalid="true"' in html and 'value="tres"' in html
    assert re.search(r'checked[^>]*value="peatones"|value="peatones"[^>]*checked', html)
    with database() as session:
        assert count(session, Ticket) == 0


def test_changing_category_and_asking_for_its_questions_keeps_what_was_typed(client, database,
                                                                           categories):
    asking_id, _ = categories["asking"]
    plain_id, plain_slug = categories["plain"]
    data = _form(asking_id, accion="preguntas", shown_category=str(plain_id),
                 description="Texto que no se debe perder.")
    response = _post(client, data, url=f"{SUBMIT_URL}?categoria={plain_slug}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Mostramos las preguntas de «Luminaria apagada»." in text_of(html)
    assert "Texto que no se debe perder." in html and 'name="attr_tipo"' in html
    assert 'class="error-summary"' not in html
    with database() as session:
        assert count(session, Ticket) == 0


def test_the_questions_button_submits_when_the_category_did_not_change(client, database,
                                                                     categories):
    category_id, _ = categories["asking"]
    response = _post(client, _form(category_id, accion="preguntas", attr_tipo="apagada"))
    assert response.status_code == 302
    with database() as session:
        assert count(session, Ticket) == 1


def test_staff_see_the_answers_by_their_names(client, database, categories):
    category_id, _ = categories["asking"]
    _post(client, _form(category_id, attr_tipo="intermitente", attr_riesgos=["autos"],
                        attr_altura="2,5"))
    with database() as session:
        user = make_user(session, Role.MANAGER)
        email = user.email
        ticket_id = session.scalar(sa.select(Ticket.id))
        session.commit()
    staff = client.application.test_client()
    login = staff.get("/gestion/ingresar").get_data(as_text=True)
    staff.post("/gestion/ingresar", data={"csrf_token": csrf_token_from(login), "email": email,
                                           "password": PASSWORD})
    page = text_of(staff.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True))
    assert "¿Qué pasa? Parpadea" in page
    assert "¿A quién pone en riesgo? Autos" in page
    assert "Altura en metros 2,5" in page
