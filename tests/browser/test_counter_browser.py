"""An agent at the counter, in real Chromium: search earlier requests, register one with
a photo, print the handover; axe-core on every step and on the staff request page with
its attachments and possible duplicates."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.extensions import db
from app.tickets.contact import ResidentContact
from tests.browser.test_resident_browser import describe_violations, sideways_overflow
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

CODE_RE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")


def assert_no_axe_violations(page: Page, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    assert results.violations_count == 0, (
        f"axe-core on {name} ({page.url}):\n{describe_violations(results.response)}")


def seed_and_login(app, page: Page) -> dict:
    with app.app_context():
        department = make_department(db.session, name="Alumbrado Público")
        category = make_category(db.session, department, name="Luminaria apagada")
        earlier = make_ticket(db.session, category, notify=False, address="Los Aromos 12",
                              contact=ResidentContact(name="Rosa Pérez",
                                                      email="rosa@example.cl",
                                                      rut="12.345.678-5"))
        agent = make_user(db.session, Role.AGENT, [department])
        db.session.commit()
        seeded = {"earlier": earlier.public_number, "earlier_id": earlier.id,
                  "email": agent.email}
        db.session.remove()
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(seeded["email"])
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).to_have_url(re.compile(r"/gestion/$"))
    return seeded


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 30), "blue").save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("width", [375, 1024])
def test_agent_registers_a_request_and_prints_the_handover(app, open_page, screenshot,
                                                           width):
    page = open_page(width, 800)
    seeded = seed_and_login(app, page)
    overflow = []

    page.get_by_role("link", name="Registrar solicitud").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrar solicitud")
    assert_no_axe_violations(page, "counter form")
    overflow += sideways_overflow(page)

    page.get_by_label("Correo, teléfono o RUT del vecino/a").fill("12.345.678-5")
    page.get_by_role("button", name="Buscar").click()
    expect(page.get_by_role("status").first).to_contain_text("Encontramos 1 solicitud")
    expect(page.get_by_role("link", name=seeded["earlier"], exact=True)).to_be_visible()
    assert_no_axe_violations(page, "counter lookup results")
    overflow += sideways_overflow(page)
    screenshot(page, f"counter-lookup-{width}")
    page.get_by_role("link", name=re.compile("^Usar estos datos")).click()
    expect(page.get_by_label("RUT (opcional)")).to_have_value("12345678-5")

    page.get_by_label("Por teléfono").check()
    page.get_by_label("¿Sobre qué es tu solicitud?").select_option(
        label="Luminaria apagada (Alumbrado Público)")
    page.get_by_label(re.compile("^El vecino/a autoriza")).uncheck()
    page.get_by_label("Cuéntanos qué pasa").fill("Llama la vecina: la luminaria sigue apagada.")
    page.get_by_label("Dirección o lugar (opcional)").fill("Los Aromos 12")
    page.get_by_label("Fotos o documentos (opcional)").set_input_files(
        files=[{"name": "poste.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.get_by_role("button", name="Registrar solicitud").click()

    # Consent was not ticked: the error is summarised, the file must be chosen again.
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("autorizó el uso de sus datos")
    expect(summary).to_contain_text("Vuelve a elegir los archivos")
    expect(page.get_by_label("Cuéntanos qué pasa")).to_have_value(
        "Llama la vecina: la luminaria sigue apagada.")
    assert_no_axe_violations(page, "counter form with errors")
    summary.get_by_role("link").first.click()
    expect(page.locator("#consent")).to_be_focused()

    page.get_by_label(re.compile("^El vecino/a autoriza")).check()
    page.get_by_label("Fotos o documentos (opcional)").set_input_files(
        files=[{"name": "poste.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.get_by_role("button", name="Registrar solicitud").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Comprobante de solicitud")
    code = page.locator("#tracking-code").inner_text().strip()
    assert CODE_RE.match(code), code
    assert_no_axe_violations(page, "handover")
    overflow += sideways_overflow(page)
    screenshot(page, f"counter-handover-{width}")

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Imprimir comprobante")).to_be_hidden()
    expect(page.locator("#tracking-code")).to_be_visible()
    expect(page.locator(".print-only")).to_be_visible()
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Ver la solicitud").click()
    expect(page.get_by_role("heading", name="Adjuntos")).to_be_visible()
    expect(page.get_by_role("link", name="poste.png")).to_be_visible()
    expect(page.get_by_role("heading", name="Posibles duplicadas")).to_be_visible()
    expect(page.get_by_text(seeded["earlier"]).first).to_be_visible()  # same category
    assert_no_axe_violations(page, "staff detail with attachments and duplicates")
    overflow += sideways_overflow(page)
    screenshot(page, f"counter-detail-{width}")

    assert not overflow, "pages scroll sideways:\n" + "\n".join(overflow)
