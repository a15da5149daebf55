"""In real Chromium: a manager erases a resident's data on a phone, an admin reads the
audit log; the public policy page. Every page passes axe-core."""

from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from app.accounts.models import Role
from app.extensions import db
from app.tickets.contact import ResidentContact
from app.tickets.models import Ticket
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_ticket, make_user

EMAIL = "rosa.perez@example.cl"


def _login(page, email: str) -> None:
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()


def test_manager_anonymises_a_residents_requests_after_verifying_them(app, phone, screenshot):
    with app.app_context():
        manager = make_user(db.session, Role.MANAGER)
        admin = make_user(db.session, Role.ADMIN)
        ticket = make_ticket(db.session, make_category(db.session), notify=False,
                             contact=ResidentContact(name="Rosa Pérez", email=EMAIL))
        db.session.commit()
        manager_email, admin_email, number = manager.email, admin.email, ticket.public_number
        db.session.remove()
    page = phone
    _login(page, manager_email)
    page.goto("/gestion/privacidad/")
    page.get_by_label("Correo, teléfono o RUT de la persona").fill(EMAIL)
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_role("cell", name=number)).to_be_visible()
    assert_no_axe_violations(page, "Privacidad: resultados")
    screenshot(page, "privacidad-resultados")

    page.get_by_role("button", name="Anonimizar todas sus solicitudes").click()
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Describe cómo verificaste la identidad")
    expect(summary).to_contain_text("Confirma que quieres anonimizar")
    assert_no_axe_violations(page, "Privacidad: errores")
    screenshot(page, "privacidad-errores")

    page.get_by_label("¿Cómo verificaste la identidad de la persona?").fill(
        "Presentó su cédula en la oficina de partes.")
    page.get_by_label("Confirmo que la persona pidió eliminar sus datos").check()
    page.get_by_role("button", name="Anonimizar todas sus solicitudes").click()
    expect(page.get_by_role("status")).to_contain_text("Se anonimizaron 1 solicitudes.")
    with app.app_context():
        assert db.session.scalar(sa.select(Ticket.contact_email)) is None
        db.session.remove()

    page.get_by_role("button", name="Salir").click()
    _login(page, admin_email)
    page.get_by_role("link", name="Auditoría").click()
    page.get_by_label("Acción (comienza con)").fill("privacy.")
    page.get_by_role("button", name="Filtrar").click()
    expect(page.locator("td code", has_text="privacy.erase")).to_be_visible()
    assert_no_axe_violations(page, "Auditoría")


def test_public_privacy_policy_is_reachable_from_the_footer(app, phone):
    page = phone
    page.goto("/")
    page.get_by_role("contentinfo").get_by_role("link", name="Privacidad").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Política de privacidad de Conectados")
    assert_no_axe_violations(page, "Política de privacidad")
