"""WCAG checks beyond axe-core, in real Chromium, on the pages used most: the
submission form, the status page, the staff queue and a request's page.

- 1.4.10 Reflow: at 320 CSS px wide (a small phone) and at 200% zoom (a
  1280 px desktop window zoomed in: 640 CSS px at device scale factor 2) the
  page never scrolls sideways.
- 2.4.7 / 2.4.11 Focus visible: every element reached with Tab draws a focus
  indicator (an outline or a box shadow), and is not hidden off screen.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.extensions import db
from app.tickets import timeline
from tests.browser.test_resident_browser import sideways_overflow
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

VIEWPORTS = {
    "phone-320": {"width": 320, "height": 640},
    "zoom-200": {"width": 640, "height": 400, "is_mobile": False, "has_touch": False},
}
TAB_STOPS = 60  # enough to walk the whole form and the queue's filters and rows

# For the element that has focus: why its focus would not be visible ("" if it is).
FOCUS_PROBLEM = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "";
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
  const shadow = s.boxShadow && s.boxShadow !== "none";
  const r = e.getBoundingClientRect();
  const where = e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
      + (e.name ? "[name=" + e.name + "]" : "")
      + ' "' + (e.textContent || "").trim().slice(0, 25) + '"';
  if (!outline && !shadow) return where + ": no outline and no box-shadow";
  if (r.right < 0 || r.left > document.documentElement.clientWidth)
    return where + ": off screen at x=" + Math.round(r.left);
  return "";
}"""


def seed(app) -> tuple[str, str, int]:
    """Categories, a request with a public reply, and an agent: (code, email, ticket id)."""
    with app.app_context():
        department = make_department(db.session, name="Alumbrado Público")
        category = make_category(db.session, department, name="Luminaria apagada")
        make_category(db.session, department, name="Poste en mal estado")
        agent = make_user(db.session, Role.AGENT, [department])
        ticket = make_ticket(db.session, category, notify=False, address="Los Aromos 1234")
        make_ticket(db.session, category, notify=False)
        timeline.add_public_reply(db.session, ticket, author=agent,
                                  body="Enviamos una cuadrilla el jueves por la mañana.")
        db.session.commit()
        values = ticket.formatted_tracking_code, agent.email, ticket.id
        db.session.remove()
    return values


def focus_problems(page: Page) -> list[str]:
    """Tab from the top of the page; describe every stop whose focus is not visible."""
    page.locator("body").focus()
    problems, seen = [], set()
    for _ in range(TAB_STOPS):
        page.keyboard.press("Tab")
        key = page.evaluate("document.activeElement && document.activeElement.outerHTML"
                            ".slice(0, 200)")
        if key in seen:  # wrapped around to the address bar and back
            break
        seen.add(key)
        problem = page.evaluate(FOCUS_PROBLEM)
        if problem:
            problems.append(f"{page.url}: {problem}")
    assert len(seen) > 3, f"{page.url}: Tab reached only {len(seen)} elements"
    return problems


def log_in(page: Page, email: str) -> None:
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bandeja de solicitudes")


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_main_pages_reflow_and_show_focus(app, open_page, screenshot, viewport):
    code, email, ticket_id = seed(app)
    page = open_page(**VIEWPORTS[viewport])
    overflow, unfocused = [], []
    for path, name in [("/solicitudes/nueva", "form"), (f"/seguimiento/{code}", "status")]:
        page.goto(path)
        overflow += sideways_overflow(page)
        unfocused += focus_problems(page)
        screenshot(page, f"wcag-{name}-{viewport}")
    # The form after a refused submission: the error summary must reflow too.
    page.goto("/solicitudes/nueva")
    page.get_by_role("button", name="Enviar solicitud").click()
    expect(page.get_by_role("alert")).to_be_visible()
    overflow += sideways_overflow(page)
    log_in(page, email)
    for path, name in [("/gestion/", "queue"), (f"/gestion/solicitudes/{ticket_id}", "detail")]:
        page.goto(path)
        overflow += sideways_overflow(page)
        unfocused += focus_problems(page)
        screenshot(page, f"wcag-{name}-{viewport}")
    assert_no_axe_violations(page, f"detail at {viewport}")
    assert not overflow, f"pages scroll sideways at {viewport}:\n" + "\n".join(overflow)
    assert not unfocused, f"focus not visible at {viewport}:\n" + "\n".join(unfocused)
