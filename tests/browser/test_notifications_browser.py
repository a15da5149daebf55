"""In real Chromium: a staff member sets "Mis avisos" on a phone, and every HTML
email (resident and staff) passes axe-core when opened as a page."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.accounts.models import Role
from app.database import utcnow
from app.extensions import db
from app.notifications.models import OutboxMessage
from app.notifications.preferences import NewTicketMode, StaffNotificationPreference
from app.notifications.staff import (
    notify_assigned,
    notify_sla_breach,
    notify_sla_warning,
    send_staff_digests,
)
from tests.browser.test_survey_browser import assert_no_axe_violations
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user
from tests.survey_factories import resolve


def test_staff_member_changes_their_notices_on_a_phone(app, phone, screenshot):
    with app.app_context():
        user = make_user(db.session, Role.SUPERVISOR, [make_department(db.session)])
        db.session.commit()
        email, user_id = user.email, user.id
        db.session.remove()
    page = phone
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    page.get_by_role("link", name="Mis avisos").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mis avisos")
    group = page.get_by_role("group", name="Solicitudes nuevas en mis departamentos")
    expect(group.get_by_label("Un resumen cada hora")).to_be_checked()
    assert_no_axe_violations(page, "Mis avisos")
    screenshot(page, "mis-avisos")

    group.get_by_label("Un resumen al día").check()
    page.get_by_label("Cuando una solicitud de mi departamento usó el 75% de su plazo").uncheck()
    page.get_by_role("button", name="Guardar mis avisos").click()

    expect(page.get_by_role("status")).to_contain_text("Guardamos tus preferencias de avisos.")
    expect(group.get_by_label("Un resumen al día")).to_be_checked()
    with app.app_context():
        saved = db.session.get(StaffNotificationPreference, user_id)
        assert saved.new_ticket is NewTicketMode.DAILY and saved.sla_warning is False
        assert saved.sla_breach is True
        db.session.remove()


@pytest.fixture
def every_html_email(app) -> list[tuple[str, str]]:
    """One email of each kind that has an HTML part, as (template, html)."""
    with app.app_context():
        session = db.session
        department = make_department(session, name="Alumbrado Público")
        agent = make_user(session, Role.AGENT, [department])
        supervisor = make_user(session, Role.SUPERVISOR, [department])
        agent.created_at = supervisor.created_at = utcnow() - timedelta(days=1)
        session.add(StaffNotificationPreference(user_id=agent.id,
                                                new_ticket=NewTicketMode.IMMEDIATE))
        ticket = make_ticket(session, make_category(session, department, name="Luminaria"),
                             address="Pasaje Los Aromos 1234")
        ticket.resolution_due_at = utcnow() + timedelta(days=2)
        notify_assigned(session, ticket, agent, now=utcnow())
        notify_sla_warning(session, ticket, now=utcnow())
        notify_sla_breach(session, ticket, now=utcnow())
        send_staff_digests(session, utcnow())
        from app.tickets import timeline
        timeline.add_public_reply(session, ticket, author=agent, body="Vamos mañana.\nSaludos.")
        resolve(session, ticket, agent)
        session.commit()
        rows = session.execute(sa.select(OutboxMessage.template, OutboxMessage.body_html)
                               .where(OutboxMessage.body_html.is_not(None))
                               .order_by(OutboxMessage.id)).tuples().all()
        db.session.remove()
    by_template: dict[str, str] = {}
    for template, html in rows:
        by_template.setdefault(template, html)
    return sorted(by_template.items())


def test_every_html_email_passes_axe_core(every_html_email, phone, screenshot):
    templates = [template for template, _html in every_html_email]
    assert {"ticket_received", "ticket_status_changed", "ticket_public_reply",
            "staff_new_ticket", "staff_assigned", "staff_sla_warning", "staff_sla_breach",
            "staff_digest"} <= set(templates)
    for template, html in every_html_email:
        phone.set_content(html)
        assert_no_axe_violations(phone, f"email {template}")
        screenshot(phone, f"email-{template}")
