"""Routing admin and assignment in real Chromium on a phone, with axe-core on every page."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.extensions import db
from tests.browser.test_resident_browser import sideways_overflow
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user


def _login(page: Page, email: str) -> None:
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).to_have_url(re.compile(r"/gestion/$"))


def _check(page: Page, name: str, screenshot) -> None:
    assert_no_axe_violations(page, name)
    screenshot(page, f"routing-{name}-375")
    assert not sideways_overflow(page), sideways_overflow(page)


def _municipality(app) -> dict:
    with app.app_context():
        obras = make_department(db.session, name="Obras Municipales")
        make_department(db.session, name="Zoonosis")
        make_category(db.session, obras, name="Bache en la calzada")
        admin = make_user(db.session, Role.ADMIN)
        agent = make_user(db.session, Role.AGENT, [obras])
        colleague = make_user(db.session, Role.AGENT, [obras])
        ticket = make_ticket(db.session, make_category(db.session, obras), notify=False)
        db.session.commit()
        data = {"admin": admin.email, "agent": agent.email, "colleague": colleague.name,
                "ticket_id": ticket.id}
        db.session.remove()
    return data


def test_admin_creates_a_rule_and_previews_it_on_a_phone(app, phone, screenshot):
    data = _municipality(app)
    page = phone
    _login(page, data["admin"])
    page.get_by_role("link", name="Ruteo").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ruteo de solicitudes")
    _check(page, "index-empty", screenshot)

    page.get_by_role("link", name="Nueva regla").click()
    page.get_by_role("button", name="Guardar regla").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Escribe un nombre para la regla.")
    _check(page, "rule-errors", screenshot)

    page.get_by_label("Nombre de la regla").fill("Perros sueltos")
    page.get_by_label("Palabras clave").fill("perro, jauría")
    page.get_by_label("Enviar al departamento").select_option(label="Zoonosis")
    page.get_by_role("button", name="Guardar regla").click()
    expect(page.get_by_role("status")).to_contain_text("Regla «Perros sueltos» creada.")
    expect(page.get_by_role("link", name="Perros sueltos", exact=True)).to_be_visible()
    _check(page, "index-with-rule", screenshot)

    page.get_by_role("link", name="Probar las reglas con una solicitud de ejemplo").click()
    page.get_by_label("Categoría").select_option(label="Bache en la calzada")
    page.get_by_label("Texto de la solicitud").fill("Una JAURIA de perros en el pasaje")
    page.get_by_role("button", name="Ver a dónde iría").click()
    result = page.get_by_role("region", name="Resultado")
    expect(result).to_contain_text("Zoonosis")
    expect(result).to_contain_text("Perros sueltos")
    _check(page, "preview", screenshot)

    page.goto("/gestion/admin/ruteo/")
    page.get_by_role("link", name="Cambiar Obras Municipales").click()
    page.get_by_label("Asignación automática").select_option("fewest_open")
    _check(page, "department", screenshot)
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status")).to_contain_text("Asignación automática de Obras")

    page.get_by_role("link", name="Eliminar «Perros sueltos»").click()
    _check(page, "delete", screenshot)


def test_agent_assigns_a_request_and_filters_their_queue_on_a_phone(app, phone, screenshot):
    data = _municipality(app)
    page = phone
    _login(page, data["agent"])
    page.goto(f"/gestion/solicitudes/{data['ticket_id']}")
    page.get_by_label("Asignar a").select_option(label=data["colleague"])
    page.get_by_role("button", name="Asignar", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Asignación guardada.")
    _check(page, "detail-assigned", screenshot)

    page.get_by_role("button", name="Asignarme").click()
    expect(page.get_by_role("status")).to_contain_text("Ahora tienes esta solicitud.")
    page.goto("/gestion/?asignacion=mias")
    expect(page.get_by_label("Asignación")).to_have_value("mias")
    _check(page, "queue-mine", screenshot)
