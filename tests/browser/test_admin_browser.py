"""In real Chromium on a phone: an admin opens the administration, edits a
category and adds a list question to it, issues an API key and looks at the
email previews; every page passes axe-core and nothing sticks out sideways."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.accounts.credentials import ApiKey
from app.accounts.models import Role
from app.catalog.attributes import CategoryAttribute
from app.catalog.models import Category
from app.extensions import db
from tests.browser.test_resident_browser import sideways_overflow
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_department, make_user


def check(page, name: str) -> None:
    assert_no_axe_violations(page, name)
    assert sideways_overflow(page) == []


def test_admin_edits_a_category_and_issues_an_api_key_on_a_phone(app, phone, screenshot):
    with app.app_context():
        department = make_department(db.session, name="Alumbrado Público")
        make_category(db.session, department, name="Luminaria apagada")
        admin = make_user(db.session, Role.ADMIN)
        db.session.commit()
        email = admin.email
        db.session.remove()
    page = phone
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_role("link", name="Administración").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administración")
    check(page, "admin home")
    screenshot(page, "admin-home")

    page.get_by_role("link", name="Categorías").click()
    page.get_by_role("link", name=re.compile(r"Editar\W+Luminaria apagada")).click()
    page.get_by_label("Palabras clave").fill("poste, farol")
    page.get_by_role("button", name="Guardar categoría").click()
    expect(page.get_by_role("status")).to_contain_text("Cambios guardados.")

    # A bad definition first: the error summary, then the fix.
    page.get_by_label("Código").fill("tipo")
    page.get_by_label("Pregunta", exact=True).fill("¿Qué tipo de luminaria?")
    page.get_by_label("Tipo de respuesta").select_option("singlevaluelist")
    page.get_by_role("button", name="Agregar pregunta").click()
    expect(page.get_by_role("alert")).to_contain_text("Una lista necesita opciones")
    check(page, "category edit with an error")
    page.get_by_label("Opciones (solo para listas)").fill("led|LED\nsodio|Sodio")
    page.get_by_role("button", name="Agregar pregunta").click()
    expect(page.get_by_role("status")).to_contain_text("Pregunta agregada.")
    expect(page.locator(".question-list")).to_contain_text("LED, Sodio")
    check(page, "category edit")
    screenshot(page, "admin-category")

    page.get_by_role("link", name="Administración").first.click()
    page.get_by_role("link", name="Claves de la API").click()
    page.get_by_role("link", name="Nueva clave").click()
    check(page, "new API key")
    page.get_by_label("Nombre de la aplicación").fill("App vecinal")
    page.get_by_label("Ver categorías y departamentos (categories:read)").check()
    page.get_by_role("button", name="Crear clave").click()
    secret = page.get_by_label("Clave", exact=True).input_value()
    assert secret.startswith("cak_")
    check(page, "API key created")
    screenshot(page, "admin-api-key")
    page.get_by_role("link", name="Claves de la API").click()
    expect(page.get_by_role("table")).to_contain_text("App vecinal")
    assert secret not in page.content()
    check(page, "API keys")

    page.get_by_role("link", name="Administración").first.click()
    page.get_by_role("link", name="Plantillas de correo").click()
    expect(page.locator("iframe.email-html").first).to_be_visible()
    check(page, "email previews")

    with app.app_context():
        assert db.session.scalar(sa.select(Category.keywords)) == "poste, farol"
        assert db.session.scalar(sa.select(CategoryAttribute.code)) == "tipo"
        assert db.session.scalar(sa.select(ApiKey.name)) == "App vecinal"
        db.session.remove()
