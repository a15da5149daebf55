"""The staff journey: login, the department queue and the request detail page.

Data is set up and inspected inside short app contexts (the ``database``
fixture) and every client request runs outside them, as in production: Flask
3.1 reuses an already pushed app context for requests, which would share ``g``
(Flask-Login's cached user, Flask-WTF's cached CSRF token) and the SQLAlchemy
session between requests; after login clears the session the cached token no
longer matches and every form post would fail with 400.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.orm import Session

from app.accounts.models import Role, User
from app.catalog.models import Department
from app.database import utcnow
from app.notifications.models import OutboxMessage
from app.tickets import lifecycle
from app.tickets.models import ActorKind, EventKind, EventVisibility, Status, Ticket, TicketEvent
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user
from tests.pages import count, error_summary, status_badge, text_of

LOGIN_URL = "/gestion/ingresar"
QUEUE_URL = "/gestion/"
BAD_CREDENTIALS = "El correo o la contraseña no son correctos."



class AuthActions:
    """Log in and out through the real forms, like Flask's tutorial helper."""

    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, next: str | None = None):
        query = {"next": next} if next is not None else {}
        html = self._client.get(LOGIN_URL, query_string=query).get_data(as_text=True)
        return self._client.post(LOGIN_URL, query_string=query, data={
            "csrf_token": csrf_token_from(html), "email": email, "password": password,
        })

    def logout(self):
        html = self._client.get("/").get_data(as_text=True)
        return self._client.post("/gestion/salir", data={"csrf_token": csrf_token_from(html)})


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)










def public_numbers(html: str) -> list[str]:
    """The request numbers listed in the queue, in page order."""
    return re.findall(r'<a href="/gestion/solicitudes/\d+">(\d{4}-\d{6})</a>', html)


def post_detail_form(client, ticket_id: int, action: str, data: dict[str, str]):
    html = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    prefix = {"respuesta": "reply", "nota": "note", "estado": "status",
              "reasignar": "reassign"}[action]
    return client.post(f"/gestion/solicitudes/{ticket_id}/{action}",
                       data={f"{prefix}-csrf_token": csrf_token_from(html), **data})


@dataclass(frozen=True)
class Municipality:
    """Two departments, a request in each, and an agent of Aseo."""

    aseo_id: int
    obras_id: int
    aseo_ticket_id: int
    aseo_number: str
    aseo_code: str
    obras_ticket_id: int
    obras_number: str
    agent: str  # email


@pytest.fixture
def muni(database) -> Municipality:
    with database() as session:
        aseo = make_department(session, name="Aseo y Ornato")
        obras = make_department(session, name="Obras Municipales")
        aseo_ticket = make_ticket(session, make_category(session, aseo, name="Microbasural"),
                                  notify=False, email="vecina@example.cl")
        obras_ticket = make_ticket(session, make_category(session, obras, name="Bache"),
                                   notify=False, description="Hay un bache en la calzada.")
        agent = make_user(session, Role.AGENT, [aseo])
        session.commit()
        return Municipality(
            aseo_id=aseo.id, obras_id=obras.id,
            aseo_ticket_id=aseo_ticket.id, aseo_number=aseo_ticket.public_number,
            aseo_code=aseo_ticket.formatted_tracking_code,
            obras_ticket_id=obras_ticket.id, obras_number=obras_ticket.public_number,
            agent=agent.email,
        )


@pytest.fixture
def staff(database, muni) -> Callable[[Role], str]:
    """Create a staff member of ``role`` (in Aseo unless they see every department)."""

    def create(role: Role) -> str:
        with database() as session:
            aseo = session.get(Department, muni.aseo_id)
            user = make_user(session, role, [] if role.sees_all_departments else [aseo])
            session.commit()
            return user.email

    return create


# --- login and logout ------------------------------------------------------------


def test_login_page_is_in_spanish_with_csrf_token(client, app):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Ingreso de funcionarios" in text_of(html)
    assert csrf_token_from(html)


