"""In real Chromium: a resident signs in to «Mis solicitudes» on a phone by the
emailed link, and a staff member works the queue with the keyboard and inserts
a canned answer; axe-core finds no violation on any page."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from app.accounts.models import Role
from app.extensions import db, limiter
from app.notifications.models import OutboxMessage
from app.productivity.models import CannedAnswer
from app.tickets.contact import ResidentContact
from tests.browser.test_resident_browser import sideways_overflow
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

LINK_RE = re.compile(r"http://conectados\.test(/mis-solicitudes/enlace/[A-Za-z0-9_-]+)")


def test_resident_sees_all_their_requests_on_a_phone(app, phone, screenshot):
    limiter.reset()
    with app.app_context():
        category = make_category(db.session, name="Luminaria apagada")
        mine = [make_ticket(db.session, category, email="rosa@example.cl", notify=False)
                for _n in range(2)]
        theirs = make_ticket(db.session, category, email="juan@example.cl", notify=False)
        db.session.commit()
        numbers = [t.public_number for t in mine]
        other = theirs.public_number
        db.session.remove()
    page = phone
    page.goto("/seguimiento")
    page.get_by_role("link", name="¿No tienes tu código? Ve todas tus solicitudes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Entrar a Mis solicitudes")
    assert_no_axe_violations(page, "request link")
    page.get_by_label("Tu correo electrónico").fill("rosa@example.cl")
    page.get_by_role("button", name="Enviarme el enlace").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Si hay solicitudes o una cuenta con ese correo, te enviamos un enlace")
    assert_no_axe_violations(page, "link sent")

    with app.app_context():
        body, html = db.session.execute(
            sa.select(OutboxMessage.body_text, OutboxMessage.body_html).where(
                OutboxMessage.template == "resident_login_link")).one()
        db.session.remove()
    page.goto(LINK_RE.search(body).group(1))
    assert_no_axe_violations(page, "redeem link")
    page.get_by_role("button", name="Entrar a Mis solicitudes").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mis solicitudes")
    listed = page.locator(".resident-requests > li")
    expect(listed).to_have_count(2)
    for number in numbers:
        expect(page.get_by_role("link", name=f"Solicitud N° {number}")).to_be_visible()
    expect(page.get_by_text(other)).to_have_count(0)
    assert_no_axe_violations(page, "Mis solicitudes")
    assert sideways_overflow(page) == []
    screenshot(page, "mis-solicitudes-375")

    page.get_by_role("link", name=f"Solicitud N° {numbers[0]}").click()
    expect(page).to_have_url(re.compile(r"/seguimiento/[0-9A-Z-]+$"))
    page.go_back()
    page.get_by_role("button", name="Salir de Mis solicitudes").click()
    page.goto("/mis-solicitudes")
    expect(page.get_by_role("heading", level=1)).to_have_text("Entrar a Mis solicitudes")

    page.goto("about:blank")  # an email is not under the site's CSP
    page.set_content(html)  # the link email itself, as a page
    assert_no_axe_violations(page, "email resident_login_link")


def test_staff_works_the_queue_with_the_keyboard(app, open_page, screenshot):
    with app.app_context():
        department = make_department(db.session, name="Aseo y Ornato")
        category = make_category(db.session, department, name="Microbasural")
        tickets = [make_ticket(db.session, category, notify=False,
                               contact=ResidentContact(name="Rosa Pérez",
                                                       email=f"v{n}@example.cl"))
                   for n in range(3)]
        agent = make_user(db.session, Role.AGENT, [department])
        db.session.add(CannedAnswer(department_id=department.id, title="Retiro programado",
                                    body="Hola {vecino}, retiraremos el microbasural."))
        db.session.commit()
        email, ids = agent.email, [t.id for t in tickets]
        db.session.remove()
    page = open_page(1280, 900)
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bandeja de solicitudes")
    assert_no_axe_violations(page, "queue")

    rows = page.locator(".queue-table tbody tr")
    first_link, second_link = rows.nth(0).get_by_role("link"), rows.nth(1).get_by_role("link")
    page.locator("body").press("j")
    expect(first_link).to_be_focused()
    page.keyboard.press("j")
    expect(second_link).to_be_focused()
    expect(rows.nth(1)).to_have_class("current")
    page.keyboard.press("k")
    expect(first_link).to_be_focused()
    page.keyboard.press("x")
    expect(page.locator(f"#sel-{ids[0]}")).to_be_checked()

    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_have_attribute("open", "")
    page.keyboard.press("/")
    expect(page.locator("#estado")).to_be_focused()

    name = page.get_by_label("Nombre de esta vista")  # typing never triggers a shortcut
    name.fill("")
    name.press_sequentially("jk/x")
    expect(name).to_have_value("jk/x")
    expect(name).to_be_focused()

    page.keyboard.press("Escape")
    first_link.focus()
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/gestion/solicitudes/{ids[1]}$"))

    reply = page.get_by_label("Respuesta al vecino/a")
    reply.fill("Buenos días.")
    page.get_by_label("Respuesta tipo").select_option(label="Retiro programado")
    page.get_by_role("button", name="Insertar").click()
    expect(reply).to_have_value("Buenos días.\n\nHola Rosa Pérez, retiraremos el microbasural.")
    expect(reply).to_be_focused()
    assert_no_axe_violations(page, "detail with canned answers")
    screenshot(page, "queue-detail-canned")
