"""In real Chromium: a category's questions on the request form, and the API docs page.

axe-core must find no violations, nothing may stick out sideways on a phone,
and the questions must be reachable without JavaScript tricks.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from app.extensions import db
from app.tickets.attributes import values_by_code
from app.tickets.models import Ticket
from tests.api_support import category_with_every_datatype
from tests.browser.test_resident_browser import describe_violations, sideways_overflow
from tests.factories import make_category, make_department


def _seed(app) -> str:
    with app.app_context():
        department = make_department(db.session, name="Alumbrado Público")
        category_with_every_datatype(db.session, department)
        make_category(db.session, department, name="Microbasural")
        db.session.commit()
        db.session.remove()
    return "Luminaria apagada (Alumbrado Público)"


def test_resident_picks_a_category_sees_its_questions_and_submits(app, phone, screenshot):
    option = _seed(app)
    phone.goto("/solicitudes/nueva")
    expect(phone.get_by_text("Preguntas sobre")).to_have_count(0)
    phone.get_by_label("¿Sobre qué es tu solicitud?").select_option(label=option)
    phone.get_by_label("Cuéntanos qué pasa").fill("La luminaria del pasaje parpadea toda la noche.")
    phone.get_by_role("button", name="Ver preguntas de la categoría").click()
    phone.wait_for_load_state()
    expect(phone.get_by_role("group", name="Preguntas sobre «Luminaria apagada»")).to_be_visible()
    expect(phone.get_by_label("Cuéntanos qué pasa")).to_have_value(
        "La luminaria del pasaje parpadea toda la noche.")
    phone.get_by_label("¿Qué pasa?").select_option(label="Parpadea")
    phone.get_by_role("group", name="¿A quién pone en riesgo? (opcional)").get_by_label(
        "Peatones").check()
    phone.get_by_label("Altura en metros (opcional)").fill("3,5")
    phone.get_by_label("Nombre").fill("Rosa Pérez")
    phone.get_by_label("Correo electrónico").fill("rosa@example.cl")
    phone.get_by_label("Autorizo").check()
    screenshot(phone, "attributes-form")
    assert sideways_overflow(phone) == []
    phone.get_by_role("button", name="Enviar solicitud").click()
    phone.wait_for_url("**/recibida")
    with app.app_context():
        ticket = db.session.scalar(sa.select(Ticket))
        assert values_by_code(ticket) == {"tipo": "intermitente", "riesgos": ["peatones"],
                                          "altura": 3.5}
        db.session.remove()


def _form_with_questions(page, app):
    _seed(app)
    with app.app_context():
        slug = db.session.scalar(sa.text("select slug from categories order by id limit 1"))
        db.session.remove()
    page.goto(f"/solicitudes/nueva?categoria={slug}")


def _form_with_question_errors(page, app):
    _form_with_questions(page, app)
    page.get_by_label("Altura en metros (opcional)").fill("alto")
    page.get_by_role("button", name="Enviar solicitud").click()
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_be_visible()


def _api_docs(page, app):
    page.goto("/api/v1/docs")


PAGES = {"form-questions": _form_with_questions,
         "form-question-errors": _form_with_question_errors,
         "api-docs": _api_docs}


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_and_reflow_on_question_and_docs_pages(app, phone, name):
    PAGES[name](phone, app)
    results = Axe().run(phone)
    assert results.violations_count == 0, (
        f"axe-core on {name} ({phone.url}):\n{describe_violations(results.response)}")
    assert sideways_overflow(phone) == []