def test_login_with_valid_credentials_opens_queue(client, auth, database, muni):
    response = auth.login(muni.agent)

    assert response.status_code == 302
    assert response.headers["Location"] == QUEUE_URL
    queue = client.get(QUEUE_URL)
    assert queue.status_code == 200
    assert "Bandeja de solicitudes" in queue.get_data(as_text=True)
    with database() as session:
        user = session.scalar(sa.select(User).where(User.email == muni.agent))
        assert user.last_login_at is not None


def test_login_ignores_case_and_spaces_of_email(client, auth, muni):
    response = auth.login(f"  {muni.agent.upper()} ")

    assert response.status_code == 302
    assert client.get(f"/gestion/solicitudes/{muni.aseo_ticket_id}").status_code == 200


def test_wrong_password_and_unknown_email_get_same_answer(client, auth, muni):
    wrong_password = auth.login(muni.agent, "not-the-password")
    unknown_email = auth.login("nadie@example.cl", PASSWORD)

    assert wrong_password.status_code == unknown_email.status_code == 401
    wrong_html = wrong_password.get_data(as_text=True)
    unknown_html = unknown_email.get_data(as_text=True)
    assert BAD_CREDENTIALS in error_summary(wrong_html)
    assert error_summary(wrong_html) == error_summary(unknown_html)
    assert client.get(QUEUE_URL).status_code == 302  # still not logged in


def test_inactive_user_cannot_log_in_and_gets_the_same_message(client, auth, database, muni):
    with database() as session:
        user = session.scalar(sa.select(User).where(User.email == muni.agent))
        user.active = False
        session.commit()

    response = auth.login(muni.agent)

    assert response.status_code == 401
    assert BAD_CREDENTIALS in error_summary(response.get_data(as_text=True))
    assert client.get(QUEUE_URL).status_code == 302


def test_login_with_empty_fields_is_refused_with_field_messages(client, app):
    html = client.get(LOGIN_URL).get_data(as_text=True)
    response = client.post(LOGIN_URL, data={"csrf_token": csrf_token_from(html),
                                             "email": "", "password": ""})

    assert response.status_code == 422
    summary = error_summary(response.get_data(as_text=True))
    assert "Escribe tu correo." in summary
    assert "Escribe tu contraseña." in summary


@pytest.mark.parametrize(("next_url", "expected"), [
    ("/gestion/", "/gestion/"),
    ("/gestion/?estado=todas&orden=recientes", "/gestion/?estado=todas&orden=recientes"),
    ("https://evil.example/", QUEUE_URL),
    ("//evil.example", QUEUE_URL),
    ("/\\evil.example", QUEUE_URL),
    ("http:/evil.example", QUEUE_URL),
    ("javascript:alert(1)", QUEUE_URL),
    ("gestion/", QUEUE_URL),
])
def test_login_honours_next_only_for_local_paths(client, auth, muni, next_url, expected):
    response = auth.login(muni.agent, next=next_url)

    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_logged_in_user_visiting_login_page_goes_to_queue(client, auth, muni):
    auth.login(muni.agent)

    response = client.get(LOGIN_URL)

    assert response.status_code == 302
    assert response.headers["Location"] == QUEUE_URL


def test_logout_is_a_post_and_ends_the_session(client, auth, muni):
    detail_url = f"/gestion/solicitudes/{muni.aseo_ticket_id}"
    auth.login(muni.agent)

    by_get = client.get("/gestion/salir")
    assert by_get.status_code == 405
    assert "Acción no permitida" in by_get.get_data(as_text=True)
    assert client.get(detail_url).status_code == 200  # a GET did not log out

    response = auth.logout()

    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get(detail_url).status_code == 302
    assert client.get(QUEUE_URL).status_code == 302


def test_logout_without_csrf_token_is_refused(client, auth, muni):
    auth.login(muni.agent)

    response = client.post("/gestion/salir")

    assert response.status_code == 400
    assert client.get(f"/gestion/solicitudes/{muni.aseo_ticket_id}").status_code == 200


@pytest.mark.parametrize("path", ["/gestion/", "/gestion/?estado=todas",
                                  "/gestion/solicitudes/1"])
def test_anonymous_visitor_is_sent_to_login(client, app, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"{LOGIN_URL}?next=")


