"""Surveys in real Chromium on a phone: the resident answers the survey from the
resolution email's link (axe-core on every step), and the survey pages staff
and residents use pass axe-core too."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.accounts.models import Role
from app.extensions import db
from app.notifications.models import OutboxMessage
from app.surveys.models import ResolutionSurvey, Survey
from app.surveys.resolution import ResolutionAnswer, answer_survey
from app.tickets.models import Status, Ticket
from tests.browser.test_resident_browser import describe_violations, sideways_overflow
from tests.factories import PASSWORD, make_department, make_user
from tests.survey_factories import make_survey, resolved_request, seeded_survey

LINK_RE = re.compile(r"http://conectados\.test(/encuesta/[\w.-]+)")


def assert_no_axe_violations(page: Page, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    expect(page.locator("html")).to_have_attribute("lang", "es-CL")
    results = Axe().run(page)
    assert results.violations_count == 0, (
        f"axe-core on {name} ({page.url}):\n{describe_violations(results.response)}")


def link_from_resolution_email(app) -> tuple[str, int]:
    with app.app_context():
        made = resolved_request(db.session)
        db.session.commit()
        body = db.session.scalar(
            sa.select(OutboxMessage.body_text)
            .where(OutboxMessage.ticket_id == made.ticket.id,
                   OutboxMessage.subject.contains("Resuelta")))
        ticket_id = made.ticket.id
        db.session.remove()
    return LINK_RE.search(body).group(1), ticket_id


def test_resident_answers_the_survey_from_the_email_on_a_phone(app, phone, screenshot):
    path, ticket_id = link_from_resolution_email(app)
    page = phone
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("¿Cómo te fue con tu solicitud?")
    assert_no_axe_violations(page, "survey form")
    overflow = sideways_overflow(page)
    screenshot(page, "survey-form-375")

    # Sending nothing: a summary whose links take focus to the first radio of each group.
    page.get_by_role("button", name="Enviar respuesta").click()
    summary = page.get_by_role("alert")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(2)
    assert_no_axe_violations(page, "survey form with errors")
    summary.get_by_role("link").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#resolved")).to_be_focused()

    # Answer by keyboard and touch: "No", 2 of 5, courtesy 3, a comment, and reopen.
    page.keyboard.press("ArrowRight")  # radio group: moves to "No" and selects it
    expect(page.get_by_role("radio", name="No", exact=True)).to_be_checked()
    page.get_by_role("group", name=re.compile("^En general")).get_by_label(
        "2 · Insatisfecho/a").check()
    page.get_by_role("group", name=re.compile("trato")).get_by_label("3 · Regular").check()
    page.get_by_label("¿Algo más que quieras contarnos? (opcional)").fill(
        "Siguen los escombros en la esquina.")
    page.get_by_label("Quiero que revisen de nuevo mi solicitud (se reabrirá)").check()
    page.get_by_role("button", name="Enviar respuesta").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("¡Gracias por responder!")
    expect(page.get_by_text("Reabrimos tu solicitud")).to_be_visible()
    assert_no_axe_violations(page, "survey thanks")
    overflow += sideways_overflow(page)
    screenshot(page, "survey-thanks-375")

    # The link is single use.
    page.goto(path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Ya respondiste esta encuesta")
    assert_no_axe_violations(page, "survey already answered")

    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        survey = db.session.scalar(sa.select(ResolutionSurvey))
        assert ticket.status is Status.IN_PROGRESS
        assert (survey.rating, survey.courtesy_rating, survey.time_rating) == (2, 3, None)
        db.session.remove()
    assert not overflow, "pages scroll sideways:\n" + "\n".join(overflow)


# --- axe-core on the other survey pages -----------------------------------------------------

def _login(page: Page, app, role: Role) -> None:
    with app.app_context():
        departments = [] if role.sees_all_departments else [make_department(db.session)]
        email = make_user(db.session, role, departments).email
        db.session.commit()
        db.session.remove()
    page.goto("/gestion/ingresar")
    page.get_by_label("Correo").fill(email)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Ingresar").click()
    expect(page).to_have_url(re.compile(r"/gestion/$"))


def _seeded(app) -> int:
    with app.app_context():
        survey_id = seeded_survey(db.session).id
        db.session.commit()
        db.session.remove()
    return survey_id


def _open_public_survey(page, app):
    _seeded(app)
    with app.app_context():
        slug = db.session.scalar(sa.select(Survey.slug))
        db.session.remove()
    page.goto(f"/encuestas/{slug}")
    page.get_by_role("button", name="Enviar respuestas").click()
    expect(page.get_by_role("alert")).to_be_visible()  # with its errors


def _open_embed(page, app):
    with app.app_context():
        slug = make_survey(db.session).slug
        db.session.commit()
        db.session.remove()
    page.goto(f"/encuestas/{slug}/embed")


def _open_results(page, app):
    survey_id = _seeded(app)
    _login(page, app, Role.MANAGER)
    page.goto(f"/gestion/encuestas/{survey_id}/resultados?grupo=edad")
    expect(page.get_by_role("heading", name="Por grupo: Tramo de edad")).to_be_visible()


def _open_builder(page, app):
    with app.app_context():
        survey_id = make_survey(db.session, open_=False).id
        db.session.commit()
        db.session.remove()
    _login(page, app, Role.ADMIN)
    page.goto(f"/gestion/encuestas/{survey_id}")


def _open_staff_answer(page, app):
    with app.app_context():
        survey_id = make_survey(db.session, kind="staff").id
        db.session.commit()
        db.session.remove()
    _login(page, app, Role.AGENT)
    page.goto(f"/gestion/encuestas/{survey_id}/responder")


def _open_satisfaction(page, app):
    with app.app_context():
        made = resolved_request(db.session)
        answer_survey(db.session, made.survey, ResolutionAnswer("yes", 4, 5, 4, "Bien"))
        db.session.commit()
        db.session.remove()
    _login(page, app, Role.MANAGER)
    page.goto("/gestion/encuestas/satisfaccion")


def _open_index(page, app):
    _seeded(app)
    _login(page, app, Role.ADMIN)
    page.goto("/gestion/encuestas/")


def _open_status_with_invite(page, app):
    with app.app_context():
        code = resolved_request(db.session).ticket.formatted_tracking_code
        db.session.commit()
        db.session.remove()
    page.goto(f"/seguimiento/{code}")
    expect(page.get_by_role("link", name="Responder la encuesta")).to_be_visible()


def _open_staff_detail_with_answer(page, app):
    with app.app_context():
        made = resolved_request(db.session)
        answer_survey(db.session, made.survey, ResolutionAnswer(
            "no", 2, 3, None, "Siguen ahí los escombros.", reopen=True))
        db.session.commit()
        ticket_id = made.ticket.id
        db.session.remove()
    _login(page, app, Role.MANAGER)
    page.goto(f"/gestion/solicitudes/{ticket_id}")
    expect(page.get_by_role("heading", name="Encuesta de satisfacción")).to_be_visible()


PAGES = {
    "status-with-invite": _open_status_with_invite,
    "staff-detail-with-answer": _open_staff_detail_with_answer,
    "public-survey-errors": _open_public_survey,
    "embed": _open_embed,
    "results-breakdown": _open_results,
    "builder": _open_builder,
    "staff-answer": _open_staff_answer,
    "satisfaction": _open_satisfaction,
    "index": _open_index,
}


@pytest.mark.parametrize("name", list(PAGES))
def test_survey_pages_have_no_axe_violations(app, phone, screenshot, name):
    PAGES[name](phone, app)
    assert_no_axe_violations(phone, name)
    screenshot(phone, f"survey-{name}-375")
    # Wide tables scroll inside their own focusable region, never the page.
    assert not sideways_overflow(phone), sideways_overflow(phone)
