"""Possible duplicates (address, distance, text) and merging one request into another."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.accounts.models import Role, User
from app.database import utcnow
from app.notifications.models import OutboxMessage
from app.tickets import lifecycle
from app.tickets.contact import ResidentContact
from app.tickets.duplicates import distance_meters, find_similar, normalize_address
from app.tickets.merging import MergeRefused, merge
from app.tickets.models import EventKind, EventVisibility, Status, Ticket
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user
from tests.pages import error_summary, status_badge, text_of

PLAZA = (Decimal("-33.485000"), Decimal("-70.550000"))


@pytest.mark.parametrize("a, b", [
    ("Av. Grecia 8735", "avenida grecia 8.735"),
    ("Pje. Los Aromos N° 1234", "pasaje los aromos 1234"),
    ("AVDA. JOSÉ ARRIETA #9000", "Avenida Jose Arrieta 9000"),
    ("  Los   Aromos, 12 ", "los aromos 12"),
])
def test_addresses_that_differ_only_in_writing_normalise_equal(a, b):
    assert normalize_address(a) == normalize_address(b)


def test_different_street_numbers_stay_different():
    assert normalize_address("Los Aromos 12") != normalize_address("Los Aromos 120")


def test_haversine_distance_matches_a_known_value():
    # 0.001° of latitude is about 111 m.
    assert 110 < distance_meters(-33.485, -70.55, -33.486, -70.55) < 112


def similar_numbers(session, ticket):
    return {m.ticket.public_number: m.reasons for m in find_similar(session, ticket)}


def test_same_normalised_address_is_suggested(session):
    category = make_category(session)
    first = make_ticket(session, category, address="Av. Grecia 8735", notify=False,
                        description="Basura acumulada junto al contenedor.")
    second = make_ticket(session, category, address="avenida grecia 8.735", notify=False,
                         description="Hay un colchón tirado hace una semana.")
    assert similar_numbers(session, second) == {first.public_number: ["Misma dirección"]}


def test_nearby_coordinates_are_suggested_and_far_ones_are_not(session):
    category = make_category(session)
    near = make_ticket(session, category, latitude=PLAZA[0] + Decimal("0.0008"),
                       longitude=PLAZA[1], notify=False, description="Luminaria apagada.")
    make_ticket(session, category, latitude=PLAZA[0] + Decimal("0.01"), longitude=PLAZA[1],
                notify=False, description="Poste inclinado en otra villa.")
    new = make_ticket(session, category, latitude=PLAZA[0], longitude=PLAZA[1],
                      notify=False, description="Cables colgando en la plaza.")
    found = find_similar(session, new)
    assert [m.ticket.public_number for m in found] == [near.public_number]
    assert 80 < found[0].distance < 95 and found[0].reasons == ["A 89 m"]


def test_very_similar_text_is_suggested(session):
    category = make_category(session)
    first = make_ticket(session, category, notify=False,
                        description="La luminaria del pasaje Los Aromos está apagada.")
    make_ticket(session, category, notify=False,
                description="Solicito poda de árboles en la plaza central.")
    new = make_ticket(session, category, notify=False,
                      description="la luminaria del pasaje los aromos esta apagada!!")
    reasons = similar_numbers(session, new)
    assert list(reasons) == [first.public_number]
    assert reasons[first.public_number][0].startswith("Descripción parecida")


def test_other_categories_closed_and_merged_requests_are_not_suggested(session):
    category = make_category(session)
    address = {"address": "Los Aromos 12", "notify": False}
    make_ticket(session, make_category(session), **address)  # another category
    closed = make_ticket(session, category, **address)
    lifecycle.transition(session, closed, Status.CLOSED, actor=None, note="Resuelto.")
    old = make_ticket(session, category, now=utcnow() - timedelta(days=200), **address)
    new = make_ticket(session, category, **address)
    assert similar_numbers(session, new) == {}
    assert old.status is Status.RECEIVED


# --- merging (service) -------------------------------------------------------------------

@pytest.fixture
def pair(session):
    department = make_department(session, name="Alumbrado")
    category = make_category(session, department, name="Luminaria apagada")
    agent = make_user(session, Role.AGENT, [department])
    survivor = make_ticket(session, category, address="Los Aromos 12", notify=False,
                           contact=ResidentContact(name="Ana Primera",
                                                   email="primera@example.cl"))
    duplicate = make_ticket(session, category, address="los aromos 12", notify=False,
                            contact=ResidentContact(name="Berta Segunda",
                                                    email="segunda@example.cl"))
    return survivor, duplicate, agent


def test_merge_moves_duplicate_links_both_timelines_and_emails_its_resident(session, pair):
    survivor, duplicate, agent = pair
    result = merge(session, duplicate, survivor, actor=agent, reason="Mismo poste.")

    assert result is survivor
    assert duplicate.status is Status.DUPLICATE and duplicate.duplicate_of is survivor
    assert survivor.duplicates == [duplicate] and survivor.status is Status.RECEIVED
    changed = [e for e in duplicate.events if e.kind is EventKind.STATUS_CHANGED][-1]
    assert changed.visibility is EventVisibility.PUBLIC
    assert survivor.public_number in changed.body
    assert survivor.formatted_tracking_code not in changed.body
    (on_dup,) = [e for e in duplicate.events if e.kind is EventKind.MERGED]
    (on_survivor,) = [e for e in survivor.events if e.kind is EventKind.MERGED]
    assert on_dup.visibility is on_survivor.visibility is EventVisibility.INTERNAL
    assert survivor.public_number in on_dup.body and "Mismo poste." in on_dup.body
    assert duplicate.public_number in on_survivor.body
    (mail,) = session.scalars(sa.select(OutboxMessage)).all()
    assert mail.recipient == "segunda@example.cl"
    assert survivor.public_number in mail.body_text
    assert survivor.tracking_code not in mail.body_text.replace("-", "")
    assert "Ana" not in mail.body_text and "primera@" not in mail.body_text


def test_later_public_moves_of_the_survivor_email_the_merged_resident_status_only(session,
                                                                                  pair):
    survivor, duplicate, agent = pair
    merge(session, duplicate, survivor, actor=agent, reason="Mismo poste.")
    lifecycle.transition(session, survivor, Status.WAITING_RESIDENT, actor=agent,
                         note="Ana, ¿nos confirma el número de su casa?")
    lifecycle.transition(session, survivor, Status.IN_PROGRESS, actor=agent,
                         visible_to_resident=False)
    to_merged = session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == "segunda@example.cl").order_by(OutboxMessage.id)).all()
    assert len(to_merged) == 2  # the merge, and the one public move
    assert "Esperando respuesta del vecino/a" in to_merged[1].body_text
    assert "Ana" not in to_merged[1].body_text  # the note was for the other resident


def test_merging_into_a_merged_request_goes_to_its_survivor(session, pair):
    survivor, duplicate, agent = pair
    third = make_ticket(session, survivor.category, notify=False)
    merge(session, duplicate, survivor, actor=agent, reason="Mismo poste.")
    assert merge(session, third, duplicate, actor=agent, reason="Igual.") is survivor
    assert third.duplicate_of is survivor


def test_merging_a_request_that_has_duplicates_repoints_them(session, pair):
    survivor, duplicate, agent = pair
    third = make_ticket(session, survivor.category, notify=False)
    merge(session, third, duplicate, actor=agent, reason="Igual.")
    merge(session, duplicate, survivor, actor=agent, reason="Mismo poste.")
    assert third.duplicate_of is survivor and duplicate.duplicate_of is survivor


@pytest.mark.parametrize("case, message", [
    ("itself", "consigo misma"),
    ("chain_to_itself", "consigo misma"),
    ("other_category", "misma categoría"),
    ("closed_target", "solo se puede unir a una solicitud abierta"),
    ("resolved_duplicate", "ya no se puede marcar como duplicada"),
    ("no_reason", "Escribe por qué"),
    ("invisible_target", "entre las que puedes ver"),
])
def test_merge_refusals_explain_and_change_nothing(session, pair, case, message):
    survivor, duplicate, agent = pair
    target, reason = survivor, "Mismo poste."
    if case == "itself":
        target = duplicate
    elif case == "chain_to_itself":
        merge(session, survivor, duplicate, actor=agent, reason="Al revés.")
        target = survivor  # its survivor is the duplicate itself
    elif case == "other_category":
        target = make_ticket(session, make_category(session, survivor.department),
                             notify=False)
    elif case == "closed_target":
        lifecycle.transition(session, survivor, Status.CLOSED, actor=agent, note="Listo.")
    elif case == "resolved_duplicate":
        lifecycle.transition(session, duplicate, Status.RESOLVED, actor=agent)
    elif case == "no_reason":
        reason = "  "
    elif case == "invisible_target":
        target = make_ticket(session, make_category(session), notify=False)
    status_before = duplicate.status
    with pytest.raises(MergeRefused) as caught:
        merge(session, duplicate, target, actor=agent, reason=reason)
    assert message in caught.value.message
    assert duplicate.status is status_before
    if case != "chain_to_itself":
        assert duplicate.duplicate_of is None


# --- HTTP: staff page and resident status page --------------------------------------------

def login(client, email: str) -> None:
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    assert client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": PASSWORD,
    }).status_code == 302


@pytest.fixture
def web_pair(database):
    with database() as session:
        department = make_department(session, name="Alumbrado")
        category = make_category(session, department, name="Luminaria apagada")
        agent = make_user(session, Role.AGENT, [department])
        survivor = make_ticket(session, category, address="Av. Grecia 8735", notify=False)
        duplicate = make_ticket(session, category, address="avenida grecia 8.735",
                                notify=False, email="segunda@example.cl")
        session.commit()
        return {"agent": agent.email, "survivor": survivor.id, "duplicate": duplicate.id,
                "survivor_number": survivor.public_number,
                "duplicate_number": duplicate.public_number,
                "duplicate_code": duplicate.formatted_tracking_code}


def test_staff_page_suggests_the_duplicate_and_merges_it(client, database, web_pair):
    login(client, web_pair["agent"])
    url = f"/gestion/solicitudes/{web_pair['duplicate']}"
    page = client.get(url).get_data(as_text=True)
    assert "Posibles duplicadas" in page
    assert f"N° {web_pair['survivor_number']}" in text_of(page)
    assert "Misma dirección" in page
    prefilled = client.get(url, query_string={"unir": web_pair["survivor_number"]})
    assert f'value="{web_pair["survivor_number"]}"' in prefilled.get_data(as_text=True)
    response = client.post(f"{url}/unir", data={
        "merge-csrf_token": csrf_token_from(page), "merge-target": web_pair["survivor_number"],
        "merge-reason": "Mismo poste, misma dirección."})
    assert response.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert status_badge(page)[0] == "duplicate"
    assert "Esta solicitud se unió a la" in text_of(page)
    survivor_page = client.get(f"/gestion/solicitudes/{web_pair['survivor']}").get_data(
        as_text=True)
    assert f"/gestion/solicitudes/{web_pair['duplicate']}" in survivor_page
    assert "Solicitudes unidas a esta" in survivor_page


@pytest.mark.parametrize("target, message", [
    ("", "No encontramos la solicitud"),
    ("2099-999999", "No encontramos la solicitud N° 2099-999999"),
    ("self", "consigo misma"),
])
def test_staff_merge_form_bad_input_is_explained_and_kept(client, database, web_pair, target,
                                                          message):
    login(client, web_pair["agent"])
    url = f"/gestion/solicitudes/{web_pair['duplicate']}"
    page = client.get(url).get_data(as_text=True)
    number = web_pair["duplicate_number"] if target == "self" else target
    response = client.post(f"{url}/unir", data={
        "merge-csrf_token": csrf_token_from(page), "merge-target": number,
        "merge-reason": "Texto que no se pierde."})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in text_of(error_summary(html))
    assert "Texto que no se pierde." in html
    with database() as session:
        assert session.get(Ticket, web_pair["duplicate"]).status is Status.RECEIVED


def test_resident_page_of_merged_request_shows_the_survivors_status(client, database,
                                                                    web_pair):
    with database() as session:
        survivor = session.get(Ticket, web_pair["survivor"])
        duplicate = session.get(Ticket, web_pair["duplicate"])
        agent = session.scalar(sa.select(User).where(User.email == web_pair["agent"]))
        merge(session, duplicate, survivor, actor=agent, reason="Mismo poste.")
        lifecycle.transition(session, survivor, Status.IN_PROGRESS, actor=agent,
                             note="Rosa: vamos mañana a su casa en Grecia 8735.")
        session.commit()
    page = client.get(f"/seguimiento/{web_pair['duplicate_code']}").get_data(as_text=True)
    text = text_of(page)
    assert f"Tu solicitud se unió a la N° {web_pair['survivor_number']}" in text
    assert f"Estado de la N° {web_pair['survivor_number']} En gestión" in text
    assert "Nuevo estado: En gestión" in text
    assert "vamos mañana" not in text  # words written to the other resident stay hidden


def test_open311_shows_the_parent_of_a_merged_request(client, database, web_pair):
    with database() as session:
        survivor = session.get(Ticket, web_pair["survivor"])
        duplicate = session.get(Ticket, web_pair["duplicate"])
        agent = make_user(session, Role.ADMIN)
        merge(session, duplicate, survivor, actor=agent, reason="Mismo poste.")
        session.commit()
    response = client.get(f"/open311/v2/requests/{web_pair['duplicate_number']}.json",
                          query_string={"extensions": "true"})
    (record,) = response.get_json()
    assert record["extended_attributes"]["duplicate"] is True
    assert record["extended_attributes"]["parent_service_request_id"] == \
        web_pair["survivor_number"]
