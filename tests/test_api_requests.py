"""REST API requests: create, read, list with filters and keyset pages, timeline, staff actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.accounts.credentials import Scope
from app.accounts.models import Role
from app.catalog.models import Category
from app.database import utcnow
from app.extensions import limiter
from app.notifications.models import OutboxMessage
from app.tickets import lifecycle
from app.tickets.models import Channel, EventKind, Status, Ticket
from tests.api_support import app_key, bearer, category_with_every_datatype, staff_token
from tests.factories import make_category, make_department, make_ticket, make_user
from tests.pages import count


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    limiter.reset()


@pytest.fixture
def world(database):
    """A category with questions, a manager token and a read/create app key."""
    with database() as session:
        category = category_with_every_datatype(session)
        manager = make_user(session, Role.MANAGER)
        data = {
            "slug": category.slug,
            "department": category.department.slug,
            "staff": bearer(staff_token(session, manager)),
            "app": bearer(app_key(session, Scope.REQUESTS_CREATE, Scope.REQUESTS_READ,
                                  Scope.CATEGORIES_READ)),
        }
        session.commit()
    return data


def _new(world, **overrides):
    body = {"category": world["slug"], "description": "La luminaria del pasaje está apagada.",
            "consent": True, "contact": {"name": "Rosa Pérez", "email": "rosa@example.cl"},
            "attributes": {"tipo": "apagada"}}
    body.update(overrides)
    return body


def test_create_goes_through_intake_and_answers_with_the_tracking_code(client, database, world):
    response = client.post("/api/v1/requests", headers=world["app"], json=_new(
        world, address="Av. Grecia 8735", latitude=-33.4917, longitude=-70.5457,
        media_url="https://fotos.example.cl/1.jpg",
        attributes={"tipo": "intermitente", "riesgos": ["autos", "peatones"],
                    "altura": 4.5, "desde": "2026-03-15T18:30:00-03:00", "detalle": "Parpadea"}))
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/requests/{body['id']}")
    assert body["channel"] == "api" and body["status"] == "received"
    assert body["tracking_code"] and body["number"].endswith("000001")
    assert body["attributes"] == {"tipo": "intermitente", "riesgos": ["autos", "peatones"],
                                  "altura": 4.5, "desde": "2026-03-15T18:30-03:00",
                                  "detalle": "Parpadea"}
    assert (body["latitude"], body["longitude"]) == (-33.4917, -70.5457)
    with database() as session:
        ticket = session.get(Ticket, body["id"])
        assert ticket.channel is Channel.API and ticket.contact_email == "rosa@example.cl"
        assert ticket.media_url == "https://fotos.example.cl/1.jpg"
        assert [e.kind for e in ticket.events] == [EventKind.CREATED]
        assert count(session, OutboxMessage) == 1  # the resident's confirmation


@pytest.mark.parametrize(("overrides", "fields"), [
    ({"category": "no-existe"}, {"category"}),
    ({"description": "corta"}, {"description"}),
    ({"description": None}, {"description"}),
    ({"consent": False}, {"consent"}),
    ({"contact": {"name": "Rosa", "email": "no es correo"}}, {"contact.email"}),
    ({"contact": {"name": "Rosa", "rut": "12.345.678-9"}}, {"contact.rut", "contact.email"}),
    ({"contact": None}, {"contact.name", "contact.email"}),
    ({"attributes": {}}, {"attributes.tipo"}),
    ({"attributes": {"tipo": "verde", "altura": "alto"}}, {"attributes.tipo",
                                                          "attributes.altura"}),
    ({"attributes": {"tipo": "apagada", "inventado": 1}}, {"attributes.inventado"}),
    ({"latitude": -33.4}, {"latitude"}),
    ({"latitude": 91, "longitude": 0}, {"latitude"}),
    ({"media_url": "javascript:alert(1)"}, {"media_url"}),
    ({"sorpresa": True}, {"sorpresa"}),
    ({"attributes": ["tipo"]}, {"attributes"}),
])
def test_bad_input_is_a_422_with_messages_per_field(client, database, world, overrides, fields):
    response = client.post("/api/v1/requests", headers=world["app"], json=_new(world,
                                                                              **overrides))
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_failed"
    assert set(body["errors"]) == fields
    assert all(isinstance(m, str) and m for msgs in body["errors"].values() for m in msgs)
    with database() as session:
        assert count(session, Ticket) == 0


def test_malformed_json_and_wrong_content_type_are_400_and_422(client, world):
    broken = client.post("/api/v1/requests", headers={**world["app"],
                                                      "Content-Type": "application/json"},
                         data="{nope")
    assert broken.status_code == 400 and broken.get_json()["code"] == "bad_request"
    form = client.post("/api/v1/requests", headers=world["app"], data={"category": "x"})
    assert form.status_code == 422
    assert "category" in form.get_json()["errors"]


def test_staff_can_create_for_a_resident_without_consent_and_is_recorded(client, database,
                                                                         world):
    body = _new(world, consent=False, contact={"name": "Rosa", "phone": "+56 9 1234 5678"})
    created = client.post("/api/v1/requests", headers=world["staff"], json=body).get_json()
    assert created["contact"]["phone"] == "+56 9 1234 5678"
    with database() as session:
        ticket = session.get(Ticket, created["id"])
        assert ticket.created_by is not None and ticket.consent_at is None


def test_list_filters_and_keyset_pages_walk_every_match_once(client, database, world):
    with database() as session:
        mine = session.scalar(sa.select(Category).where(Category.slug == world["slug"]))
        other = make_category(session, make_department(session))
        base = utcnow() - timedelta(days=10)
        ids = []
        for day in range(7):
            ticket = make_ticket(session, other if day % 3 == 0 else mine, notify=False,
                                 now=base + timedelta(days=day))
            ids.append(ticket.id)
        other_slug = other.slug
        session.commit()
    seen, after = [], None
    while True:
        query = "limit=3" + (f"&after={after}" if after else "")
        page = client.get(f"/api/v1/requests?{query}", headers=world["app"]).get_json()
        seen += [item["id"] for item in page["items"]]
        after = page["next_after"]
        if after is None:
            break
    assert seen == sorted(ids)
    newest = client.get("/api/v1/requests?order=desc&limit=2", headers=world["app"]).get_json()
    assert [i["id"] for i in newest["items"]] == sorted(ids, reverse=True)[:2]
    since = (base + timedelta(days=4)).isoformat()
    recent = client.get("/api/v1/requests", headers=world["app"],
                        query_string={"created_after": since}).get_json()["items"]
    assert [i["id"] for i in recent] == sorted(ids)[4:]
    by_category = client.get(f"/api/v1/requests?category={other_slug}",
                             headers=world["app"]).get_json()["items"]
    assert {i["category"]["slug"] for i in by_category} == {other_slug}
    assert len(by_category) == 3


def test_list_filters_by_status_open_channel_and_department(client, database, world):
    with database() as session:
        user = make_user(session, Role.MANAGER)
        tickets = [make_ticket(session, notify=False) for _ in range(3)]
        lifecycle.transition(session, tickets[0], Status.IN_PROGRESS, actor=user, notify=False)
        lifecycle.transition(session, tickets[1], Status.RESOLVED, actor=user, notify=False)
        department = tickets[2].department.slug
        session.commit()
        ids = [t.id for t in tickets]

    def listed(query):
        response = client.get(f"/api/v1/requests?{query}", headers=world["app"])
        assert response.status_code == 200, response.get_json()
        return [i["id"] for i in response.get_json()["items"]]

    assert listed("status=in_progress&status=resolved") == ids[:2]
    assert listed("open=true") == [ids[0], ids[2]]
    assert listed("open=false") == [ids[1]]
    assert listed(f"department={department}") == [ids[2]]
    assert listed("channel=web") == ids
    assert listed("channel=api") == []


@pytest.mark.parametrize("query", [
    "status=perdida", "limit=0", "limit=101", "after=-1", "created_after=ayer",
    "created_after=2026-01-01T00:00:00", "order=sideways", "channel=fax",
    "updated_before=0001-01-01T00:00:00%2B01:00",
])
def test_bad_list_parameters_are_422(client, world, query):
    response = client.get(f"/api/v1/requests?{query}", headers=world["app"])
    assert response.status_code == 422
    assert response.get_json()["code"] == "validation_failed"


def test_by_code_shows_the_public_view_and_tolerates_typing(client, database, world):
    created = client.post("/api/v1/requests", headers=world["staff"], json=_new(world)).get_json()
    ticket_id = created["id"]
    client.post(f"/api/v1/requests/{ticket_id}/notes", headers=world["staff"],
                json={"body": "Nota que el vecino no ve"})
    with database() as session:
        key = app_key(session)
        session.commit()
    typed = created["tracking_code"].lower().replace("-", " ")
    tracked = client.get(f"/api/v1/requests/by-code/{typed}", headers=bearer(key))
    assert tracked.status_code == 200
    body = tracked.get_json()
    assert "contact" not in body
    assert [e["kind"] for e in body["events"]] == ["created"]
    assert "Nota que el vecino" not in tracked.get_data(as_text=True)
    code = created["tracking_code"]
    mistyped = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert client.get(f"/api/v1/requests/by-code/{mistyped}",
                      headers=bearer(key)).status_code == 404


def test_timeline_is_whole_for_staff_and_public_for_apps(client, world):
    ticket_id = client.post("/api/v1/requests", headers=world["staff"],
                            json=_new(world)).get_json()["id"]
    staff = world["staff"]
    assert client.post(f"/api/v1/requests/{ticket_id}/notes", headers=staff,
                       json={"body": "Interna"}).status_code == 201
    reply = client.post(f"/api/v1/requests/{ticket_id}/replies", headers=staff,
                        json={"body": "Vamos mañana."})
    assert reply.status_code == 201 and reply.get_json()["visibility"] == "public"
    full = client.get(f"/api/v1/requests/{ticket_id}/timeline", headers=staff).get_json()
    assert [e["kind"] for e in full] == ["created", "internal_note", "public_reply"]
    assert full[1]["actor"]["name"]
    public = client.get(f"/api/v1/requests/{ticket_id}/timeline",
                        headers=world["app"]).get_json()
    assert [e["kind"] for e in public] == ["created", "public_reply"]
    assert all(e["actor"]["name"] is None for e in public)


def test_transitions_follow_the_status_machine(client, database, world):
    ticket_id = client.post("/api/v1/requests", headers=world["staff"],
                            json=_new(world)).get_json()["id"]
    path = f"/api/v1/requests/{ticket_id}/transitions"
    staff = world["staff"]
    moved = client.post(path, headers=staff, json={"status": "in_progress"})
    assert moved.status_code == 201 and moved.get_json()["to_status"] == "in_progress"
    needs_reason = client.post(path, headers=staff, json={"status": "waiting_resident"})
    assert needs_reason.status_code == 422
    assert set(needs_reason.get_json()["errors"]) == {"note"}
    assert client.post(path, headers=staff, json={"status": "resolved"}).status_code == 201
    refused = client.post(path, headers=staff, json={"status": "received"})
    assert refused.status_code == 409
    assert refused.get_json()["code"] == "transition_not_allowed"
    with database() as session:
        assert session.get(Ticket, ticket_id).status is Status.RESOLVED


def test_reassignment_moves_the_request_with_an_internal_reason(client, database, world):
    with database() as session:
        target = make_department(session).slug
        session.commit()
    ticket_id = client.post("/api/v1/requests", headers=world["staff"],
                            json=_new(world)).get_json()["id"]
    path = f"/api/v1/requests/{ticket_id}/reassignments"
    unknown = client.post(path, headers=world["staff"],
                          json={"department": "no-existe", "reason": "x"})
    assert unknown.status_code == 422 and "department" in unknown.get_json()["errors"]
    same = client.post(path, headers=world["staff"],
                       json={"department": world["department"], "reason": "x"})
    assert same.status_code == 422
    moved = client.post(path, headers=world["staff"],
                        json={"department": target, "reason": "Corresponde a otra unidad."})
    assert moved.status_code == 201
    event = moved.get_json()
    assert event["visibility"] == "internal" and event["to_department"]["slug"] == target
    assert client.get(f"/api/v1/requests/{ticket_id}",
                      headers=world["staff"]).get_json()["department"]["slug"] == target


def test_categories_carry_their_questions_as_in_open311(client, world):
    body = client.get(f"/api/v1/categories/{world['slug']}", headers=world["app"]).get_json()
    codes = [(a["code"], a["datatype"]) for a in body["attributes"]]
    assert codes == [("tipo", "singlevaluelist"), ("riesgos", "multivaluelist"),
                     ("poste", "string"), ("altura", "number"), ("desde", "datetime"),
                     ("detalle", "text"), ("aviso", "string")]
    assert body["keywords"] == ["alumbrado", "poste"]
    assert client.get("/api/v1/categories/no-existe", headers=world["app"]).status_code == 404
    departments = client.get("/api/v1/departments", headers=world["app"]).get_json()
    assert world["department"] in {d["slug"] for d in departments}


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("get", "/api/v1/no-existe", 404, "not_found"),
    ("get", "/api/v1/requests/999999", 404, "not_found"),
    ("get", "/api/v1/requests/99999999999999999999", 404, "not_found"),
    ("delete", "/api/v1/requests", 405, "method_not_allowed"),
    ("put", "/api/v1/categories", 405, "method_not_allowed"),
])
def test_every_error_has_the_one_json_shape(client, world, method, path, status, code):
    response = getattr(client, method)(path, headers=world["staff"])
    assert response.status_code == status
    assert response.get_json() == {"code": code, "message": response.get_json()["message"],
                                   "errors": {}}
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_html_pages_keep_their_html_errors(client):
    response = client.get("/no-existe")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_creation_is_rate_limited_per_credential(client, app, world):
    app.config["API_CREATE_RATE_LIMIT"] = "2/minute"
    try:
        statuses = [client.post("/api/v1/requests", headers=world["app"],
                                json=_new(world)).status_code for _ in range(3)]
        other = client.post("/api/v1/requests", headers=world["staff"], json=_new(world))
    finally:
        app.config["API_CREATE_RATE_LIMIT"] = "60/minute"
    assert statuses == [201, 201, 429]
    assert other.status_code == 201


def test_openapi_document_and_docs_page_need_no_credential_or_network(client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/requests" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="es-CL">' in html
    assert "POST /api/v1/requests" in html and 'id="schema-Error"' in html
    assert "<script" not in html and "cdn" not in html.lower()
