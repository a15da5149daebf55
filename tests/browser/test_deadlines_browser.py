"""Deadline pages in a real Chromium: the Ley 20.285 extension form on the staff
detail page and the holiday admin page, each step checked with axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.catalog.sla import PolicyKind, SlaPolicy
from app.extensions import db
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user


def _login(page: Page, email: str) -> None:
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).to_have_url(re.compile(r"/gestion/$"))


def test_agent_extends_a_legal_deadline_with_a_reason(app, open_page, screenshot):
    with app.app_context():
        department = make_department(db.session, name="Transparencia")
        category = make_category(db.session, department, name="Acceso a la información",
                                 sla_policy=SlaPolicy(name="Ley 20.285",
                                                      kind=PolicyKind.LEY_20285))
        email = make_user(db.session, Role.AGENT, [department]).email
        ticket_id = make_ticket(db.session, category).id
        db.session.commit()
        db.session.remove()
    page = open_page(1200, 900)
    _login(page, email)
    page.goto(f"/gestion/solicitudes/{ticket_id}")
    assert_no_axe_violations(page, "detail with extension form")

    page.get_by_role("button", name="Prorrogar plazo").click()
    expect(page.get_by_role("alert")).to_contain_text("Escribe el motivo de la prórroga.")
    assert_no_axe_violations(page, "extension form with its error")

    page.get_by_label("Motivo de la prórroga").fill("Se deben reunir antecedentes de Obras.")
    page.get_by_role("button", name="Prorrogar plazo").click()
    expect(page.get_by_text("Plazo prorrogado; se avisó al vecino/a.")).to_be_visible()
    expect(page.get_by_role("button", name="Prorrogar plazo")).to_have_count(0)
    expect(page.get_by_text("plazo prorrogado", exact=False).first).to_be_visible()
    screenshot(page, "deadline-extended")


def test_admin_manages_municipal_holidays(app, open_page, screenshot):
    with app.app_context():
        email = make_user(db.session, Role.ADMIN).email
        db.session.commit()
        db.session.remove()
    page = open_page(1200, 900)
    _login(page, email)
    page.get_by_role("link", name="Feriados").click()
    expect(page.get_by_role("heading", name="Feriados y días hábiles del municipio")
           ).to_be_visible()
    assert_no_axe_violations(page, "holiday admin")

    page.get_by_role("textbox", name="Fecha").fill("30-02-2026")
    page.get_by_label("Nombre").fill("Aniversario de la comuna")
    page.get_by_role("button", name="Agregar").click()
    expect(page.get_by_role("alert")).to_contain_text("día-mes-año")
    expect(page.get_by_label("Nombre")).to_have_value("Aniversario de la comuna")
    assert_no_axe_violations(page, "holiday admin with errors")

    page.get_by_role("textbox", name="Fecha").fill("24-12-2026")
    page.get_by_role("button", name="Agregar").click()
    expect(page.get_by_role("cell", name="Aniversario de la comuna", exact=True)).to_be_visible()
    screenshot(page, "holidays")
    page.get_by_role("button", name="Eliminar Aniversario de la comuna").click()
    expect(page.get_by_text("Aún no hay fechas del municipio.")).to_be_visible()
