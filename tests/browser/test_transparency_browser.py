"""Public transparency pages in a real Chromium, checked with axe-core (no login)."""

from __future__ import annotations

from playwright.sync_api import expect

from app.database import utcnow
from app.extensions import db
from app.transparency.cache import cache
from app.transparency.models import ProgressUpdate, TransparencyPilot
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.test_transparency import month_label, seed


def test_public_transparency_pages_have_no_axe_violations(app, open_page, screenshot):
    with app.app_context():
        cache.clear()
        data = seed(db.session)
        import sqlalchemy as sa

        from app.catalog.models import Department
        aseo = db.session.scalar(sa.select(Department).where(Department.slug == data.aseo_slug))
        db.session.add(TransparencyPilot(department_id=aseo.id))
        db.session.add(ProgressUpdate(department_id=aseo.id, month=utcnow().date().replace(day=1),
                                      title="Operativo de limpieza en Lo Hermida",
                                      body="Retiramos 40 toneladas de escombros.",
                                      published_at=utcnow()))
        db.session.commit()
        db.session.remove()
    try:
        page = open_page(1200, 900)
        page.goto("/transparencia")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Transparencia")
        expect(page.get_by_role("row", name=month_label(1))).to_contain_text("80 %")
        assert_no_axe_violations(page, "municipality transparency page")
        screenshot(page, "transparency-municipality")

        page.get_by_role("link", name="Aseo y Ornato").click()
        expect(page.get_by_role("heading", name="Operativo de limpieza en Lo Hermida")) \
            .to_be_visible()
        assert_no_axe_violations(page, "department transparency page")
        screenshot(page, "transparency-department")

        phone = open_page(375, 740)
        phone.goto(f"/transparencia/{data.aseo_slug}")
        assert_no_axe_violations(phone, "department transparency page on a phone")

        page.goto("/datos-abiertos")
        assert_no_axe_violations(page, "open data dictionary")
    finally:
        with app.app_context():
            cache.clear()
