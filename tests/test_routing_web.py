"""The routing admin pages, the preview, and assignment on the staff pages (HTTP)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.catalog.models import AutoAssign, Department, Macrosector
from app.catalog.routing_models import RoutingRule
from app.notifications.models import OutboxMessage
from app.tickets.models import EventKind, Ticket, TicketEvent
from tests.api_support import bearer, staff_token
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user
from tests.pages import count, error_summary, text_of

ADMIN_URL = "/gestion/admin/ruteo/"
NEW_RULE_URL = "/gestion/admin/ruteo/reglas/nueva"
PREVIEW_URL = "/gestion/admin/ruteo/probar"


def login(client, email: str) -> None:
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    response = client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": PASSWORD})
    assert response.status_code == 302


@dataclass(frozen=True)
class Muni:
    obras_id: int
    zoonosis_id: int
    bache_id: int
    sector_id: int
    admin: str
    agent: str
    agent_name: str
    colleague: str
    colleague_id: int
    outsider_id: int
    ticket_id: int


@pytest.fixture
def muni(database) -> Muni:
    with database() as session:
        obras = make_department(session, name="Obras")
        zoonosis = make_department(session, name="Zoonosis")
        bache = make_category(session, obras, name="Bache")
        sector = Macrosector(name="Lo Hermida")
        session.add(sector)
        admin = make_user(session, Role.ADMIN)
        agent = make_user(session, Role.AGENT, [obras])
        colleague = make_user(session, Role.AGENT, [obras])
        outsider = make_user(session, Role.AGENT, [zoonosis])
        ticket = make_ticket(session, bache, notify=False)
        session.commit()
        return Muni(obras.id, zoonosis.id, bache.id, sector.id, admin.email, agent.email,
                    agent.name, colleague.email, colleague.id, outsider.id, ticket.id)


def rule_form(muni: Muni, **overrides) -> dict[str, str]:
    data = {"name": "Perros", "category": "", "keywords": "perro, gato", "macrosector": "",
            "address_contains": "", "channel": "", "department": str(muni.zoonosis_id),
            "active": "y"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post_rule(client, muni: Muni, url: str = NEW_RULE_URL, **overrides):
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **rule_form(muni, **overrides)})


def rule_names_in_order(html: str) -> list[str]:
    return re.findall(r'<a href="/gestion/admin/ruteo/reglas/\d+">([^<]+)</a>', html)


# --- access -------------------------------------------------------------------------------


ADMIN_PAGES = [ADMIN_URL, NEW_RULE_URL, PREVIEW_URL]


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.MANAGER])
@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_only_admins_open_the_routing_pages(client, database, muni, role, path):
    with database() as session:
        user = make_user(session, role, [session.get(Department, muni.obras_id)])
        session.commit()
        email = user.email
    login(client, email)

    assert client.get(path).status_code == 403
    assert "Ruteo" not in text_of(client.get("/gestion/").get_data(as_text=True))


def test_agent_cannot_create_a_rule_by_posting(client, database, muni):
    login(client, muni.agent)
    token = csrf_token_from(client.get("/gestion/").get_data(as_text=True))

    response = client.post(NEW_RULE_URL, data={"csrf_token": token, **rule_form(muni)})

    assert response.status_code == 403
    with database() as session:
        assert count(session, RoutingRule) == 0


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_anonymous_visitor_is_sent_to_login(client, muni, path):
    response = client.get(path)

    assert response.status_code == 302
    assert "/gestion/ingresar" in response.headers["Location"]


def test_admin_sees_the_routing_link_and_page(client, muni):
    login(client, muni.admin)

    queue = client.get("/gestion/").get_data(as_text=True)
    page = client.get(ADMIN_URL)

    assert f'href="{ADMIN_URL}"' in queue
    assert page.status_code == 200
    assert "Todavía no hay reglas" in text_of(page.get_data(as_text=True))


# --- creating, editing, ordering, deleting ------------------------------------------------


def test_admin_creates_a_rule_that_routes_new_requests(client, database, muni):
    login(client, muni.admin)

    response = post_rule(client, muni, macrosector=str(muni.sector_id), channel="web",
                         address_contains="Grecia")

    assert response.status_code == 302
    page = client.get(ADMIN_URL).get_data(as_text=True)
    assert "Regla «Perros» creada." in page
    assert rule_names_in_order(page) == ["Perros"]
    with database() as session:
        rule = session.scalar(sa.select(RoutingRule))
        assert (rule.keywords, rule.department_id, rule.macrosector_id, rule.channel.value,
                rule.address_contains, rule.active) == (
            "perro, gato", muni.zoonosis_id, muni.sector_id, "web", "Grecia", True)


def test_rule_form_without_csrf_token_is_refused(client, database, muni):
    login(client, muni.admin)

    response = client.post(NEW_RULE_URL, data=rule_form(muni))

    assert response.status_code == 400
    with database() as session:
        assert count(session, RoutingRule) == 0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"name": ""}, "Escribe un nombre para la regla."),
    ({"department": ""}, "Elige el departamento que recibirá las solicitudes."),
    ({"department": "999999"}, "Elige el departamento que recibirá las solicitudes."),
    ({"department": "abc"}, "Elige el departamento que recibirá las solicitudes."),
    ({"keywords": "", "address_contains": ""}, "Indica al menos una condición"),
    ({"channel": "paloma"}, "Elige un canal de la lista."),
    ({"keywords": "x" * 61}, "como máximo 60 caracteres"),
])
def test_bad_rule_is_refused_and_the_form_keeps_what_was_typed(client, database, muni,
                                                              overrides, message):
    login(client, muni.admin)

    response = post_rule(client, muni, **{"address_contains": "Avenida Grecia", **overrides})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_summary(html)
    if "address_contains" not in overrides:
        assert 'value="Avenida Grecia"' in html
    if overrides.get("name") != "":
        assert 'value="Perros"' in html
    with database() as session:
        assert count(session, RoutingRule) == 0


def test_admin_edits_and_deactivates_a_rule(client, database, muni):
    login(client, muni.admin)
    post_rule(client, muni)
    with database() as session:
        rule_id = session.scalar(sa.select(RoutingRule.id))
    url = f"/gestion/admin/ruteo/reglas/{rule_id}"
    form = client.get(url).get_data(as_text=True)
    assert 'value="perro, gato"' in form

    response = post_rule(client, muni, url=url, keywords="quiltro", active=None)

    assert response.status_code == 302
    with database() as session:
        rule = session.get(RoutingRule, rule_id)
        assert (rule.keywords, rule.active) == ("quiltro", False)
    assert "Inactiva" in text_of(client.get(ADMIN_URL).get_data(as_text=True))


def test_editing_to_a_duplicate_name_is_refused_and_keeps_the_old_rule(client, database, muni):
    login(client, muni.admin)
    post_rule(client, muni, name="Perros")
    post_rule(client, muni, name="Gatos", keywords="gato")
    with database() as session:
        gatos_id = session.scalar(sa.select(RoutingRule.id).where(RoutingRule.name == "Gatos"))

    response = post_rule(client, muni, url=f"/gestion/admin/ruteo/reglas/{gatos_id}",
                         name="perros", keywords="michi")

    assert response.status_code == 422
    assert "Ya existe una regla con ese nombre." in error_summary(response.get_data(as_text=True))
    assert 'value="michi"' in response.get_data(as_text=True)
    with database() as session:
        assert session.get(RoutingRule, gatos_id).keywords == "gato"


def test_move_up_and_down_reorder_the_list(client, database, muni):
    login(client, muni.admin)
    for name in ("A", "B", "C"):
        post_rule(client, muni, name=name, keywords=name.lower() * 2)
    with database() as session:
        ids = {r.name: r.id for r in session.scalars(sa.select(RoutingRule))}
    token = csrf_token_from(client.get(ADMIN_URL).get_data(as_text=True))

    up = client.post(f"/gestion/admin/ruteo/reglas/{ids['C']}/subir", data={"csrf_token": token})
    assert up.status_code == 302
    assert rule_names_in_order(client.get(ADMIN_URL).get_data(as_text=True)) == ["A", "C", "B"]
    client.post(f"/gestion/admin/ruteo/reglas/{ids['A']}/bajar", data={"csrf_token": token})
    assert rule_names_in_order(client.get(ADMIN_URL).get_data(as_text=True)) == ["C", "A", "B"]
    no_token = client.post(f"/gestion/admin/ruteo/reglas/{ids['B']}/subir")
    assert no_token.status_code == 400
    assert rule_names_in_order(client.get(ADMIN_URL).get_data(as_text=True)) == ["C", "A", "B"]


def test_delete_asks_first_then_removes_the_rule(client, database, muni):
    login(client, muni.admin)
    post_rule(client, muni)
    with database() as session:
        rule_id = session.scalar(sa.select(RoutingRule.id))
    url = f"/gestion/admin/ruteo/reglas/{rule_id}/eliminar"

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "¿Eliminar la regla «Perros»?" in text_of(confirm.get_data(as_text=True))
    with database() as session:
        assert count(session, RoutingRule) == 1

    response = client.post(url, data={"csrf_token": csrf_token_from(confirm.get_data(
        as_text=True))})

    assert response.status_code == 302
    with database() as session:
        assert count(session, RoutingRule) == 0


# --- preview --------------------------------------------------------------------------------


def test_preview_shows_the_department_and_rule_and_creates_nothing(client, database, muni):
    login(client, muni.admin)
    post_rule(client, muni)
    with database() as session:
        before = (count(session, Ticket), count(session, TicketEvent),
                  count(session, OutboxMessage))

    matched = client.get(PREVIEW_URL, query_string={
        "category": muni.bache_id, "description": "Un PERRO suelto muerde", "channel": "web"})
    unmatched = client.get(PREVIEW_URL, query_string={
        "category": muni.bache_id, "description": "Un hoyo en la calle", "channel": "web"})

    assert matched.status_code == unmatched.status_code == 200
    matched_text = text_of(matched.get_data(as_text=True))
    assert "Departamento Zoonosis" in matched_text
    assert "Regla Perros" in matched_text
    assert "Regla «Perros»: palabra «perro». Departamento: Zoonosis." in matched_text
    unmatched_text = text_of(unmatched.get_data(as_text=True))
    assert "Departamento Obras" in unmatched_text
    assert "Ninguna regla coincide" in unmatched_text
    assert 'Un hoyo en la calle' in unmatched.get_data(as_text=True)  # the form keeps the text
    with database() as session:
        assert (count(session, Ticket), count(session, TicketEvent),
                count(session, OutboxMessage)) == before


@pytest.mark.parametrize(("query", "message"), [
    ({"category": "", "channel": "web"}, "Elige una categoría de la lista."),
    ({"category": "999999", "channel": "web"}, "Elige una categoría de la lista."),
    ({"category": "bache", "channel": "paloma"}, "Elige un canal de la lista."),
])
def test_preview_with_bad_input_explains_and_keeps_the_form(client, muni, query, message):
    login(client, muni.admin)
    if query["category"] == "bache":
        query = {**query, "category": muni.bache_id}

    response = client.get(PREVIEW_URL, query_string={**query, "address": "Calle Uno 12"})

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in error_summary(html)
    assert 'value="Calle Uno 12"' in html
    assert "Resultado" not in text_of(html)


# --- department auto-assignment settings ------------------------------------------------------


def test_admin_turns_on_auto_assignment_for_a_department(client, database, muni):
    login(client, muni.admin)
    url = f"/gestion/admin/ruteo/departamentos/{muni.obras_id}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))

    response = client.post(url, data={"csrf_token": token, "auto_assign": "round_robin"})

    assert response.status_code == 302
    assert "Por turnos (round robin)" in text_of(client.get(ADMIN_URL).get_data(as_text=True))
    with database() as session:
        assert session.get(Department, muni.obras_id).auto_assign is AutoAssign.ROUND_ROBIN


def test_unknown_auto_assignment_mode_is_refused(client, database, muni):
    login(client, muni.admin)
    url = f"/gestion/admin/ruteo/departamentos/{muni.obras_id}"
    token = csrf_token_from(client.get(url).get_data(as_text=True))

    response = client.post(url, data={"csrf_token": token, "auto_assign": "al-azar"})

    assert response.status_code == 422
    assert "Elige un modo de asignación" in error_summary(response.get_data(as_text=True))
    with database() as session:
        assert session.get(Department, muni.obras_id).auto_assign is AutoAssign.NONE


# --- assignment on the request page and the queue ------------------------------------------------


def post_detail(client, ticket_id: int, action: str, prefix: str, data: dict[str, str]):
    html = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    token = re.search(rf'name="{prefix}-csrf_token"[^>]*value="([^"]+)"', html).group(1)
    return client.post(f"/gestion/solicitudes/{ticket_id}/{action}",
                       data={f"{prefix}-csrf_token": token, **data})


def test_assign_select_lists_only_active_members_of_the_department(client, database, muni):
    with database() as session:
        gone = make_user(session, Role.AGENT, [session.get(Department, muni.obras_id)])
        gone.active = False
        session.commit()
        gone_name = gone.name
    login(client, muni.agent)

    html = client.get(f"/gestion/solicitudes/{muni.ticket_id}").get_data(as_text=True)

    select = re.search(r'<select[^>]*name="assign-assignee".*?</select>', html, re.DOTALL)
    options = re.findall(r">([^<]+)</option>", select.group(0))
    with database() as session:
        colleague = session.get(User, muni.colleague_id).name
        outsider = session.get(User, muni.outsider_id).name
    assert options[0] == "Sin asignar"
    assert set(options[1:]) == {muni.agent_name, colleague}
    assert outsider not in options and gone_name not in options
    assert '<label for="assign-assignee">Asignar a</label>' in html


def test_agent_assigns_a_colleague_who_gets_an_email(client, database, muni):
    login(client, muni.agent)

    response = post_detail(client, muni.ticket_id, "asignar", "assign",
                           {"assign-assignee": str(muni.colleague_id)})

    assert response.status_code == 302
    detail = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Asignación guardada." in detail
    with database() as session:
        ticket = session.get(Ticket, muni.ticket_id)
        assert ticket.assigned_to_id == muni.colleague_id
        assert ticket.events[-1].kind is EventKind.ASSIGNED
        assert [m.recipient for m in session.scalars(sa.select(OutboxMessage))] == [
            muni.colleague]


@pytest.mark.parametrize("assignee", ["outsider", "999999", "abc"])
def test_assigning_a_non_member_is_refused_on_the_page(client, database, muni, assignee):
    login(client, muni.agent)
    value = str(muni.outsider_id) if assignee == "outsider" else assignee

    response = post_detail(client, muni.ticket_id, "asignar", "assign",
                           {"assign-assignee": value})

    if assignee == "abc":  # not a number: read as "nobody", already the case
        assert response.status_code == 422
        assert "ya está sin asignar" in error_summary(response.get_data(as_text=True))
    else:
        assert response.status_code == 422
        assert "Elige a una persona activa del departamento" in error_summary(
            response.get_data(as_text=True))
    with database() as session:
        assert session.get(Ticket, muni.ticket_id).assigned_to_id is None
        assert count(session, OutboxMessage) == 0


def test_assign_me_takes_the_request_without_an_email(client, database, muni):
    login(client, muni.agent)

    response = post_detail(client, muni.ticket_id, "asignarme", "assignme", {})

    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Ahora tienes esta solicitud." in html
    assert "Asignarme" not in html  # already mine
    with database() as session:
        ticket = session.get(Ticket, muni.ticket_id)
        assert ticket.assigned_to.email == muni.agent
        assert count(session, OutboxMessage) == 0


def test_assign_without_csrf_token_is_refused(client, database, muni):
    login(client, muni.agent)

    response = client.post(f"/gestion/solicitudes/{muni.ticket_id}/asignarme")

    assert response.status_code == 400
    with database() as session:
        assert session.get(Ticket, muni.ticket_id).assigned_to_id is None


def test_queue_filters_my_requests_and_shows_the_assignee(client, database, muni):
    with database() as session:
        bache = session.get(Ticket, muni.ticket_id).category
        agent = session.scalar(sa.select(User).where(User.email == muni.agent))
        mine = make_ticket(session, bache, notify=False)
        mine.assigned_to = agent
        session.commit()
        mine_number = mine.public_number
        other_number = session.get(Ticket, muni.ticket_id).public_number
    login(client, muni.agent)

    everyone = client.get("/gestion/").get_data(as_text=True)
    only_mine = client.get("/gestion/", query_string={"asignacion": "mias"}).get_data(
        as_text=True)
    unassigned = client.get("/gestion/", query_string={"asignacion": "sin-asignar"}).get_data(
        as_text=True)

    assert mine_number in everyone and other_number in everyone
    assert mine_number in only_mine and other_number not in only_mine
    assert other_number in unassigned and mine_number not in unassigned
    assert muni.agent_name in only_mine  # the "Asignada a" column
    assert '<option value="mias" selected>Mis solicitudes</option>' in only_mine


# --- re-routing by staff needs a reason (REST API; the web form is in test_staff_web) -----------


@pytest.mark.parametrize("payload", [
    {"department": "zoo"},
    {"department": "zoo", "reason": ""},
    {"department": "zoo", "reason": "   "},
])
def test_api_reassignment_without_a_reason_is_refused(client, database, muni, payload):
    with database() as session:
        zoonosis = session.get(Department, muni.zoonosis_id)
        agent = session.scalar(sa.select(User).where(User.email == muni.agent))
        headers = bearer(staff_token(session, agent))
        session.commit()
        payload = {**payload, "department": zoonosis.slug}

    response = client.post(f"/api/v1/requests/{muni.ticket_id}/reassignments",
                           headers=headers, json=payload)

    assert response.status_code == 422
    assert "reason" in response.get_json()["errors"]
    with database() as session:
        assert session.get(Ticket, muni.ticket_id).department_id == muni.obras_id
