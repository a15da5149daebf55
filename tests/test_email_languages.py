"""Emails in their recipient's language, never in the language of whoever acted.

A resident gets the language they filed the web form in (``Ticket.locale``),
a staff member the one they last chose with the switch while signed in
(``User.locale``), everyone else Spanish. Text stored with the request (the
timeline) stays Spanish whatever the language of the click that wrote it.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.accounts.models import Role, User
from app.notifications.models import OutboxMessage
from app.tickets.assignment import assign
from app.tickets.models import Ticket, TicketEvent
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_department, make_ticket, make_user
from tests.survey_factories import login
from tests.test_resident_web import form_data, post_submission


def choose_english(client) -> None:
    assert client.post("/idioma", data={"lang": "en", "next": "/"}).status_code == 303


def emails(session, template: str, recipient: str | None = None) -> list[OutboxMessage]:
    query = sa.select(OutboxMessage).where(OutboxMessage.template == template)
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient)
    return list(session.scalars(query.order_by(OutboxMessage.id)))


def change_status(client, ticket_id: int, status: str, note: str):
    html = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    response = client.post(f"/gestion/solicitudes/{ticket_id}/estado", data={
        "status-csrf_token": csrf_token_from(html), "status-status": status,
        "status-note": note, "status-visible_to_resident": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def setup_department(database) -> tuple[int, str]:
    """A department with one public category and an agent; (category id, agent email)."""
    with database() as session:
        department = make_department(session, name="Obras Municipales")
        category = make_category(session, department, name="Luminaria apagada")
        agent = make_user(session, Role.AGENT, [department])
        session.commit()
        return category.id, agent.email


def test_a_resident_who_files_in_english_gets_english_emails_whoever_acts(app, client,
                                                                          database):
    category_id, agent_email = setup_department(database)
    choose_english(client)
    assert post_submission(client, form_data(category_id)).status_code == 302

    with database() as session:
        ticket = session.scalars(sa.select(Ticket)).one()
        assert ticket.locale == "en"
        number, ticket_id, resident = ticket.public_number, ticket.id, ticket.contact_email
        [confirmation] = emails(session, "ticket_received", resident)
        assert confirmation.subject == f"We received your request {number}"
        assert "We received your request" in confirmation.body_text
        assert "Recibimos" not in confirmation.body_text
        assert '<html lang="en">' in confirmation.body_html
        bodies = " ".join(e.body or "" for e in session.scalars(
            sa.select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)))
        assert "Departamento de la categoría" in bodies  # the timeline stays Spanish

    staff = app.test_client()  # browsing in Spanish
    login(staff, agent_email)
    change_status(staff, ticket_id, "in_progress", "La cuadrilla va en camino.")
    with database() as session:
        [update] = emails(session, "ticket_status_changed", resident)
        assert update.subject == f"Your request {number}: In progress"
        assert '<html lang="en">' in update.body_html
        assert "La cuadrilla va en camino." in update.body_text  # staff's words, as written


def test_staff_browsing_in_english_still_write_spanish_to_a_spanish_resident(app, client,
                                                                            database):
    category_id, agent_email = setup_department(database)
    assert post_submission(client, form_data(category_id)).status_code == 302
    staff = app.test_client()
    login(staff, agent_email)
    choose_english(staff)
    with database() as session:
        ticket = session.scalars(sa.select(Ticket)).one()
        assert ticket.locale == "es_CL"
        ticket_id, number = ticket.id, ticket.public_number

    change_status(staff, ticket_id, "in_progress", "Vamos mañana.")
    with database() as session:
        [update] = emails(session, "ticket_status_changed")
        assert update.subject == f"Tu solicitud {number}: En gestión"
        assert '<html lang="es-CL">' in update.body_html
        event = session.scalars(sa.select(TicketEvent).where(
            TicketEvent.ticket_id == ticket_id, TicketEvent.to_status.is_not(None))
            .order_by(TicketEvent.id.desc())).first()
        assert event.to_status.value == "in_progress"


def test_staff_emails_follow_the_language_each_chose_while_signed_in(app, database):
    with database() as session:
        department = make_department(session, name="Obras Municipales")
        english, spanish = (make_user(session, Role.AGENT, [department]) for _ in range(2))
        supervisor = make_user(session, Role.SUPERVISOR, [department])
        session.commit()
        english_email, spanish_email, supervisor_id = (english.email, spanish.email,
                                                       supervisor.id)
    browser = app.test_client()
    login(browser, english_email)
    choose_english(browser)
    choose_english(browser)  # choosing again changes nothing
    with database() as session:
        assert session.scalar(sa.select(User.locale).where(
            User.email == english_email)) == "en"
        assert session.scalar(sa.select(User.locale).where(
            User.email == spanish_email)) is None
        ticket = make_ticket(session, make_category(session, department))
        actor = session.get(User, supervisor_id)
        for email in (english_email, spanish_email):
            assign(session, ticket, session.scalar(sa.select(User).where(User.email == email)),
                   actor=actor)
        session.commit()
        number = ticket.public_number
        [to_english] = emails(session, "staff_assigned", english_email)
        [to_spanish] = emails(session, "staff_assigned", spanish_email)
    assert to_english.subject == f"Request {number} was assigned to you"
    assert '<html lang="en">' in to_english.body_html
    assert to_spanish.subject == f"Se te asignó la solicitud {number}"
    assert '<html lang="es-CL">' in to_spanish.body_html


def test_a_sign_in_link_and_a_password_reset_come_in_the_language_they_were_asked_in(
        app, client, database):
    category_id, agent_email = setup_department(database)
    assert post_submission(client, form_data(category_id)).status_code == 302
    with database() as session:
        resident = session.scalars(sa.select(Ticket.contact_email)).one()

    english = app.test_client()
    choose_english(english)
    html = english.get("/mis-solicitudes/ingresar").get_data(as_text=True)
    english.post("/mis-solicitudes/ingresar",
                 data={"csrf_token": csrf_token_from(html), "email": resident})
    html = english.get("/gestion/recuperar").get_data(as_text=True)
    english.post("/gestion/recuperar",
                 data={"csrf_token": csrf_token_from(html), "email": agent_email})
    html = client.get("/gestion/recuperar").get_data(as_text=True)  # the Spanish browser
    client.post("/gestion/recuperar",
                data={"csrf_token": csrf_token_from(html), "email": agent_email})

    with database() as session:
        [link] = emails(session, "resident_login_link", resident)
        english_reset, spanish_reset = emails(session, "staff_password_reset", agent_email)
    assert link.subject == "Your link to enter My requests"
    assert english_reset.subject == "Change your Conectados password"
    assert spanish_reset.subject == "Cambia tu contraseña de Conectados"


def test_the_email_preview_shows_every_email_as_an_english_recipient_gets_it(app, database):
    with database() as session:
        admin = make_user(session, Role.ADMIN)
        session.commit()
        email = admin.email
    browser = app.test_client()
    login(browser, email)

    spanish = browser.get("/gestion/admin/correos").get_data(as_text=True)
    english = browser.get("/gestion/admin/correos?idioma=en").get_data(as_text=True)

    def subjects(html: str) -> list[str]:
        return re.findall(r'<dd class="email-subject" lang="([^"]+)">([^<]+)</dd>', html)

    assert subjects(spanish) and {lang for lang, _ in subjects(spanish)} == {"es-CL"}
    assert {lang for lang, _ in subjects(english)} == {"en"}
    assert len(subjects(english)) == len(subjects(spanish))
    assert any(s.startswith("We received your request") for _, s in subjects(english))
    assert any(s.startswith("Recibimos tu solicitud") for _, s in subjects(spanish))
    assert not any(s.startswith(("Recibimos", "Tu solicitud", "Se te asignó"))
                   for _, s in subjects(english))
    assert 'aria-current="page" lang="en">English</strong>' in english