def test_anonymous_post_to_staff_action_changes_nothing(client, database, muni):
    html = client.get("/").get_data(as_text=True)  # a real CSRF token, but no login

    response = client.post(f"/gestion/solicitudes/{muni.aseo_ticket_id}/respuesta",
                           data={"reply-csrf_token": csrf_token_from(html),
                                 "reply-body": "Hola"})

    assert response.status_code == 302
    assert response.headers["Location"].startswith(LOGIN_URL)
    with database() as session:
        assert count(session, OutboxMessage) == 0
        assert session.get(Ticket, muni.aseo_ticket_id).first_response_at is None


def test_login_redirect_returns_to_the_page_first_asked_for(client, auth, muni):
    first = client.get(f"/gestion/solicitudes/{muni.aseo_ticket_id}")
    next_url = first.headers["Location"].split("next=", 1)[1]

    response = auth.login(muni.agent, next=unquote(next_url))

    assert response.headers["Location"] == f"/gestion/solicitudes/{muni.aseo_ticket_id}"


# --- queue -----------------------------------------------------------------------


@pytest.mark.parametrize(("role", "sees_obras"), [
    (Role.AGENT, False), (Role.SUPERVISOR, False), (Role.MANAGER, True), (Role.ADMIN, True),
])
def test_queue_shows_only_requests_of_departments_the_user_may_see(
        client, auth, muni, staff, role, sees_obras):
    auth.login(staff(role))

    html = client.get(QUEUE_URL).get_data(as_text=True)

    numbers = public_numbers(html)
    assert muni.aseo_number in numbers
    assert (muni.obras_number in numbers) is sees_obras
    assert ("Obras Municipales" in html) is sees_obras
    assert ("Hay un bache" not in html)  # descriptions are not listed


@pytest.fixture
def statuses(database, muni) -> dict[Status, str]:
    """One Aseo request per status family: public number by status."""
    with database() as session:
        aseo = session.get(Ticket, muni.aseo_ticket_id).category
        agent = session.scalar(sa.select(User).where(User.email == muni.agent))
        numbers = {Status.RECEIVED: muni.aseo_number}
        for target in (Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED):
            ticket = make_ticket(session, aseo, notify=False)
            lifecycle.transition(session, ticket, target, actor=agent, note="Motivo.",
                                 notify=False)
            numbers[target] = ticket.public_number
        session.commit()
        return numbers


