"""Staff registering a request for a resident (phone or counter), end to end."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.attributes import Datatype, define_attribute
from app.notifications.models import OutboxMessage
from app.tickets.contact import ResidentContact
from app.tickets.models import ActorKind, Channel, EventKind, Ticket
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user
from tests.pages import count, error_summary, text_of

URL = "/gestion/registrar"
PDF = b"%PDF-1.4\n%%EOF\n"


def login(client, email: str) -> None:
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    assert client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": PASSWORD,
    }).status_code == 302


@pytest.fixture
def office(database):
    """Aseo (with an agent) and Obras; earlier requests of one resident in both."""
    with database() as session:
        aseo = make_department(session, name="Aseo y Ornato")
        obras = make_department(session, name="Obras Municipales")
        basural = make_category(session, aseo, name="Microbasural")
        bache = make_category(session, obras, name="Bache")
        resident = ResidentContact(name="Rosa Pérez", email="Rosa@Example.cl",
                                   phone="+56 9 8765 4321", rut="12.345.678-5")
        in_aseo = make_ticket(session, basural, contact=resident, notify=False)
        in_obras = make_ticket(session, bache, contact=resident, notify=False,
                               description="Bache profundo frente al colegio.")
        make_ticket(session, basural, notify=False,
                    contact=ResidentContact(name="Otra", email="otra@example.cl"))
        agent = make_user(session, Role.AGENT, [aseo])
        manager = make_user(session, Role.MANAGER)
        session.commit()
        return {"basural": basural.id, "bache": bache.id, "agent": agent.email,
                "agent_id": agent.id, "manager": manager.email,
                "in_aseo": in_aseo.public_number, "in_obras": in_obras.public_number}


def lookup(client, query: str):
    """Search earlier requests: a POST with the CSRF token, never a query string."""
    html = client.get(URL).get_data(as_text=True)
    return client.post(URL + "/buscar", data={"csrf_token": csrf_token_from(html),
                                               "buscar": query})


def form(client, **overrides) -> dict:
    html = client.get(URL).get_data(as_text=True)
    return {"csrf_token": csrf_token_from(html), "channel": "counter",
            "description": "Vecina informa microbasural en la esquina del pasaje.",
            "address": "Los Aromos 1234", "name": "Rosa Pérez", "email": "rosa@example.cl",
            "phone": "+56 9 8765 4321", "rut": "12.345.678-5", "consent": "y", **overrides}


@pytest.mark.parametrize("channel", ["counter", "phone"])
def test_agent_registers_request_and_gets_printable_handover(client, database, office,
                                                             channel):
    login(client, office["agent"])
    response = client.post(URL, data=form(client, channel=channel,
                                          category=str(office["basural"])))
    assert response.status_code == 302
    handover = client.get(response.location)
    html = handover.get_data(as_text=True)
    with database() as session:
        ticket = session.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()
        assert ticket.channel is Channel(channel)
        assert ticket.created_by_id == office["agent_id"]
        assert ticket.consent_at is not None
        assert ticket.contact_rut == "12345678-5"
        created = ticket.events[0]
        assert created.kind is EventKind.CREATED and created.actor_kind is ActorKind.STAFF
        mail = session.scalars(sa.select(OutboxMessage)).one()
        assert mail.recipient == "rosa@example.cl"
        assert ticket.formatted_tracking_code in mail.body_text
        code, number, ticket_id = (ticket.formatted_tracking_code, ticket.public_number,
                                   ticket.id)
    assert handover.status_code == 200
    assert f'id="tracking-code">{code}<' in html
    assert number in html
    assert "Imprimir comprobante" in html
    assert f'href="/gestion/solicitudes/{ticket_id}"' in html  # the agent sees Aseo


def test_handover_for_another_department_has_no_link_and_others_cannot_open_it(
        client, app, database, office):
    login(client, office["agent"])
    response = client.post(URL, data=form(client, category=str(office["bache"])))
    handover_url = response.location
    html = client.get(handover_url).get_data(as_text=True)
    assert "quedó en otro departamento" in text_of(html)
    assert "/gestion/solicitudes/" not in html
    other = app.test_client()
    login(other, office["manager"])
    assert other.get(handover_url).status_code == 404  # only its creator hands it over


@pytest.mark.parametrize("query", ["rosa@example.cl", "ROSA@EXAMPLE.CL", "12345678-5",
                                   "12.345.678-5", "+56 9 8765 4321", "987654321",
                                   "(9) 8765-4321"])
def test_lookup_finds_earlier_requests_only_in_visible_departments(client, office, query):
    login(client, office["agent"])
    html = lookup(client, query).get_data(as_text=True)
    assert office["in_aseo"] in html
    assert office["in_obras"] not in html  # Obras is not the agent's department
    assert "Encontramos 1 solicitud" in text_of(html)


def test_lookup_by_manager_sees_every_department(client, office):
    login(client, office["manager"])
    html = lookup(client, "12.345.678-5").get_data(as_text=True)
    assert office["in_aseo"] in html and office["in_obras"] in html


@pytest.mark.parametrize("query, message", [
    ("rosa@", "Ese correo no es válido."),
    ("12.345.678-9", "El RUT no es válido"),
    ("1234", "Escribe un correo, un teléfono"),
    ("calle falsa", "Escribe un correo, un teléfono"),
])
def test_lookup_bad_input_is_explained(client, office, query, message):
    login(client, office["agent"])
    html = lookup(client, query).get_data(as_text=True)
    assert message in text_of(error_summary(html))
    assert f'value="{query}"' in html


def test_lookup_keeps_personal_data_out_of_the_url(client, office):
    login(client, office["agent"])
    html = client.get(URL).get_data(as_text=True)
    assert 'action="/gestion/registrar/buscar"' in html and 'method="post"' in html
    assert "buscar=" not in html  # no link carries a searched value
    assert client.post(URL + "/buscar", data={"buscar": "rosa@example.cl"}).status_code == 400
    response = lookup(client, "rosa@example.cl")
    assert response.status_code == 200 and office["in_aseo"] in response.get_data(as_text=True)
    # a GET with the old query string searches nothing
    old = client.get(URL, query_string={"buscar": "rosa@example.cl"}).get_data(as_text=True)
    assert office["in_aseo"] not in old


def test_lookup_with_no_match_says_so(client, office):
    login(client, office["agent"])
    html = lookup(client, "nadie@example.cl").get_data(as_text=True)
    assert "No encontramos solicitudes anteriores" in html


def test_use_these_details_prefills_contact_of_a_visible_request(client, database, office):
    login(client, office["agent"])
    with database() as session:
        aseo_id = session.scalar(sa.select(Ticket.id).where(
            Ticket.public_number == office["in_aseo"]))
        obras_id = session.scalar(sa.select(Ticket.id).where(
            Ticket.public_number == office["in_obras"]))
    html = client.get(URL, query_string={"contacto": aseo_id}).get_data(as_text=True)
    assert 'value="12345678-5"' in html and 'value="Rosa Pérez"' in html
    html = client.get(URL, query_string={"contacto": obras_id}).get_data(as_text=True)
    assert "12345678-5" not in html  # not visible to this agent: nothing copied


@pytest.mark.parametrize("overrides, field, message", [
    ({"category": ""}, "category", "Elige una categoría"),
    ({"description": "corto"}, "description", "al menos 10 caracteres"),
    ({"email": "rosa@"}, "email", "correo válido"),
    ({"rut": "12.345.678-9"}, "rut", "El RUT no es válido"),
    ({"consent": ""}, "consent", "autorizó el uso de sus datos"),
    ({"channel": "fax"}, "channel", "por teléfono o en persona"),
    ({"name": "", "email": "", "phone": "", "rut": "", "consent": ""}, "email",
     "Indica un correo o un teléfono"),
])
def test_bad_input_is_explained_and_the_form_refilled(client, database, office, overrides,
                                                      field, message):
    login(client, office["agent"])
    data = form(client, **{"category": str(office["basural"]), **overrides})
    response = client.post(URL, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = error_summary(html)
    assert message in text_of(summary)
    assert f'href="#{field}"' in summary
    if "description" not in overrides:
        assert data["description"] in html
    with database() as session:
        assert count(session, Ticket) == 3  # the three of the fixture


def test_anonymous_request_needs_no_consent_where_the_category_allows(client, database):
    with database() as session:
        category = make_category(session, allows_anonymous=True)
        agent = make_user(session, Role.AGENT, [category.department])
        session.commit()
        category_id, email = category.id, agent.email
    login(client, email)
    response = client.post(URL, data=form(client, category=str(category_id), name="",
                                          email="", phone="", rut="", consent=""))
    assert response.status_code == 302
    with database() as session:
        ticket = session.scalars(sa.select(Ticket)).one()
        assert ticket.consent_at is None and ticket.contact_email is None


def test_category_questions_are_asked_and_stored(client, database):
    with database() as session:
        category = make_category(session)
        define_attribute(session, category, code="poste", description="Número del poste",
                         datatype=Datatype.STRING, required=True)
        agent = make_user(session, Role.AGENT, [category.department])
        session.commit()
        category_id, email = category.id, agent.email
    login(client, email)
    data = form(client, category=str(category_id), shown_category=str(category_id))
    missing = client.post(URL, data=data)
    assert missing.status_code == 422 and 'href="#attr_poste"' in missing.get_data(as_text=True)
    response = client.post(URL, data={**data, "attr_poste": "P-123"})
    assert response.status_code == 302
    with database() as session:
        ticket = session.scalars(sa.select(Ticket)).one()
        assert [v.value for v in ticket.attribute_values] == ["P-123"]


def test_counter_attachments_are_stored_and_bad_ones_refused(client, database, office,
                                                             app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_DIR", str(tmp_path))
    login(client, office["agent"])
    bad = client.post(URL, content_type="multipart/form-data", data=form(
        client, category=str(office["basural"]),
        attachments=[(io.BytesIO(b"<html></html>"), "carnet.jpg")]))
    assert bad.status_code == 422
    assert "Vuelve a elegir los archivos" in text_of(error_summary(bad.get_data(as_text=True)))
    ok = client.post(URL, content_type="multipart/form-data", data=form(
        client, category=str(office["basural"]),
        attachments=[(io.BytesIO(PDF), "carta.pdf")]))
    assert ok.status_code == 302
    with database() as session:
        ticket = session.scalars(sa.select(Ticket).order_by(Ticket.id.desc())).first()
        (attachment,) = ticket.attachments
        assert (attachment.filename, attachment.public, attachment.channel) == (
            "carta.pdf", True, Channel.COUNTER)
        assert attachment.uploaded_by_id == office["agent_id"]
    assert len(list(tmp_path.rglob("*.pdf"))) == 1


def test_register_page_requires_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/gestion/ingresar" in response.location


def test_staff_navigation_links_to_the_form(client, office):
    login(client, office["agent"])
    html = client.get("/gestion/").get_data(as_text=True)
    assert re.search(r'<a href="/gestion/registrar">Registrar solicitud</a>', html)
