"""Deadline pages: the Ley 20.285 extension form, the holiday admin, due dates
shown in America/Santiago on the queue, the detail and the resident's page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.sla import PolicyKind, SlaPolicy
from app.database import utcnow
from app.deadlines.models import HolidayOverride, OverrideKind
from app.tickets.models import EventKind, Ticket
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user
from tests.pages import error_summary, text_of

LOGIN_URL = "/gestion/ingresar"
HOLIDAYS_URL = "/gestion/admin/feriados"


def login(client, email: str):
    html = client.get(LOGIN_URL).get_data(as_text=True)
    response = client.post(LOGIN_URL, data={"csrf_token": csrf_token_from(html),
                                            "email": email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def legal(database):
    """A Ley 20.285 request filed now, and an agent of its department."""
    with database() as session:
        department = make_department(session, name="Transparencia")
        policy = SlaPolicy(name="Ley 20.285", kind=PolicyKind.LEY_20285)
        category = make_category(session, department, name="Acceso a la información",
                                 sla_policy=policy)
        agent = make_user(session, Role.AGENT, [department])
        ticket = make_ticket(session, category)
        session.commit()
        return ticket.id, agent.email, ticket.formatted_tracking_code


def test_staff_extends_a_legal_deadline_once_and_the_resident_sees_it(client, database, legal):
    ticket_id, agent, code = legal
    login(client, agent)
    detail = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    assert "Prorrogar plazo (Ley 20.285)" in detail
    with database() as session:
        old_due = session.get(Ticket, ticket_id).resolution_due_at

    response = client.post(f"/gestion/solicitudes/{ticket_id}/prorroga", data={
        "extension-csrf_token": csrf_token_from(detail),
        "extension-reason": "Hay que reunir antecedentes de tres direcciones."})
    assert response.status_code == 302
    page = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    assert "Prorrogar plazo (Ley 20.285)" not in page  # once only
    assert "plazo prorrogado" in page
    with database() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.resolution_due_at > old_due + timedelta(days=13)  # 10 business days
        assert ticket.events[-1].kind is EventKind.DEADLINE_CHANGED

    # A second post (a stale page in another tab) is refused with the reason.
    again = client.post(f"/gestion/solicitudes/{ticket_id}/prorroga", data={
        "extension-csrf_token": csrf_token_from(detail), "extension-reason": "Otra vez."})
    assert again.status_code == 422
    assert "ya fue prorrogado una vez" in error_summary(again.get_data(as_text=True))

    status_page = text_of(client.get(f"/seguimiento/{code}").get_data(as_text=True))
    assert "(plazo prorrogado)" in status_page
    assert "Hay que reunir antecedentes de tres direcciones." in status_page


def test_extension_without_reason_comes_back_with_a_spanish_error(client, database, legal):
    ticket_id, agent, _code = legal
    login(client, agent)
    detail = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    response = client.post(f"/gestion/solicitudes/{ticket_id}/prorroga", data={
        "extension-csrf_token": csrf_token_from(detail), "extension-reason": "  "})
    assert response.status_code == 422
    assert "Escribe el motivo de la prórroga." in error_summary(response.get_data(as_text=True))
    with database() as session:
        assert session.get(Ticket, ticket_id).deadline_extended_at is None


def test_extension_form_is_not_offered_once_the_legal_deadline_has_passed(client, database):
    with database() as session:
        department = make_department(session)
        category = make_category(session, department, sla_policy=SlaPolicy(
            name="Ley 20.285", kind=PolicyKind.LEY_20285))
        agent = make_user(session, Role.AGENT, [department])
        ticket = make_ticket(session, category, now=utcnow() - timedelta(days=60))
        session.commit()
        email, ticket_id = agent.email, ticket.id
    login(client, email)
    html = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    assert "(vencida)" in html
    assert "Prorrogar plazo (Ley 20.285)" not in html


def test_queue_marks_overdue_requests(client, database):
    with database() as session:
        department = make_department(session)
        agent = make_user(session, Role.AGENT, [department])
        category = make_category(session, department)
        make_ticket(session, category, now=utcnow() - timedelta(days=40))
        make_ticket(session, category)
        session.commit()
        email = agent.email
    login(client, email)
    html = client.get("/gestion/").get_data(as_text=True)
    assert html.count('class="nowrap deadline-overdue"') == 1
    assert html.count('class="nowrap deadline-ok"') == 1
    assert "Vencida" in html


def test_queue_shows_the_first_response_due_date_until_the_first_answer(client, database):
    with database() as session:
        department = make_department(session)
        agent = make_user(session, Role.AGENT, [department])
        category = make_category(session, department)
        waiting = make_ticket(session, category, now=utcnow() - timedelta(days=40))
        answered = make_ticket(session, category, now=utcnow() - timedelta(days=40))
        answered.first_response_at = utcnow() - timedelta(days=39)
        session.commit()
        assert waiting.first_response_due_at is not None
        email = agent.email
    login(client, email)
    html = client.get("/gestion/").get_data(as_text=True)
    assert html.count("1.ª respuesta:") == 1
    assert re.search(r'<span class="deadline-overdue">1\.ª respuesta: [^<]+ <strong>Vencida',
                     html)


@pytest.fixture
def admin(database) -> str:
    with database() as session:
        email = make_user(session, Role.ADMIN).email
        session.commit()
        return email


def test_admin_adds_and_deletes_a_municipal_closure(client, database, admin):
    login(client, admin)
    page = client.get(HOLIDAYS_URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Día de la Independencia" in html  # national list, in Spanish
    response = client.post(HOLIDAYS_URL, data={
        "csrf_token": csrf_token_from(html), "day": "24-12-2026",
        "name": "Nochebuena (decreto alcaldicio)", "kind": "closure"})
    assert response.status_code == 302
    html = client.get(HOLIDAYS_URL).get_data(as_text=True)
    assert "Nochebuena (decreto alcaldicio)" in html
    with database() as session:
        override = session.scalar(sa.select(HolidayOverride))
        assert (override.day, override.kind) == (date(2026, 12, 24), OverrideKind.CLOSURE)
        override_id = override.id
    response = client.post(f"{HOLIDAYS_URL}/{override_id}/eliminar",
                           data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 302
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(HolidayOverride)) == 0


@pytest.mark.parametrize(("day", "name", "kind", "message"), [
    ("31-02-2026", "Un día", "closure", "Escribe la fecha como día-mes-año"),
    ("mañana", "Un día", "closure", "Escribe la fecha como día-mes-año"),
    ("24-12-2026", "   ", "closure", "Escribe el nombre del día."),
    ("24-12-2026", "Un día", "fiesta", "Elige un tipo de la lista."),
])
def test_bad_holiday_input_is_refused_with_the_form_refilled(client, database, admin, day,
                                                              name, kind, message):
    login(client, admin)
    html = client.get(HOLIDAYS_URL).get_data(as_text=True)
    response = client.post(HOLIDAYS_URL, data={"csrf_token": csrf_token_from(html),
                                               "day": day, "name": name, "kind": kind})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in error_summary(body)
    assert f'value="{day}"' in body
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(HolidayOverride)) == 0


def test_holiday_admin_is_for_admins_only(client, database):
    with database() as session:
        email = make_user(session, Role.MANAGER).email
        session.commit()
    login(client, email)
    assert client.get(HOLIDAYS_URL).status_code == 403