@pytest.mark.parametrize(("estado", "expected"), [
    (None, {Status.RECEIVED, Status.IN_PROGRESS}),
    ("abiertas", {Status.RECEIVED, Status.IN_PROGRESS}),
    ("todas", {Status.RECEIVED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
    ("resolved", {Status.RESOLVED}),
    ("in_progress", {Status.IN_PROGRESS}),
    ("closed", {Status.CLOSED}),
    ("waiting_resident", set()),
    ("cualquier-cosa", {Status.RECEIVED, Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED}),
])
def test_queue_filters_by_status(client, auth, muni, statuses, estado, expected):
    auth.login(muni.agent)
    query = {"estado": estado} if estado is not None else {}

    html = client.get(QUEUE_URL, query_string=query).get_data(as_text=True)

    assert set(public_numbers(html)) == {statuses[s] for s in expected}
    if not expected:
        assert "No hay solicitudes con estos filtros." in html


def test_queue_filters_by_category(client, auth, database, muni):
    with database() as session:
        aseo = session.get(Ticket, muni.aseo_ticket_id).department
        poda = make_category(session, aseo, name="Poda de árboles")
        poda_ticket = make_ticket(session, poda, notify=False)
        session.commit()
        poda_id, poda_number = poda.id, poda_ticket.public_number
    auth.login(muni.agent)

    html = client.get(QUEUE_URL, query_string={"categoria": poda_id}).get_data(as_text=True)

    assert public_numbers(html) == [poda_number]
    assert f'<option value="{poda_id}" selected>Poda de árboles</option>' in html


def test_manager_filters_queue_by_department(client, auth, muni, staff):
    auth.login(staff(Role.MANAGER))

    html = client.get(QUEUE_URL, query_string={"departamento": muni.obras_id})

    assert public_numbers(html.get_data(as_text=True)) == [muni.obras_number]


def test_agent_cannot_widen_queue_with_department_filter(client, auth, muni):
    auth.login(muni.agent)

    html = client.get(QUEUE_URL, query_string={"departamento": muni.obras_id,
                                               "estado": "todas"}).get_data(as_text=True)

    assert public_numbers(html) == []


@pytest.fixture
def dated(database, muni) -> dict[str, str]:
    """Three Aseo requests of different ages and due dates: number by name."""
    now = utcnow()
    with database() as session:
        category = session.get(Ticket, muni.aseo_ticket_id).category
        session.delete(session.get(Ticket, muni.aseo_ticket_id))
        old = make_ticket(session, category, notify=False, now=now - timedelta(days=10))
        mid = make_ticket(session, category, notify=False, now=now - timedelta(days=5))
        new = make_ticket(session, category, notify=False, now=now - timedelta(days=1))
        new.resolution_due_at = now + timedelta(days=1)
        old.resolution_due_at = now + timedelta(days=7)
        mid.resolution_due_at = None
        session.commit()
        return {"old": old.public_number, "mid": mid.public_number, "new": new.public_number}


@pytest.mark.parametrize(("orden", "expected"), [
    (None, ["old", "mid", "new"]),
    ("antiguas", ["old", "mid", "new"]),
    ("recientes", ["new", "mid", "old"]),
    ("vencimiento", ["new", "old", "mid"]),  # soonest due first, no due date last
    ("otra-cosa", ["old", "mid", "new"]),
])
def test_queue_sort_orders(client, auth, muni, dated, orden, expected):
    auth.login(muni.agent)
    query = {"orden": orden} if orden is not None else {}

    html = client.get(QUEUE_URL, query_string=query).get_data(as_text=True)

    assert public_numbers(html) == [dated[name] for name in expected]


def test_queue_is_paginated_and_keeps_filters_in_page_links(client, auth, app, database, muni):
    with database() as session:
        category = session.get(Ticket, muni.aseo_ticket_id).category
        for _ in range(4):
            make_ticket(session, category, notify=False)
        session.commit()
    auth.login(muni.agent)
    previous = app.config["QUEUE_PAGE_SIZE"]
    app.config["QUEUE_PAGE_SIZE"] = 2
    try:
        first = client.get(QUEUE_URL, query_string={"estado": "todas"}).get_data(as_text=True)
        second = client.get(QUEUE_URL, query_string={"estado": "todas", "page": 2})
        third = client.get(QUEUE_URL, query_string={"estado": "todas", "page": 3})
        beyond = client.get(QUEUE_URL, query_string={"estado": "todas", "page": 9})
    finally:
        app.config["QUEUE_PAGE_SIZE"] = previous

    second_html, third_html = second.get_data(as_text=True), third.get_data(as_text=True)
    assert "5 solicitudes" in first
    assert "Página 1 de 3" in first
    assert len(public_numbers(first)) == 2
    assert re.search(r'href="/gestion/\?[^"]*page=2[^"]*"', first)
    assert re.search(r'href="/gestion/\?[^"]*estado=todas[^"]*">Siguiente', first)
    assert "Anterior" not in first
    assert "Página 2 de 3" in second_html
    assert len(public_numbers(second_html)) == 2
    assert "Página 3 de 3" in third_html
    assert len(public_numbers(third_html)) == 1
    assert "Siguiente" not in third_html
    all_numbers = public_numbers(first) + public_numbers(second_html) + public_numbers(third_html)
    assert len(set(all_numbers)) == 5
    assert beyond.status_code == 200
    assert public_numbers(beyond.get_data(as_text=True)) == []


# --- detail page: who may see it -------------------------------------------------


def test_agent_cannot_open_request_of_another_department(client, auth, muni):
    auth.login(muni.agent)

    response = client.get(f"/gestion/solicitudes/{muni.obras_ticket_id}")

    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "No encontramos esta página" in html
    assert muni.obras_number not in html


def test_agent_cannot_reply_to_request_of_another_department(client, auth, database, muni):
    auth.login(muni.agent)
    token = csrf_token_from(client.get("/").get_data(as_text=True))

    response = client.post(f"/gestion/solicitudes/{muni.obras_ticket_id}/respuesta",
                           data={"reply-csrf_token": token, "reply-body": "Intruso"})

    assert response.status_code == 404
    with database() as session:
        assert count(session, OutboxMessage) == 0
        assert session.scalar(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.PUBLIC_REPLY)) is None


def test_missing_request_and_foreign_request_get_the_same_404(client, auth, muni):
    auth.login(muni.agent)

    foreign = client.get(f"/gestion/solicitudes/{muni.obras_ticket_id}")
    missing = client.get("/gestion/solicitudes/999999")

    assert foreign.status_code == missing.status_code == 404
    # The pages differ only in the CSRF token, which is signed with a timestamp,
    # and in the language switch's way back (the path that was asked for).
    assert (_without_csrf_values(foreign.get_data(as_text=True))
            == _without_csrf_values(missing.get_data(as_text=True)))


def _without_csrf_values(html: str) -> str:
    html = re.sub(r'(name="next" value=)"[^"]+"', r"\1", html)
    return re.sub(r'(name="[\w-]*csrf_token"[^>]*value=)"[^"]+"', r"\1", html)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_manager_and_admin_open_requests_of_any_department(client, auth, muni, staff,
                                                           role):
    auth.login(staff(role))

    response = client.get(f"/gestion/solicitudes/{muni.obras_ticket_id}")

    assert response.status_code == 200
    assert f"Solicitud {muni.obras_number}" in response.get_data(as_text=True)


# --- detail page: replies and notes -----------------------------------------------


def test_public_reply_reaches_resident_page_and_email_and_counts_as_first_response(
        client, auth, database, muni):
    auth.login(muni.agent)
    body = "Gracias por avisar. Mañana pasa el camión a retirar la basura."

    response = post_detail_form(client, muni.aseo_ticket_id, "respuesta", {"reply-body": body})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/gestion/solicitudes/{muni.aseo_ticket_id}"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Respuesta enviada al vecino/a." in detail
    assert body in detail
    with database() as session:
        ticket = session.get(Ticket, muni.aseo_ticket_id)
        assert ticket.first_response_at is not None
        event = session.scalar(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.PUBLIC_REPLY))
        assert event.ticket_id == ticket.id
        assert event.visibility is EventVisibility.PUBLIC
        assert event.actor.email == muni.agent
        assert event.body == body
        messages = session.scalars(sa.select(OutboxMessage)).all()
        assert [m.recipient for m in messages] == ["vecina@example.cl"]
        assert messages[0].ticket_id == ticket.id
        assert ticket.public_number in messages[0].subject
        assert body in messages[0].body_text
    resident = client.application.test_client()
    status_html = resident.get(f"/seguimiento/{muni.aseo_code}").get_data(as_text=True)
    assert "Respuesta de la municipalidad" in status_html
    assert body in status_html


