"""In real Chromium: a staff member turns on TOTP (QR image under the CSP, axe clean)
and then signs in with a code."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from playwright.sync_api import expect

from app.accounts.models import Role, User
from app.database import utcnow
from app.extensions import db
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_department, make_user


def test_staff_member_turns_on_totp_and_signs_in_with_a_code(app, phone):
    with app.app_context():
        user = make_user(db.session, Role.AGENT, [make_department(db.session)])
        db.session.commit()
        email, user_id = user.email, user.id
        db.session.remove()
    page = phone
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_role("link", name="Seguridad de la cuenta").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Seguridad de la cuenta")
    qr = page.get_by_role("img", name="Código QR para agregar Conectados a tu aplicación "
                                       "de autenticación")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # the data: SVG loaded under the CSP
    assert_no_axe_violations(page, "Seguridad de la cuenta")
    secret = page.locator("code.totp-secret").inner_text()
    totp = pyotp.TOTP(secret)
    page.get_by_label("Código de 6 dígitos de tu aplicación de autenticación").fill(totp.now())
    page.get_by_role("button", name="Activar la verificación en dos pasos").click()
    expect(page.get_by_role("status")).to_contain_text("la verificación en dos pasos está activa")
    with app.app_context():
        assert db.session.get(User, user_id).totp_secret == secret
        db.session.remove()

    page.get_by_role("button", name="Salir").click()
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Código de verificación")
    assert_no_axe_violations(page, "Código de verificación")
    next_code = totp.at(utcnow() + timedelta(seconds=30))  # the enabling step is used up
    page.get_by_label("Código de 6 dígitos de tu aplicación de autenticación").fill(next_code)
    page.get_by_role("button", name="Continuar").click()
    expect(page.get_by_role("link", name="Seguridad de la cuenta")).to_be_visible()
    assert page.url.endswith("/gestion/")
