"""The issue's end-to-end journeys in real Chromium, axe-core on every page:

- a resident submits on a phone; staff at a desktop log in, triage (review and
  take the request), reply and resolve; the resident follows it all on the
  status page;
- an admin creates an SLA policy and a category using it, through the
  administration pages, and the category appears on the public form.

(The survey answer and the manager's dashboard have their own journeys in
test_survey_browser.py and test_metrics_browser.py.)
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.catalog.models import Category
from app.extensions import db
from tests.browser.test_resident_browser import sideways_overflow
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_department, make_user

REPLY = "Hola Rosa: una cuadrilla cambiará la luminaria el jueves."


def check(page: Page, name: str) -> None:
    assert_no_axe_violations(page, name)
    assert sideways_overflow(page) == []


def log_in(page: Page, email: str) -> None:
    page.goto("/gestion/ingresar")
    check(page, "login")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bandeja de solicitudes")


def test_resident_submits_staff_triage_reply_resolve_and_resident_follows(
        app, open_page, screenshot):
    with app.app_context():
        department = make_department(db.session, name="Alumbrado Público")
        make_category(db.session, department, name="Luminaria apagada")
        agent = make_user(db.session, Role.AGENT, [department])
        db.session.commit()
        agent_email, agent_name = agent.email, agent.name
        db.session.remove()

    resident = open_page(375, 740)
    resident.goto("/solicitudes/nueva")
    check(resident, "submission form")
    resident.get_by_label("¿Sobre qué es tu solicitud?").select_option(
        label="Luminaria apagada (Alumbrado Público)")
    resident.get_by_label("Cuéntanos qué pasa").fill(
        "La luminaria del pasaje Los Aromos está apagada desde el lunes.")
    resident.get_by_label("Dirección o lugar").fill("Los Aromos 1234")
    resident.get_by_label("Nombre").fill("Rosa Pérez")
    resident.get_by_label("Correo electrónico").fill("rosa@example.com")
    resident.get_by_label(re.compile("^Autorizo a la municipalidad")).check()
    resident.get_by_role("button", name="Enviar solicitud").click()
    expect(resident.get_by_role("heading", level=1)).to_have_text("Recibimos tu solicitud")
    check(resident, "confirmation")
    code = resident.locator("#tracking-code").inner_text().strip()
    resident.get_by_role("link", name="Ver el estado de mi solicitud").click()
    expect(resident.locator(".summary .badge")).to_have_text("Recibida")
    check(resident, "status page, received")

    staff = open_page(1280, 900, is_mobile=False, has_touch=False)
    log_in(staff, agent_email)
    check(staff, "queue")
    staff.locator(".queue-table tbody tr").first.get_by_role("link").click()
    expect(staff.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Solicitud \d{4}-\d{6}"))
    check(staff, "request page")
    # Triage: under review, and the agent takes it.
    staff.get_by_label("Nuevo estado").select_option(label="En revisión")
    staff.get_by_role("button", name="Cambiar estado").click()
    expect(staff.get_by_role("status")).to_contain_text("Estado actualizado.")
    staff.get_by_role("button", name="Asignarme").click()
    expect(staff.get_by_role("status")).to_contain_text("Ahora tienes esta solicitud.")
    expect(staff.get_by_label("Asignar a")).to_have_value(re.compile(r"^\d+$"))
    staff.get_by_label("Respuesta al vecino/a").fill(REPLY)
    staff.get_by_role("button", name="Enviar respuesta").click()
    expect(staff.locator("main")).to_contain_text(REPLY)
    staff.get_by_label("Nuevo estado").select_option(label="Resuelta")
    staff.get_by_label("Motivo o mensaje").fill("Luminaria cambiada.")
    staff.get_by_role("button", name="Cambiar estado").click()
    expect(staff.get_by_role("status")).to_contain_text("Estado actualizado.")
    expect(staff.locator("main")).to_contain_text(agent_name)
    check(staff, "request page, resolved")
    screenshot(staff, "journey-staff-resolved")

    resident.goto(f"/seguimiento/{code}")
    expect(resident.locator(".summary .badge")).to_have_text("Resuelta")
    expect(resident.locator("main")).to_contain_text(REPLY)
    expect(resident.locator("main")).to_contain_text("Luminaria cambiada.")
    check(resident, "status page, resolved")
    screenshot(resident, "journey-resident-resolved")


def test_admin_adds_a_category_with_an_sla_policy_and_it_appears_on_the_form(
        app, open_page, screenshot):
    with app.app_context():
        make_department(db.session, name="Medio Ambiente")
        admin = make_user(db.session, Role.ADMIN)
        db.session.commit()
        email = admin.email
        db.session.remove()
    page = open_page(375, 740)
    page.goto("/solicitudes/nueva")
    expect(page.get_by_label("¿Sobre qué es tu solicitud?")).not_to_contain_text("Perro")

    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_role("link", name="Administración").click()
    page.get_by_role("link", name="Políticas de plazos").click()
    check(page, "SLA policies, empty")
    page.get_by_role("link", name="Nueva política").click()
    page.get_by_label("Nombre").fill("Tenencia responsable")
    page.get_by_label("Plazo de resolución").fill("cinco")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("alert")).to_contain_text("Escribe un número entero")
    check(page, "new SLA policy with an error")
    page.get_by_label("Plazo de resolución").fill("5")
    page.get_by_label("Plazo de primera respuesta (opcional)").fill("16")
    page.get_by_role("button", name="Guardar").click()
    expect(page.get_by_role("status")).to_contain_text("Política de plazos creada.")
    expect(page.get_by_role("table")).to_contain_text("16 horas hábiles")
    check(page, "SLA policies")
    screenshot(page, "admin-sla-policies")

    page.get_by_role("link", name="Administración").first.click()
    page.get_by_role("link", name="Categorías").click()
    page.get_by_role("link", name="Nueva categoría").click()
    check(page, "new category")
    page.get_by_label("Nombre").fill("Perro abandonado")
    page.get_by_label("Identificador").fill("perro-abandonado")
    page.get_by_label("Descripción para el vecino/a").fill("Un perro solo en la calle.")
    page.get_by_label("Departamento a cargo").select_option(label="Medio Ambiente")
    page.get_by_label("Visibilidad").select_option("public")
    page.get_by_label("Política de plazos").select_option(
        label="Tenencia responsable (Compromiso de servicio)")
    page.get_by_role("button", name="Guardar categoría").click()
    expect(page.get_by_role("status")).to_contain_text("Categoría creada.")
    check(page, "category created")
    with app.app_context():
        category = db.session.scalar(sa.select(Category).where(
            Category.slug == "perro-abandonado"))
        assert category.sla_policy.name == "Tenencia responsable"
        db.session.remove()

    page.goto("/solicitudes/nueva")
    expect(page.get_by_label("¿Sobre qué es tu solicitud?")).to_contain_text(
        "Perro abandonado (Medio Ambiente)")
    check(page, "form with the new category")