def test_first_response_time_is_kept_on_later_replies(client, auth, database, muni):
    auth.login(muni.agent)
    post_detail_form(client, muni.aseo_ticket_id, "respuesta", {"reply-body": "Primera."})
    with database() as session:
        first = session.get(Ticket, muni.aseo_ticket_id).first_response_at

    post_detail_form(client, muni.aseo_ticket_id, "respuesta", {"reply-body": "Segunda."})

    with database() as session:
        assert session.get(Ticket, muni.aseo_ticket_id).first_response_at == first
        assert count(session, OutboxMessage) == 2


def test_empty_public_reply_is_refused_and_nothing_is_sent(client, auth, database, muni):
    auth.login(muni.agent)

    response = post_detail_form(client, muni.aseo_ticket_id, "respuesta", {"reply-body": "   "})

    assert response.status_code == 422
    assert "Escribe el texto." in error_summary(response.get_data(as_text=True))
    with database() as session:
        assert count(session, OutboxMessage) == 0
        assert session.get(Ticket, muni.aseo_ticket_id).first_response_at is None
        assert count(session, TicketEvent) == 2  # the two CREATED events


def test_internal_note_is_stored_as_internal_and_never_reaches_the_resident(
        client, auth, database, muni):
    auth.login(muni.agent)
    body = "Coordinar con Obras: el sitio es de un privado."

    response = post_detail_form(client, muni.aseo_ticket_id, "nota", {"note-body": body})

    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nota interna guardada." in detail
    assert body in detail
    assert re.search(r'<li class="event-internal">.*?Interno.*?' + re.escape(body), detail,
                     re.DOTALL)
    with database() as session:
        event = session.scalar(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.INTERNAL_NOTE))
        assert event.visibility is EventVisibility.INTERNAL
        assert event.body == body
        assert event.actor.email == muni.agent
        assert count(session, OutboxMessage) == 0
        assert session.get(Ticket, muni.aseo_ticket_id).first_response_at is None
    resident = client.application.test_client()
    status_html = resident.get(f"/seguimiento/{muni.aseo_code}").get_data(as_text=True)
    assert body not in status_html
    assert "Coordinar con Obras" not in status_html


