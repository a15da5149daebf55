"""The managers' dashboard in a real Chromium, checked with axe-core."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.extensions import db
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user


def _login(page: Page, email: str) -> None:
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).to_have_url(re.compile(r"/gestion/$"))


def test_manager_reads_the_dashboard_and_follows_a_figure_to_the_queue(app, open_page,
                                                                         screenshot):
    with app.app_context():
        department = make_department(db.session, name="Aseo y Ornato")
        category = make_category(db.session, department, name="Microbasural")
        for _ in range(3):
            make_ticket(db.session, category, notify=False)
        email = make_user(db.session, Role.MANAGER).email
        db.session.commit()
        db.session.remove()
    page = open_page(1200, 900)
    _login(page, email)
    page.get_by_role("link", name="Tablero").click()
    expect(page.get_by_role("heading", name="Tablero de gestión", exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Solicitudes abiertas hoy según su antigüedad en días "
                                        "hábiles")).to_be_visible()
    assert_no_axe_violations(page, "dashboard")
    screenshot(page, "dashboard")

    page.get_by_label("Periodo", exact=True).select_option("personalizado")
    page.get_by_role("button", name="Ver cifras").click()
    expect(page.get_by_role("alert")).to_contain_text("Indica desde qué fecha.")
    assert_no_axe_violations(page, "dashboard with a filter error")

    page.get_by_label("Periodo", exact=True).select_option("30-dias")
    page.get_by_role("button", name="Ver cifras").click()
    backlog = page.get_by_role("table", name="Solicitudes abiertas hoy según su antigüedad "
                                             "en días hábiles")
    backlog.get_by_role("link", name="3").first.click()
    expect(page.get_by_text("3 solicitudes")).to_be_visible()
