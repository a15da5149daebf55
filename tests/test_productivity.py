"""Staff productivity: canned answers, saved queue views and bulk actions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.audit.models import AuditEntry
from app.catalog.models import Category
from app.notifications.models import OutboxMessage
from app.productivity.canned import fill_placeholders
from app.productivity.models import CannedAnswer, SavedFilter
from app.tickets import lifecycle
from app.tickets.contact import ResidentContact
from app.tickets.models import EventKind, Status, Ticket, TicketEvent
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user
from tests.pages import count, error_summary, text_of

QUEUE = "/gestion/"
NEW = "/gestion/respuestas-tipo/nueva"


def login(client, email: str) -> None:
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    response = client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": PASSWORD})
    assert response.status_code == 302


@dataclass(frozen=True)
class Setup:
    aseo_id: int
    obras_id: int
    category_id: int
    other_category_id: int
    tickets: list[int]        # three open requests of Aseo, same category
    numbers: list[str]
    obras_ticket: int
    agent: str
    supervisor: str
    obras_supervisor: str
    manager: str
    admin: str


@pytest.fixture
def setup(database) -> Setup:
    with database() as session:
        aseo = make_department(session, name="Aseo y Ornato")
        obras = make_department(session, name="Obras Municipales")
        category = make_category(session, aseo, name="Microbasural")
        other = make_category(session, aseo, name="Poda")
        tickets = [make_ticket(session, category, notify=False,
                               contact=ResidentContact(name=f"Vecina {n}",
                                                       email=f"v{n}@example.cl"))
                   for n in range(3)]
        obras_ticket = make_ticket(session, make_category(session, obras), notify=False)
        users = [make_user(session, Role.AGENT, [aseo]),
                 make_user(session, Role.SUPERVISOR, [aseo]),
                 make_user(session, Role.SUPERVISOR, [obras]),
                 make_user(session, Role.MANAGER), make_user(session, Role.ADMIN)]
        session.commit()
        return Setup(aseo.id, obras.id, category.id, other.id, [t.id for t in tickets],
                     [t.public_number for t in tickets], obras_ticket.id,
                     *[u.email for u in users])


def add_answer(database, department_id: int | None, title: str, body: str,
               active: bool = True) -> int:
    with database() as session:
        answer = CannedAnswer(department_id=department_id, title=title, body=body,
                              active=active)
        session.add(answer)
        session.commit()
        return answer.id


def post_form(client, get_path: str, post_path: str, data: dict):
    html = client.get(get_path).get_data(as_text=True)
    token = csrf_token_from(html)
    return client.post(post_path, data={key: (token if value == "TOKEN" else value)
                                         for key, value in data.items()})


def textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', html, re.DOTALL)
    assert match, f"no textarea {name}"
    return unescape(match.group(1)).lstrip("\r\n")


# --- canned answers: who manages them -----------------------------------------------


@pytest.mark.parametrize("role_attr", ["agent", "manager"])
def test_agents_and_managers_cannot_manage_canned_answers(client, setup, role_attr):
    login(client, getattr(setup, role_attr))
    assert client.get("/gestion/respuestas-tipo").status_code == 403
    assert client.get("/gestion/respuestas-tipo/nueva").status_code == 403


def test_supervisor_creates_an_answer_for_their_department(client, database, setup):
    login(client, setup.supervisor)
    response = post_form(client, NEW, NEW, {
        "csrf_token": "TOKEN", "department": str(setup.aseo_id), "title": "Retiro programado",
        "body": "Hola {vecino}, retiraremos el microbasural.", "active": "y"})
    assert response.status_code == 302
    with database() as session:
        answer = session.scalar(sa.select(CannedAnswer))
        assert (answer.department_id, answer.title, answer.active) == (
            setup.aseo_id, "Retiro programado", True)
    assert "Retiro programado" in client.get("/gestion/respuestas-tipo").get_data(as_text=True)


@pytest.mark.parametrize("department", ["", "obras"])
def test_supervisor_cannot_create_for_all_or_another_department(client, database, setup,
                                                                 department):
    login(client, setup.supervisor)
    value = str(setup.obras_id) if department == "obras" else ""
    response = post_form(client, NEW, NEW, {
        "csrf_token": "TOKEN", "department": value, "title": "Texto", "body": "Cuerpo"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Elige uno de tus departamentos." in error_summary(html)
    assert 'value="Texto"' in html and textarea(html, "body") == "Cuerpo"
    with database() as session:
        assert count(session, CannedAnswer) == 0


def test_admin_creates_an_answer_for_every_department(client, database, setup):
    login(client, setup.admin)
    response = post_form(client, NEW, NEW, {
        "csrf_token": "TOKEN", "department": "", "title": "Saludo", "body": "Hola."})
    assert response.status_code == 302
    with database() as session:
        assert session.scalar(sa.select(CannedAnswer.department_id)) is None


@pytest.mark.parametrize("bad, message", [
    ({"title": ""}, "Escribe un título."),
    ({"body": "  "}, "Escribe el texto de la respuesta."),
    ({"title": "x" * 121}, "El título puede tener como máximo 120 caracteres."),
])
def test_bad_canned_answer_is_refused_in_spanish(client, setup, bad, message):
    login(client, setup.supervisor)
    data = {"csrf_token": "TOKEN", "department": str(setup.aseo_id), "title": "T",
            "body": "B", **bad}
    response = post_form(client, "/gestion/respuestas-tipo/nueva",
                         "/gestion/respuestas-tipo/nueva", data)
    assert response.status_code == 422
    assert message in error_summary(response.get_data(as_text=True))


def test_supervisor_of_another_department_cannot_see_or_edit_an_answer(client, database,
                                                                       setup):
    answer_id = add_answer(database, setup.aseo_id, "Aseo", "Texto de aseo")
    global_id = add_answer(database, None, "Global", "Para todos")
    login(client, setup.obras_supervisor)
    listing = client.get("/gestion/respuestas-tipo").get_data(as_text=True)
    assert "Texto de aseo" not in listing and "Aseo</a>" not in listing
    assert client.get(f"/gestion/respuestas-tipo/{answer_id}").status_code == 404
    assert client.get(f"/gestion/respuestas-tipo/{global_id}").status_code == 404
    html = client.get("/gestion/respuestas-tipo").get_data(as_text=True)
    response = client.post(f"/gestion/respuestas-tipo/{answer_id}/eliminar",
                           data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 404
    with database() as session:
        assert count(session, CannedAnswer) == 2


def test_supervisor_edits_and_deletes_their_answer(client, database, setup):
    answer_id = add_answer(database, setup.aseo_id, "Aseo", "Texto")
    login(client, setup.supervisor)
    path = f"/gestion/respuestas-tipo/{answer_id}"
    assert post_form(client, path, path, {"csrf_token": "TOKEN",
                                          "department": str(setup.aseo_id),
                                          "title": "Aseo 2", "body": "Nuevo"}).status_code == 302
    with database() as session:
        answer = session.get(CannedAnswer, answer_id)
        assert (answer.title, answer.body, answer.active) == ("Aseo 2", "Nuevo", False)
    assert post_form(client, path, path + "/eliminar",
                     {"csrf_token": "TOKEN"}).status_code == 302
    with database() as session:
        assert count(session, CannedAnswer) == 0


# --- canned answers in the reply form ---------------------------------------------


def test_reply_form_offers_the_departments_active_answers_and_global_ones(client, database,
                                                                          setup):
    add_answer(database, setup.aseo_id, "De aseo", "a")
    add_answer(database, None, "Para todos", "b")
    add_answer(database, setup.obras_id, "De obras", "c")
    add_answer(database, setup.aseo_id, "Vieja", "d", active=False)
    login(client, setup.agent)
    html = client.get(f"/gestion/solicitudes/{setup.tickets[0]}").get_data(as_text=True)
    select = re.search(r'<select id="reply-canned".*?</select>', html, re.DOTALL).group(0)
    assert re.findall(r">([^<]+)</option>", select)[1:] == ["De aseo", "Para todos"]
    assert '<label for="reply-canned">Respuesta tipo</label>' in html
    assert 'src="/static/canned.js"' in html


def test_insert_without_javascript_appends_to_what_was_typed(client, database, setup):
    answer_id = add_answer(database, setup.aseo_id, "Retiro",
                           "Hola {vecino}: la solicitud {numero} ({categoria}) va. {otro}")
    login(client, setup.agent)
    path = f"/gestion/solicitudes/{setup.tickets[0]}"
    response = post_form(client, path, path + "/respuesta", {
        "reply-csrf_token": "TOKEN", "reply-body": "Buenos días.\n", "accion": "insertar",
        "canned_answer": str(answer_id)})
    assert response.status_code == 200
    assert textarea(response.get_data(as_text=True), "reply-body") == (
        f"Buenos días.\n\nHola Vecina 0: la solicitud {setup.numbers[0]} (Microbasural) va."
        " {otro}")
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(
            TicketEvent.kind == EventKind.PUBLIC_REPLY)) == 0


def test_insert_of_another_departments_answer_is_refused_and_keeps_the_text(client, database,
                                                                           setup):
    answer_id = add_answer(database, setup.obras_id, "De obras", "No")
    login(client, setup.agent)
    path = f"/gestion/solicitudes/{setup.tickets[0]}"
    response = post_form(client, path, path + "/respuesta", {
        "reply-csrf_token": "TOKEN", "reply-body": "Lo que escribí", "accion": "insertar",
        "canned_answer": str(answer_id)})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Elige una respuesta tipo de la lista" in error_summary(html)
    assert textarea(html, "reply-body") == "Lo que escribí"


def test_placeholders_are_filled_as_plain_text():
    ticket = Ticket(public_number="2026-000042", category=Category(name="Microbasural"),
                    contact_name=None)
    text = fill_placeholders("{vecino} {numero} {categoria} {numero.__class__} {0} {", ticket)
    assert text == "vecino/a 2026-000042 Microbasural {numero.__class__} {0} {"
    ticket.contact_name = "Ana"
    assert fill_placeholders("Hola {vecino}, {vecino}", ticket) == "Hola Ana, Ana"


def test_resident_name_with_markup_is_escaped_in_the_reply_form(client, database, setup):
    with database() as session:
        ticket = make_ticket(session, session.get(Ticket, setup.tickets[0]).category,
                             contact=ResidentContact(name="<b>Eva</b>", email="e@example.cl"),
                             notify=False)
        session.commit()
        ticket_id = ticket.id
    add_answer(database, setup.aseo_id, "Saludo", "Hola {vecino}")
    login(client, setup.agent)
    html = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    assert 'data-text="Hola &lt;b&gt;Eva&lt;/b&gt;"' in html


# --- saved views -------------------------------------------------------------------


def test_saved_view_keeps_only_the_queues_filters_and_is_private(client, database, app,
                                                                 setup):
    login(client, setup.agent)
    view = f"{QUEUE}?estado=todas&categoria={setup.category_id}&orden=recientes&evil=1"
    response = post_form(client, view, f"/gestion/vistas?estado=todas&categoria="
                         f"{setup.category_id}&orden=recientes&evil=1",
                         {"view-csrf_token": "TOKEN", "view-name": "Microbasurales"})
    assert response.status_code == 302
    expected = f"estado=todas&categoria={setup.category_id}&orden=recientes"
    assert response.headers["Location"] == f"{QUEUE}?{expected}"
    with database() as session:
        saved = session.scalar(sa.select(SavedFilter))
        assert (saved.name, saved.query) == ("Microbasurales", expected)
        saved_id = saved.id
    html = client.get(QUEUE).get_data(as_text=True)
    assert f'<a href="{QUEUE}?{expected.replace("&", "&amp;")}">Microbasurales</a>' in html

    other = app.test_client()
    login(other, setup.supervisor)
    other_html = other.get(QUEUE).get_data(as_text=True)
    assert "Microbasurales" not in other_html
    refused = other.post(f"/gestion/vistas/{saved_id}/eliminar",
                         data={"csrf_token": csrf_token_from(other_html)})
    assert refused.status_code == 404
    with database() as session:
        assert count(session, SavedFilter) == 1
    deleted = client.post(f"/gestion/vistas/{saved_id}/eliminar",
                          data={"csrf_token": csrf_token_from(html)})
    assert deleted.status_code == 302
    with database() as session:
        assert count(session, SavedFilter) == 0


def test_saved_view_keeps_the_filters_a_dashboard_figure_links_with(client, database, setup):
    # A figure's list (e.g. late requests by phone in a period) can be kept as a view.
    login(client, setup.agent)
    query = ("estado=todas&canal=phone&macrosector=3&desde=2026-09-01&hasta=2026-11-30"
             "&cifra=con-atraso")
    response = post_form(client, f"{QUEUE}?{query}", f"/gestion/vistas?{query}&evil=1",
                         {"view-csrf_token": "TOKEN", "view-name": "Atrasadas por teléfono"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{QUEUE}?{query}"
    with database() as session:
        assert session.scalar(sa.select(SavedFilter.query)) == query


def test_saving_a_view_with_the_same_name_replaces_it(client, database, setup):
    login(client, setup.agent)
    for query in ("estado=todas", "estado=closed"):
        post_form(client, QUEUE, f"/gestion/vistas?{query}",
                  {"view-csrf_token": "TOKEN", "view-name": "  Mi   vista "})
    with database() as session:
        assert session.execute(sa.select(SavedFilter.name, SavedFilter.query)).all() == [
            ("Mi vista", "estado=closed")]


def test_view_without_name_is_refused_on_the_same_queue(client, database, setup):
    login(client, setup.agent)
    response = post_form(client, QUEUE, "/gestion/vistas?estado=todas",
                         {"view-csrf_token": "TOKEN", "view-name": " "})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Escribe un nombre para esta vista." in error_summary(html)
    assert '<option value="todas" selected>' in html
    with database() as session:
        assert count(session, SavedFilter) == 0


# --- bulk actions ------------------------------------------------------------------


def bulk(client, ids: list[int], query: str = "", **fields):
    data = {"bulk-csrf_token": "TOKEN", "ids": [str(i) for i in ids]}
    data.update({k if k == "accion" else f"bulk-{k}": v for k, v in fields.items()})
    html = client.get(QUEUE + query).get_data(as_text=True)
    token = csrf_token_from(html)
    data["bulk-csrf_token"] = token
    return client.post("/gestion/lote" + query, data=data)


def statuses(database, ids: list[int]) -> list[Status]:
    with database() as session:
        return [session.get(Ticket, i).status for i in ids]


def test_bulk_status_change_moves_every_selected_request(client, database, setup):
    login(client, setup.agent)
    response = bulk(client, setup.tickets[:2], "?estado=todas", accion="estado",
                    status="in_review", note="", visible_to_resident="y")
    assert response.status_code == 302
    assert response.headers["Location"] == f"{QUEUE}?estado=todas"
    assert statuses(database, setup.tickets) == [Status.IN_REVIEW, Status.IN_REVIEW,
                                                 Status.RECEIVED]
    agent_id = user_id(database, setup.agent)
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TicketEvent).where(
            TicketEvent.kind == EventKind.STATUS_CHANGED)) == 2
        audit = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "ticket.status").order_by(AuditEntry.id)).all()
        assert [(a.target_id, a.actor_id, a.details["to"]) for a in audit] == [
            (str(t), agent_id, "in_review") for t in setup.tickets[:2]]


def test_bulk_status_change_is_all_or_nothing(client, database, setup):
    with database() as session:
        closed = session.get(Ticket, setup.tickets[2])
        lifecycle.transition(session, closed, Status.RESOLVED, actor=None)
        lifecycle.transition(session, closed, Status.CLOSED, actor=None)
        session.commit()
        outbox_before = count(session, OutboxMessage)
        events_before = count(session, TicketEvent)
    login(client, setup.agent)
    response = bulk(client, setup.tickets, "?estado=todas", accion="estado",
                    status="in_progress", note="Vamos", visible_to_resident="y")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = text_of(error_summary(html))
    assert "No se hizo ningún cambio: 1 de las solicitudes marcadas no lo permiten." in summary
    assert f"N° {setup.numbers[2]}: No se puede pasar de «Cerrada» a «En gestión»." in summary
    assert setup.numbers[0] not in summary
    assert statuses(database, setup.tickets) == [Status.RECEIVED, Status.RECEIVED,
                                                 Status.CLOSED]
    with database() as session:
        assert count(session, OutboxMessage) == outbox_before
        assert count(session, TicketEvent) == events_before
    for ticket_id in setup.tickets:  # the selection and the text are kept
        assert f'value="{ticket_id}" form="bulk-form" id="sel-{ticket_id}"' in html
        assert re.search(rf'id="sel-{ticket_id}"[^>]*checked', html)
    assert textarea(html, "bulk-note") == "Vamos"


def test_bulk_move_needing_a_reason_names_every_request(client, database, setup):
    login(client, setup.agent)
    response = bulk(client, setup.tickets[:2], accion="estado", status="waiting_resident",
                    note="")
    assert response.status_code == 422
    summary = text_of(error_summary(response.get_data(as_text=True)))
    for number in setup.numbers[:2]:
        assert f"N° {number}: Escribe el motivo" in summary
    assert statuses(database, setup.tickets[:2]) == [Status.RECEIVED, Status.RECEIVED]


@pytest.mark.parametrize("ids, message", [
    ([], "Marca al menos una solicitud de la lista."),
    (["obras"], "Marca al menos una solicitud de la lista."),
])
def test_bulk_without_visible_selection_is_refused(client, database, setup, ids, message):
    login(client, setup.agent)
    chosen = [setup.obras_ticket if i == "obras" else i for i in ids]
    response = bulk(client, chosen, accion="estado", status="in_review")
    assert response.status_code == 422
    assert message in error_summary(response.get_data(as_text=True))
    with database() as session:
        assert session.get(Ticket, setup.obras_ticket).status is Status.RECEIVED


def test_bulk_merge_joins_the_selected_requests_into_the_chosen_one(client, database, setup):
    login(client, setup.agent)
    response = bulk(client, setup.tickets, accion="unir", target=setup.numbers[0],
                    reason="Mismo microbasural de la esquina")
    assert response.status_code == 302
    with database() as session:
        survivor, *merged = [session.get(Ticket, i) for i in setup.tickets]
        assert survivor.status is Status.RECEIVED and survivor.duplicate_of_id is None
        assert [(t.status, t.duplicate_of_id) for t in merged] == [
            (Status.DUPLICATE, survivor.id)] * 2
        audit = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "ticket.merge").order_by(AuditEntry.id)).all()
        assert [(a.target_id, a.details["into"]) for a in audit] == [
            (str(t.id), survivor.id) for t in merged]


def test_bulk_merge_refused_for_one_merges_nothing(client, database, setup):
    with database() as session:
        other = make_ticket(session, session.get(Category, setup.other_category_id),
                            notify=False)
        session.commit()
        other_id, other_number = other.id, other.public_number
    login(client, setup.agent)
    response = bulk(client, [*setup.tickets, other_id], accion="unir",
                    target=setup.numbers[0], reason="Lo mismo")
    assert response.status_code == 422
    summary = text_of(error_summary(response.get_data(as_text=True)))
    assert f"N° {other_number}: Solo se pueden unir solicitudes de la misma categoría." in summary
    assert statuses(database, [*setup.tickets, other_id]) == [Status.RECEIVED] * 4


@pytest.mark.parametrize("target", ["", "2026-999999"])
def test_bulk_merge_into_unknown_request_is_refused(client, database, setup, target):
    login(client, setup.agent)
    response = bulk(client, setup.tickets[1:], accion="unir", target=target, reason="x")
    assert response.status_code == 422
    assert "No encontramos la solicitud" in error_summary(response.get_data(as_text=True))
    assert statuses(database, setup.tickets) == [Status.RECEIVED] * 3


def user_id(database, email: str) -> int:
    with database() as session:
        return session.scalar(sa.select(User.id).where(User.email == email))


def assignees(database, ids: list[int]) -> list[int | None]:
    with database() as session:
        return [session.get(Ticket, i).assigned_to_id for i in ids]


def test_bulk_assign_gives_each_request_to_the_person_with_event_email_and_audit(
        client, database, setup):
    supervisor_id = user_id(database, setup.supervisor)
    login(client, setup.agent)
    response = bulk(client, setup.tickets[:2], "?estado=todas", accion="asignar",
                    assignee=str(supervisor_id))
    assert response.status_code == 302
    assert response.headers["Location"] == f"{QUEUE}?estado=todas"
    assert assignees(database, setup.tickets) == [supervisor_id, supervisor_id, None]
    agent_id = user_id(database, setup.agent)
    with database() as session:
        events = session.scalars(sa.select(TicketEvent).where(
            TicketEvent.kind == EventKind.ASSIGNED).order_by(TicketEvent.ticket_id)).all()
        assert [(e.ticket_id, e.actor_id) for e in events] == [
            (setup.tickets[0], agent_id), (setup.tickets[1], agent_id)]
        emails = session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.template == "staff_assigned")).all()
        assert sorted((m.recipient, m.ticket_id) for m in emails) == [
            (setup.supervisor, setup.tickets[0]), (setup.supervisor, setup.tickets[1])]
        audit = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "ticket.assign").order_by(AuditEntry.id)).all()
        assert [(a.target_id, a.actor_id) for a in audit] == [
            (str(setup.tickets[0]), agent_id), (str(setup.tickets[1]), agent_id)]
    page = client.get(QUEUE + "?estado=todas").get_data(as_text=True)
    assert "2 solicitudes asignadas a" in text_of(page)


def test_bulk_assign_outside_the_persons_department_changes_nothing(client, database, setup):
    """A manager sees every department; the Aseo agent cannot take the Obras request,
    so none of the marked requests is assigned, and no event or email is made."""
    agent_id = user_id(database, setup.agent)
    with database() as session:
        obras_number = session.get(Ticket, setup.obras_ticket).public_number
        events_before, outbox_before = count(session, TicketEvent), count(session, OutboxMessage)
    login(client, setup.manager)
    response = bulk(client, [*setup.tickets, setup.obras_ticket], accion="asignar",
                    assignee=str(agent_id))
    assert response.status_code == 422
    summary = text_of(error_summary(response.get_data(as_text=True)))
    assert "No se hizo ningún cambio: 1 de las solicitudes marcadas no lo permiten." in summary
    assert f"N° {obras_number}: Elige a una persona activa del departamento" in summary
    assert assignees(database, [*setup.tickets, setup.obras_ticket]) == [None] * 4
    with database() as session:
        assert count(session, TicketEvent) == events_before
        assert count(session, OutboxMessage) == outbox_before
        assert count(session, AuditEntry) == session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(
                AuditEntry.action != "ticket.assign"))


def test_bulk_assign_offers_only_members_of_the_departments_one_sees(client, database, setup):
    obras_supervisor = user_id(database, setup.obras_supervisor)
    aseo_agent = user_id(database, setup.agent)
    login(client, setup.agent)
    html = client.get(QUEUE).get_data(as_text=True)
    options = re.search(r'<select[^>]*name="bulk-assignee".*?</select>', html, re.DOTALL)
    assert options, "no «Asignar a» list in the bulk bar"
    assert f'value="{aseo_agent}"' in options.group(0)
    assert f'value="{obras_supervisor}"' not in options.group(0)
    assert "(Aseo y Ornato)" in options.group(0)
    client.post("/gestion/salir", data={"csrf_token": csrf_token_from(html)})
    login(client, setup.manager)
    html = client.get(QUEUE).get_data(as_text=True)
    assert f'value="{obras_supervisor}"' in re.search(
        r'<select[^>]*name="bulk-assignee".*?</select>', html, re.DOTALL).group(0)


def test_bulk_unassign_and_already_assigned_requests_are_left_as_they_are(
        client, database, setup):
    agent_id = user_id(database, setup.agent)
    login(client, setup.agent)
    assert bulk(client, setup.tickets[:1], accion="asignar",
                assignee=str(agent_id)).status_code == 302
    response = bulk(client, setup.tickets[:2], accion="asignar", assignee=str(agent_id))
    assert response.status_code == 302
    assert "1 solicitudes asignadas a" in text_of(client.get(QUEUE).get_data(as_text=True))
    assert assignees(database, setup.tickets) == [agent_id, agent_id, None]
    assert bulk(client, setup.tickets, accion="asignar", assignee="nadie").status_code == 302
    assert assignees(database, setup.tickets) == [None, None, None]


@pytest.mark.parametrize("choice", ["", "999999", "x"])
def test_bulk_assign_without_a_known_person_is_refused(client, database, setup, choice):
    login(client, setup.agent)
    response = bulk(client, setup.tickets, accion="asignar", assignee=choice)
    assert response.status_code == 422
    assert "Elige a una persona de la lista." in error_summary(response.get_data(as_text=True))
    assert assignees(database, setup.tickets) == [None] * 3


def test_queue_shows_shortcut_help_and_loads_its_script(client, setup):
    login(client, setup.agent)
    html = client.get(QUEUE).get_data(as_text=True)
    assert "Atajos de teclado" in html and 'src="/static/queue.js"' in html
    assert client.get("/static/queue.js").status_code == 200


def test_queue_query_count_does_not_grow_with_rows(client, database, app, setup):
    login(client, setup.supervisor)
    counts = []
    for _round in range(2):
        statements: list[str] = []

        def record(*args, _seen=statements, **_kwargs):
            _seen.append(args[2])

        with app.app_context():
            from app.extensions import db
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", record)
        try:
            assert client.get(QUEUE).status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", record)
        counts.append(len(statements))
        with database() as session:
            category = session.get(Ticket, setup.tickets[0]).category
            for _n in range(5):
                make_ticket(session, category, notify=False)
            session.commit()
    assert counts[0] == counts[1]