# --- detail page: status changes ---------------------------------------------------


def test_allowed_status_change_is_applied_recorded_and_emailed(client, auth, database, muni):
    auth.login(muni.agent)

    response = post_detail_form(client, muni.aseo_ticket_id, "estado", {
        "status-status": "in_progress", "status-note": "La cuadrilla va en camino.",
        "status-visible_to_resident": "y",
    })

    assert response.status_code == 302
    assert response.headers["Location"] == f"/gestion/solicitudes/{muni.aseo_ticket_id}"
    assert "Estado actualizado." in client.get(response.headers["Location"]).get_data(
        as_text=True)
    with database() as session:
        ticket = session.get(Ticket, muni.aseo_ticket_id)
        assert ticket.status is Status.IN_PROGRESS
        assert ticket.first_response_at is not None
        event = session.scalar(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.STATUS_CHANGED))
        assert (event.from_status, event.to_status) == (Status.RECEIVED, Status.IN_PROGRESS)
        assert event.visibility is EventVisibility.PUBLIC
        assert event.actor_kind is ActorKind.STAFF
        assert event.actor.email == muni.agent
        assert event.body == "La cuadrilla va en camino."
        message = session.scalar(sa.select(OutboxMessage))
        assert message.recipient == "vecina@example.cl"
        assert "En gestión" in message.subject
    resident = client.application.test_client()
    status_html = resident.get(f"/seguimiento/{muni.aseo_code}").get_data(as_text=True)
    assert status_badge(status_html) == ("in_progress", "En gestión")
    assert "La cuadrilla va en camino." in status_html


def test_status_change_hidden_from_resident_is_internal_and_not_emailed(
        client, auth, database, muni):
    auth.login(muni.agent)

    response = post_detail_form(client, muni.aseo_ticket_id, "estado", {
        "status-status": "in_review", "status-note": "Revisar si es terreno municipal.",
    })  # the checkbox left unticked

    assert response.status_code == 302
    with database() as session:
        assert session.get(Ticket, muni.aseo_ticket_id).status is Status.IN_REVIEW
        event = session.scalar(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.STATUS_CHANGED))
        assert event.visibility is EventVisibility.INTERNAL
        assert count(session, OutboxMessage) == 0
    status_html = client.application.test_client().get(
        f"/seguimiento/{muni.aseo_code}").get_data(as_text=True)
    assert "Revisar si es terreno municipal." not in status_html


def _close(client, ticket_id: int) -> None:
    response = post_detail_form(client, ticket_id, "estado", {
        "status-status": "closed", "status-note": "Se cierra por falta de antecedentes.",
        "status-visible_to_resident": "y",
    })
    assert response.status_code == 302


def _snapshot(session: Session, ticket_id: int) -> tuple:
    ticket = session.get(Ticket, ticket_id)
    return (ticket.status, ticket.updated_at, ticket.first_response_at,
            count(session, TicketEvent), count(session, OutboxMessage))


@pytest.mark.parametrize(("close_first", "target"), [
    pytest.param(False, "received", id="received-to-received"),
    pytest.param(False, "no-existe", id="unknown-status"),
    pytest.param(True, "in_progress", id="closed-to-in_progress"),
    pytest.param(True, "closed", id="closed-to-closed"),
])
def test_disallowed_status_change_is_refused_and_nothing_changes(
        client, auth, database, muni, close_first, target):
    auth.login(muni.agent)
    if close_first:
        _close(client, muni.aseo_ticket_id)
    with database() as session:
        before = _snapshot(session, muni.aseo_ticket_id)

    response = post_detail_form(client, muni.aseo_ticket_id, "estado", {
        "status-status": target, "status-note": "Intento.", "status-visible_to_resident": "y",
    })

    assert response.status_code == 422
    with database() as session:
        assert _snapshot(session, muni.aseo_ticket_id) == before


