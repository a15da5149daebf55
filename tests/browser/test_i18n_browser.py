"""In real Chromium: a resident and a staff member switch the site to English with
the keyboard, stay on the same page, and the English pages pass axe-core."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from app.extensions import db
from tests.browser.test_resident_browser import describe_violations, seed_categories
from tests.factories import PASSWORD, make_department, make_ticket, make_user


def assert_no_axe_violations_in(page: Page, lang: str, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    expect(page.locator("html")).to_have_attribute("lang", lang)
    results = Axe().run(page)
    assert results.violations_count == 0, (
        f"axe-core on {name} ({page.url}):\n{describe_violations(results.response)}")


def test_resident_switches_to_english_and_back_on_the_same_page(app, phone):
    seed_categories(app)
    with app.app_context():
        ticket = make_ticket(db.session)
        db.session.commit()
        code = ticket.formatted_tracking_code
        db.session.remove()
    page = phone
    page.goto(f"/seguimiento/{code}")
    switch = page.get_by_role("button", name="English")
    expect(switch).to_have_attribute("lang", "en")
    switch.focus()
    page.keyboard.press("Enter")  # no JavaScript involved: a plain form post

    page.wait_for_url(f"**/seguimiento/{code}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Follow my request")).to_be_visible()
    assert_no_axe_violations_in(page, "en", "English status page")

    page.get_by_role("link", name="Make a request").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("button", name="Send request")).to_be_visible()
    assert_no_axe_violations_in(page, "en", "English request form")

    page.get_by_role("button", name="Send request").click()  # empty: the error summary
    expect(page.get_by_text("There is a problem")).to_be_visible()
    assert_no_axe_violations_in(page, "en", "English form with errors")

    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es-CL")
    expect(page.get_by_role("button", name="Enviar solicitud")).to_be_visible()


def test_staff_member_works_in_english(app, open_page):
    with app.app_context():
        department = make_department(db.session)
        user = make_user(db.session, departments=[department])
        make_ticket(db.session)
        db.session.commit()
        email = user.email
        db.session.remove()
    page = open_page(1280, 900)
    page.goto("/gestion/ingresar")
    page.get_by_role("button", name="English").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Request inbox")
    assert_no_axe_violations_in(page, "en", "English staff inbox")
    page.get_by_role("link", name="My notifications").click()
    expect(page.get_by_text("Do not notify me")).to_be_visible()
    assert_no_axe_violations_in(page, "en", "English notification settings")
