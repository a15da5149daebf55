"""A resident on a phone, in real Chromium: submit, confirm, track; errors; axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.catalog.models import Macrosector
from app.extensions import db
from tests.factories import make_category, make_department, make_ticket

CODE_RE = re.compile(r"^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$")
DESCRIPTION = "La luminaria del pasaje Los Aromos está apagada desde el lunes."


def seed_categories(app) -> str:
    """Two public categories and a macrosector (so the form asks for the
    sector); returns the option label of the first category."""
    with app.app_context():
        department = make_department(db.session, name="Alumbrado Público")
        make_category(db.session, department, name="Luminaria apagada")
        make_category(db.session, name="Microbasural")
        db.session.add(Macrosector(name="Lo Hermida"))
        db.session.commit()
        db.session.remove()
    return "Luminaria apagada (Alumbrado Público)"


def focused_id(page: Page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def tab_to(page: Page, element_id: str) -> None:
    page.keyboard.press("Tab")
    assert focused_id(page) == element_id, f"Tab did not reach #{element_id}"


def sideways_overflow(page: Page) -> list[str]:
    """Describe what sticks out past the viewport (WCAG 1.4.10 reflow); empty if nothing."""
    scroll, client = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if scroll <= client:
        return []
    # Boxes past the edge, and boxes whose own text runs out of them (a long word).
    culprits = page.evaluate("""(width) => [...document.querySelectorAll('main *')]
        .filter(e => e.getBoundingClientRect().right > width + 0.5
                     || (e.scrollWidth > e.clientWidth + 1 && !e.children.length
                         && getComputedStyle(e).overflowX === 'visible'))
        .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')
                  + ' "' + e.textContent.trim().slice(0, 30) + '"')
        .slice(0, 5)""", client)
    return [f"{page.url}: {scroll}px of content in a {client}px viewport; {culprits}"]


# --- (a) the happy path, by keyboard, on phone widths ------------------------------------

@pytest.mark.parametrize("width", [375, 320, 640])
def test_resident_submits_and_tracks_by_keyboard(app, open_page, screenshot, width):
    """320: a small phone; 640: a 1280 px desktop window at 200% zoom."""
    option = seed_categories(app)
    page = (open_page(width, 400, is_mobile=False, has_touch=False) if width == 640
            else open_page(width, 740))

    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "es-CL")
    overflow = sideways_overflow(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Saltar al contenido")).to_be_focused()
    page.keyboard.press("Enter")
    assert focused_id(page) == "contenido"
    page.keyboard.press("Tab")
    start = page.locator("main").get_by_role("link", name="Hacer una solicitud")
    expect(start).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/solicitudes/nueva$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hacer una solicitud")
    screenshot(page, f"form-empty-{width}")
    overflow += sideways_overflow(page)

    category = page.get_by_label("¿Sobre qué es tu solicitud?")
    category.focus()
    category.select_option(label=option)
    tab_to(page, "description")
    page.keyboard.type(DESCRIPTION)
    tab_to(page, "address")
    page.keyboard.type("Los Aromos 1234")
    tab_to(page, "macrosector")
    tab_to(page, "attachments")  # the optional photos or documents
    tab_to(page, "name")
    page.keyboard.type("Rosa Pérez")
    tab_to(page, "email")
    page.keyboard.type("rosa@example.com")
    tab_to(page, "phone")
    tab_to(page, "rut")
    page.keyboard.press("Tab")  # the privacy policy link in the consent text
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/privacidad"
    tab_to(page, "consent")
    page.keyboard.press("Space")
    expect(page.get_by_label(re.compile("^Autorizo a la municipalidad"))).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Enviar solicitud")).to_be_focused()
    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"/solicitudes/[0-9A-Z-]+/recibida$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Recibimos tu solicitud")
    code = page.locator("#tracking-code").inner_text().strip()
    assert CODE_RE.match(code), code
    expect(page.get_by_text("Alumbrado Público")).to_be_visible()
    screenshot(page, f"confirmation-{width}")
    overflow += sideways_overflow(page)

    to_status = page.get_by_role("link", name="Ver el estado de mi solicitud")
    to_status.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/seguimiento/{code}$"))
    expect(page.locator(".summary .badge")).to_have_text("Recibida")
    expect(page.locator(".prewrap").first).to_have_text(DESCRIPTION)
    screenshot(page, f"status-{width}")
    overflow += sideways_overflow(page)

    # And the code typed into the tracking form leads back to the same page.
    page.goto("/seguimiento")
    page.get_by_label("Código de seguimiento").focus()
    page.keyboard.type(code.replace("-", "").lower())
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/seguimiento/{code}$"))
    expect(page.locator(".summary .badge")).to_have_text("Recibida")

    # Checked last so that a layout problem does not hide a broken flow.
    assert not overflow, "pages scroll sideways at this width:\n" + "\n".join(overflow)


# --- (b) errors: summary, links that move focus, input kept ---------------------------------

def test_errors_are_summarised_and_linked_to_their_fields(app, phone, screenshot):
    seed_categories(app)
    page = phone
    page.goto("/solicitudes/nueva")
    page.get_by_label("Cuéntanos qué pasa").focus()
    page.keyboard.type(DESCRIPTION)
    page.get_by_role("button", name="Enviar solicitud").focus()
    page.keyboard.press("Enter")

    page.wait_for_load_state()
    expect(page).to_have_title(re.compile(r"^Error: Hacer una solicitud"))
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="Hay un problema")).to_be_visible()
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)  # no category, no consent
    screenshot(page, "form-errors-375")

    description = page.get_by_label("Cuéntanos qué pasa")
    expect(description).to_have_value(DESCRIPTION)
    expect(description).not_to_have_attribute("aria-invalid", "true")

    for i in range(links.count()):
        link = links.nth(i)
        target = link.get_attribute("href").removeprefix("#")
        field = page.locator(f"#{target}")
        expect(field).to_have_attribute("aria-invalid", "true")
        described_by = field.get_attribute("aria-describedby").split()
        assert f"{target}-error" in described_by
        expect(page.locator(f"#{target}-error")).to_contain_text(link.inner_text())
        link.focus()
        page.keyboard.press("Enter")
        expect(field).to_be_focused()
        expect(field).to_be_in_viewport()

    # Fixing the errors keeps what was typed and goes through.
    page.get_by_label("¿Sobre qué es tu solicitud?").select_option(
        label="Luminaria apagada (Alumbrado Público)")
    page.get_by_label("Nombre").fill("Rosa Pérez")
    page.get_by_label("Teléfono").fill("+56 9 1234 5678")
    page.get_by_label(re.compile("^Autorizo a la municipalidad")).check()
    expect(description).to_have_value(DESCRIPTION)
    page.get_by_role("button", name="Enviar solicitud").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Recibimos tu solicitud")


# --- (c) axe-core on every resident page and the staff login --------------------------------

def _ticket_code(app) -> str:
    with app.app_context():
        department = make_department(db.session, name="Aseo y Ornato")
        category = make_category(db.session, department, name="Microbasural")
        ticket = make_ticket(db.session, category, notify=False, email="vecina@example.com",
                             address="Pasaje Los Aromos 1234")
        db.session.commit()
        code = ticket.formatted_tracking_code
        db.session.remove()
    return code


def _open_home(page, app):
    seed_categories(app)
    page.goto("/")


def _open_form(page, app):
    seed_categories(app)
    page.goto("/solicitudes/nueva")


def _open_form_with_errors(page, app):
    seed_categories(app)
    page.goto("/solicitudes/nueva")
    page.get_by_label("Cuéntanos qué pasa").fill("corto")
    page.get_by_label("Correo electrónico").fill("no-es-correo")
    page.get_by_role("button", name="Enviar solicitud").click()
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_be_visible()


def _open_confirmation(page, app):
    page.goto(f"/solicitudes/{_ticket_code(app)}/recibida")


def _open_track(page, app):
    page.goto("/seguimiento")


def _open_track_with_error(page, app):
    page.goto("/seguimiento")
    page.get_by_label("Código de seguimiento").fill("AAAA-BBBB-CCCC")
    page.get_by_role("button", name="Ver el estado").click()
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_be_visible()


def _open_status(page, app):
    page.goto(f"/seguimiento/{_ticket_code(app)}")


def _open_login(page, app):
    page.goto("/gestion/ingresar")


PAGES = {
    "home": _open_home,
    "submit-empty": _open_form,
    "submit-errors": _open_form_with_errors,
    "confirmation": _open_confirmation,
    "track": _open_track,
    "track-error": _open_track_with_error,
    "status": _open_status,
    "staff-login": _open_login,
}


def describe_violations(response: dict) -> str:
    lines = []
    for violation in response["violations"]:
        lines.append(f"[{violation['impact']}] {violation['id']}: {violation['help']} "
                     f"({violation['helpUrl']})")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            lines.append(f"       {summary}")
    return "\n".join(lines)


@pytest.mark.parametrize("name", list(PAGES))
def test_axe_finds_no_violations(app, phone, name):
    from axe_playwright_python.sync_playwright import Axe

    PAGES[name](phone, app)
    expect(phone.locator("html")).to_have_attribute("lang", "es-CL")
    assert phone.locator("html[lang=es-CL]").count() == 1
    results = Axe().run(phone)
    assert results.violations_count == 0, (
        f"axe-core on {name} ({phone.url}):\n{describe_violations(results.response)}")