@pytest.mark.parametrize(("close_first", "target", "message"), [
    pytest.param(False, "received", "No se puede pasar de «Recibida» a «Recibida».",
                 id="received-to-received"),
    pytest.param(False, "no-existe", "Elige un estado de la lista.", id="unknown-status"),
    pytest.param(False, "", "Elige un estado de la lista.", id="no-status-chosen"),
    pytest.param(True, "in_progress", "No se puede pasar de «Cerrada» a «En gestión».",
                 id="closed-to-in_progress"),
])
def test_refused_status_change_tells_staff_why(client, auth, muni, close_first, target,
                                               message):
    """E.g. a colleague closed the request while this page was open."""
    auth.login(muni.agent)
    if close_first:
        _close(client, muni.aseo_ticket_id)

    response = post_detail_form(client, muni.aseo_ticket_id, "estado", {
        "status-status": target, "status-note": "Intento.", "status-visible_to_resident": "y",
    })

    assert response.status_code == 422
    assert str(escape(message)) in error_summary(response.get_data(as_text=True))


@pytest.mark.parametrize("target", ["waiting_resident", "duplicate", "referred", "closed"])
def test_status_change_needing_a_reason_is_refused_without_one_and_form_refilled(
        client, auth, database, muni, target):
    auth.login(muni.agent)
    with database() as session:
        before = _snapshot(session, muni.aseo_ticket_id)

    response = post_detail_form(client, muni.aseo_ticket_id, "estado", {
        "status-status": target, "status-note": "   ", "status-visible_to_resident": "y",
    })

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert '<a href="#status-note">Este cambio necesita un motivo.</a>' in error_summary(html)
    assert f'<option selected value="{target}">' in html
    assert re.search(r'<input[^>]*\bchecked\b[^>]*name="status-visible_to_resident"', html)
    with database() as session:
        assert _snapshot(session, muni.aseo_ticket_id) == before


def test_resolved_request_can_be_closed_without_reason(client, auth, database, muni):
    auth.login(muni.agent)
    post_detail_form(client, muni.aseo_ticket_id, "estado", {
        "status-status": "resolved", "status-visible_to_resident": "y"})

    response = post_detail_form(client, muni.aseo_ticket_id, "estado", {
        "status-status": "closed", "status-visible_to_resident": "y"})

    assert response.status_code == 302
    with database() as session:
        ticket = session.get(Ticket, muni.aseo_ticket_id)
        assert ticket.status is Status.CLOSED
        assert ticket.resolved_at is not None
        assert ticket.closed_at is not None


def test_detail_page_offers_only_allowed_status_moves(client, auth, muni):
    auth.login(muni.agent)
    html = client.get(f"/gestion/solicitudes/{muni.aseo_ticket_id}").get_data(as_text=True)
    offered = set(re.findall(r'<option value="(\w+)">', html.split('id="status-status"')[1]
                             .split("</select>")[0]))

    assert offered == {s.value for s in lifecycle.allowed_targets(Status.RECEIVED)}
    assert "received" not in offered

    _close(client, muni.aseo_ticket_id)
    closed_html = client.get(f"/gestion/solicitudes/{muni.aseo_ticket_id}").get_data(
        as_text=True)
    assert 'id="status-status"' not in closed_html  # nothing left to move to


# --- detail page: reassignment ------------------------------------------------------


