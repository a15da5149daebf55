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


def test_manager_reads_volume_over_time_and_opens_the_overdue_requests(app, open_page,
                                                                       screenshot):
    from datetime import timedelta

    from app.database import utcnow

    with app.app_context():
        department = make_department(db.session, name="Obras")
        category = make_category(db.session, department, name="Baches")
        now = utcnow()
        for days, due in ((20, 2), (10, -5), (3, -1)):
            ticket = make_ticket(db.session, category, notify=False,
                                 now=now - timedelta(days=days))
            ticket.resolution_due_at = now - timedelta(days=due)
        email = make_user(db.session, Role.MANAGER).email
        db.session.commit()
        db.session.remove()
    page = open_page(1200, 900)
    _login(page, email)
    page.goto("/gestion/tablero/?desglose=departamento")
    expect(page.get_by_role("img", name="Solicitudes recibidas por semana y departamento")
           ).to_be_visible()
    evolution = page.get_by_role("table", name="Solicitudes recibidas por semana y "
                                               "departamento")
    expect(evolution.get_by_role("columnheader", name="Obras")).to_be_visible()
    assert_no_axe_violations(page, "dashboard by department")
    screenshot(page, "dashboard-evolution")

    compliance = page.get_by_role("table", name="Cumplimiento de plazos de resolución")
    compliance.get_by_role("row", name=re.compile("Abiertas y ya vencidas")).get_by_role(
        "link").click()
    expect(page.get_by_text("1 solicitud", exact=True)).to_be_visible()
    expect(page.get_by_text("Cifra del tablero: Abiertas y ya vencidas")).to_be_visible()
    assert_no_axe_violations(page, "queue from a dashboard figure")
    page.get_by_role("link", name="Quitar los filtros del tablero").click()
    expect(page.get_by_text("3 solicitudes", exact=True)).to_be_visible()