def test_reassignment_moves_request_and_agent_returns_to_queue(client, auth, database, muni):
    auth.login(muni.agent)
    reason = "Es un bache, no basura: corresponde a Obras."

    response = post_detail_form(client, muni.aseo_ticket_id, "reasignar", {
        "reassign-department": str(muni.obras_id), "reassign-reason": reason,
    })

    assert response.status_code == 302
    assert response.headers["Location"] == QUEUE_URL  # the agent cannot see it any more
    queue_html = client.get(QUEUE_URL).get_data(as_text=True)
    assert "Solicitud reasignada a otro departamento." in queue_html
    assert muni.aseo_number not in public_numbers(queue_html)
    assert client.get(f"/gestion/solicitudes/{muni.aseo_ticket_id}").status_code == 404
    with database() as session:
        ticket = session.get(Ticket, muni.aseo_ticket_id)
        assert ticket.department_id == muni.obras_id
        event = session.scalar(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.REASSIGNED))
        assert event.visibility is EventVisibility.INTERNAL
        assert (event.from_department_id, event.to_department_id) == (muni.aseo_id,
                                                                       muni.obras_id)
        assert event.body == reason
        assert event.actor.email == muni.agent
        assert count(session, OutboxMessage) == 0
    status_html = client.application.test_client().get(
        f"/seguimiento/{muni.aseo_code}").get_data(as_text=True)
    assert "Obras Municipales" in status_html  # the department in charge now
    assert reason not in status_html


def test_manager_stays_on_detail_after_reassigning(client, auth, database, muni, staff):
    auth.login(staff(Role.MANAGER))

    response = post_detail_form(client, muni.aseo_ticket_id, "reasignar", {
        "reassign-department": str(muni.obras_id), "reassign-reason": "Corresponde a Obras.",
    })

    assert response.status_code == 302
    assert response.headers["Location"] == f"/gestion/solicitudes/{muni.aseo_ticket_id}"
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reasignada de Aseo y Ornato a Obras Municipales" in detail


@pytest.mark.parametrize(("department", "reason", "field", "message"), [
    ("obras", "", "reassign-reason", "Escribe el texto."),
    ("obras", "   ", "reassign-reason", "Escribe el texto."),
    ("", "Corresponde a otro.", "reassign-department", "Elige un departamento activo."),
    ("999999", "Corresponde a otro.", "reassign-department", "Elige un departamento activo."),
    ("aseo", "Corresponde a otro.", "reassign-department",
     "La solicitud ya está en ese departamento."),
])
def test_invalid_reassignment_is_refused_form_refilled_and_nothing_changes(
        client, auth, database, muni, department, reason, field, message):
    department_id = {"obras": str(muni.obras_id), "aseo": str(muni.aseo_id)}.get(
        department, department)
    auth.login(muni.agent)
    with database() as session:
        before = _snapshot(session, muni.aseo_ticket_id)

    response = post_detail_form(client, muni.aseo_ticket_id, "reasignar", {
        "reassign-department": department_id, "reassign-reason": reason,
    })

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<a href="#{field}">{escape(message)}</a>' in error_summary(html)
    if department == "obras":
        assert f'<option selected value="{muni.obras_id}">' in html
    if reason.strip():
        assert f">\r\n{reason}</textarea>" in html
    with database() as session:
        assert _snapshot(session, muni.aseo_ticket_id) == before
        assert session.get(Ticket, muni.aseo_ticket_id).department_id == muni.aseo_id


def test_reassignment_to_inactive_department_is_refused(client, auth, database, muni):
    with database() as session:
        closed = make_department(session, name="Oficina cerrada", active=False)
        session.commit()
        closed_id = closed.id
    auth.login(muni.agent)
    detail = client.get(f"/gestion/solicitudes/{muni.aseo_ticket_id}").get_data(as_text=True)
    assert "Oficina cerrada" not in detail  # not offered

    response = post_detail_form(client, muni.aseo_ticket_id, "reasignar", {
        "reassign-department": str(closed_id), "reassign-reason": "Probar.",
    })

    assert response.status_code == 422
    with database() as session:
        assert session.get(Ticket, muni.aseo_ticket_id).department_id == muni.aseo_id


def test_staff_form_post_without_csrf_token_is_refused(client, auth, database, muni):
    auth.login(muni.agent)

    response = client.post(f"/gestion/solicitudes/{muni.aseo_ticket_id}/nota",
                           data={"note-body": "Sin token"})

    assert response.status_code == 400
    assert "No pudimos enviar el formulario" in response.get_data(as_text=True)
    with database() as session:
        assert session.scalar(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.INTERNAL_NOTE)) is None
