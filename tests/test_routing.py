"""Routing rules, assignment inside a department and auto-assignment (services)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.accounts.models import Role
from app.catalog import rules
from app.catalog.models import AutoAssign, Department, Macrosector
from app.catalog.routing import matching_keyword, normalize_text, route
from app.domain import ValidationFailed
from app.notifications.models import OutboxMessage
from app.tickets import assignment, lifecycle, timeline
from app.tickets.models import (
    ActorKind,
    Channel,
    EventKind,
    EventVisibility,
    Status,
)
from tests.factories import make_category, make_department, make_ticket, make_user


def add_rule(session, department, name=None, **conditions):
    data = rules.RuleInput(name=name or f"Regla {department.name} {len(conditions)}",
                           department_id=department.id, **conditions)
    return rules.create_rule(session, data)


@pytest.fixture
def world(session):
    """Three departments, a category of Obras, a macrosector."""
    obras = make_department(session, name="Obras")
    zoonosis = make_department(session, name="Zoonosis")
    transito = make_department(session, name="Tránsito")
    bache = make_category(session, obras, name="Bache")
    otra = make_category(session, transito, name="Semáforo")
    sector = Macrosector(name="Lo Hermida")
    other_sector = Macrosector(name="La Faena")
    session.add_all([sector, other_sector])
    session.flush()
    return {"obras": obras, "zoonosis": zoonosis, "transito": transito, "bache": bache,
            "otra": otra, "sector": sector, "other_sector": other_sector}


# --- text normalisation -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Perro", "perro"),
    ("  PERRO   bravo, ÑANDÚ!", "perro bravo nandu"),
    ("Peñalolén", "penalolen"),
    ("", ""),
    (None, ""),
])
def test_normalize_text_drops_case_accents_and_punctuation(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(("keywords", "text", "expected"), [
    (["perro"], "Hay un PERRO suelto", "perro"),
    (["perro"], "Un perro, suelto", "perro"),
    (["camion"], "el camión no pasó", "camion"),
    (["camión"], "EL CAMION NO PASO", "camión"),
    (["perro"], "unos perros sueltos", None),  # whole words only
    (["perro"], "superperro", None),
    (["gato", "perro"], "un perro", "perro"),
    (["luz cortada"], "hay LUZ   Cortada en el pasaje", "luz cortada"),
    (["luz cortada"], "cortada la luz", None),
    (["perro"], "", None),
])
def test_keywords_match_whole_words_ignoring_case_and_accents(keywords, text, expected):
    assert matching_keyword(keywords, text) == expected


# --- rule evaluation ----------------------------------------------------------------------


@pytest.mark.parametrize(("conditions", "request_data", "matches"), [
    ({"category": "bache"}, {}, True),
    ({"category": "otra"}, {}, False),
    ({"keywords": "perro, gato"}, {"description": "Un gato muerto en la calle"}, True),
    ({"keywords": "perro, gato"}, {"description": "Nada que ver con animales"}, False),
    ({"keywords": "jazmines"}, {"address": "Pasaje Los Jazmines 123"}, True),  # address text
    ({"macrosector": "sector"}, {"macrosector": "sector"}, True),
    ({"macrosector": "sector"}, {"macrosector": "other_sector"}, False),
    ({"macrosector": "sector"}, {}, False),
    ({"address_contains": "los jazmines"}, {"address": "Pje. Los Jazmínes 45"}, True),
    ({"address_contains": "jazmines"}, {"address": "Av. Grecia 100"}, False),
    ({"address_contains": "jazmines"}, {}, False),
    ({"channel": "phone"}, {"channel": Channel.PHONE}, True),
    ({"channel": "phone"}, {"channel": Channel.WEB}, False),
    ({"category": "bache", "keywords": "perro"}, {"description": "un perro"}, True),
    ({"category": "bache", "keywords": "perro"}, {"description": "un hoyo"}, False),
    ({"category": "otra", "keywords": "perro"}, {"description": "un perro"}, False),
])
def test_each_condition_must_match(session, world, conditions, request_data, matches):
    given = dict(conditions)
    if "category" in given:
        given["category_id"] = world[given.pop("category")].id
    if "macrosector" in given:
        given["macrosector_id"] = world[given.pop("macrosector")].id
    rule = add_rule(session, world["zoonosis"], name="Mascotas", **given)
    data = {"description": "Texto de la solicitud", "address": None, "macrosector": None,
            "channel": Channel.WEB, **request_data}
    if isinstance(data["macrosector"], str):
        data["macrosector"] = world[data["macrosector"]]

    decision = route(session, category=world["bache"], **data)

    if matches:
        assert decision.rule == rule
        assert decision.department == world["zoonosis"]
        assert decision.reason.startswith("Regla «Mascotas»: ")
    else:
        assert decision.rule is None
        assert decision.department == world["obras"]


def test_rules_are_evaluated_in_order_and_the_first_match_wins(session, world):
    first = add_rule(session, world["zoonosis"], name="Perros", keywords="perro")
    add_rule(session, world["transito"], name="Todo Bache", category_id=world["bache"].id)

    decision = route(session, category=world["bache"], description="Un perro en el hoyo")

    assert decision.rule == first
    assert decision.reason == "Regla «Perros»: palabra «perro». Departamento: Zoonosis."
    rules.move_rule(session, first, +1)
    assert route(session, category=world["bache"],
                 description="Un perro en el hoyo").department == world["transito"]


def test_reason_names_every_matched_condition(session, world):
    add_rule(session, world["zoonosis"], name="Perros de Lo Hermida", keywords="perro",
             macrosector_id=world["sector"].id, channel="phone",
             category_id=world["bache"].id, address_contains="Grecia")

    decision = route(session, category=world["bache"], description="Un Perro",
                     address="Av. Grecia 100", macrosector=world["sector"],
                     channel=Channel.PHONE)

    assert decision.reason == (
        "Regla «Perros de Lo Hermida»: categoría «Bache», palabra «perro», macrosector "
        "«Lo Hermida», dirección con «Grecia», canal «Teléfono». Departamento: Zoonosis.")


def test_inactive_rule_is_skipped(session, world):
    rule = add_rule(session, world["zoonosis"], name="Perros", keywords="perro")
    rule.active = False
    second = add_rule(session, world["transito"], name="También perros", keywords="perro")

    assert route(session, category=world["bache"], description="perro").rule == second


def test_rule_with_inactive_department_is_skipped(session, world):
    add_rule(session, world["zoonosis"], name="Perros", keywords="perro")
    world["zoonosis"].active = False
    session.flush()

    decision = route(session, category=world["bache"], description="un perro")

    assert decision.rule is None
    assert decision.department == world["obras"]


def test_without_a_matching_rule_the_category_department_takes_it(session, world):
    decision = route(session, category=world["bache"], description="Un hoyo enorme")

    assert decision.rule is None
    assert decision.department == world["obras"]
    assert decision.reason == "Departamento de la categoría «Bache»: Obras."


def test_creation_event_records_the_rule_that_routed_the_request(session, world):
    add_rule(session, world["zoonosis"], name="Perros", keywords="perro")

    ticket = make_ticket(session, world["bache"], description="Hay un PERRO atropellado aquí.")

    assert ticket.department == world["zoonosis"]
    created = ticket.events[0]
    assert created.kind is EventKind.CREATED
    assert created.to_department_id == world["zoonosis"].id
    assert created.body == "Regla «Perros»: palabra «perro». Departamento: Zoonosis."


def test_intake_passes_macrosector_and_channel_to_the_rules(session, world):
    add_rule(session, world["transito"], name="Teléfono en Lo Hermida", channel="phone",
             macrosector_id=world["sector"].id)

    by_phone = make_ticket(session, world["bache"], channel=Channel.PHONE,
                           macrosector=world["sector"])
    by_web = make_ticket(session, world["bache"], channel=Channel.WEB,
                         macrosector=world["sector"])

    assert by_phone.department == world["transito"]
    assert by_web.department == world["obras"]


# --- editing rules --------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": "  "}, "name", "Escribe un nombre para la regla."),
    ({"name": "x" * 121}, "name", "como máximo 120"),
    ({"name": "perros"}, "name", "Ya existe una regla con ese nombre."),
    ({"department_id": None}, "department", "Elige el departamento"),
    ({"department_id": 999999}, "department", "Elige el departamento"),
    ({"category_id": 999999}, "category", "Elige una categoría de la lista."),
    ({"macrosector_id": 999999}, "macrosector", "Elige un macrosector de la lista."),
    ({"channel": "paloma"}, "channel", "Elige un canal de la lista."),
    ({"keywords": "x" * 61}, "keywords", "como máximo 60"),
    ({"keywords": "¡!, perro"}, "keywords", "letras o números"),
    ({"keywords": "", "address_contains": "x" * 121}, "address_contains", "como máximo 120"),
    ({"keywords": " , , "}, "category", "al menos una condición"),
])
def test_invalid_rules_are_refused_with_a_field_message(session, world, changes, field,
                                                        message):
    add_rule(session, world["zoonosis"], name="Perros", keywords="perro")
    data = {"name": "Gatos", "department_id": world["zoonosis"].id, "keywords": "gato",
            **changes}

    with pytest.raises(ValidationFailed) as error:
        rules.create_rule(session, rules.RuleInput(**data))

    assert message in " ".join(error.value.field_errors[field])


def test_keywords_are_stored_tidied(session, world):
    rule = add_rule(session, world["zoonosis"], name="Perros",
                    keywords=" perro ,, Gato   negro ,")

    assert rule.keywords == "perro, Gato negro"
    assert rule.keyword_list == ["perro", "Gato negro"]


def test_move_up_and_down_swaps_neighbours_and_stops_at_the_ends(session, world):
    a = add_rule(session, world["zoonosis"], name="A", keywords="a")
    b = add_rule(session, world["zoonosis"], name="B", keywords="b")
    c = add_rule(session, world["zoonosis"], name="C", keywords="c")

    assert rules.move_rule(session, c, -1) is True
    assert [r.name for r in rules.ordered_rules(session)] == ["A", "C", "B"]
    assert rules.move_rule(session, a, -1) is False
    assert rules.move_rule(session, b, +1) is False
    assert rules.move_rule(session, a, +1) is True
    assert [r.name for r in rules.ordered_rules(session)] == ["C", "A", "B"]


# --- manual assignment ------------------------------------------------------------------------


@pytest.fixture
def team(session, world):
    """Two agents of Obras and a supervisor of Tránsito; a request of Obras."""
    ana = make_user(session, Role.AGENT, [world["obras"]])
    beto = make_user(session, Role.AGENT, [world["obras"]])
    carla = make_user(session, Role.SUPERVISOR, [world["transito"]])
    ticket = make_ticket(session, world["bache"], notify=False)
    return {"ana": ana, "beto": beto, "carla": carla, "ticket": ticket}


def test_assign_records_an_internal_event_and_emails_the_assignee(session, team):
    event = assignment.assign(session, team["ticket"], team["beto"], actor=team["ana"])

    assert team["ticket"].assigned_to == team["beto"]
    assert event.kind is EventKind.ASSIGNED
    assert event.visibility is EventVisibility.INTERNAL
    assert event.actor == team["ana"] and event.actor_kind is ActorKind.STAFF
    assert event.body == f"Asignada a {team['beto'].name}."
    message = session.scalar(sa.select(OutboxMessage))
    assert message.recipient == team["beto"].email
    assert message.ticket_id == team["ticket"].id
    assert team["ticket"].public_number in message.subject
    assert f"http://conectados.test/gestion/solicitudes/{team['ticket'].id}" in message.body_text
    assert "vecina@example.cl" not in message.body_text  # no resident contact data


def test_assigning_oneself_sends_no_email(session, team):
    assignment.assign(session, team["ticket"], team["ana"], actor=team["ana"])

    assert team["ticket"].assigned_to == team["ana"]
    assert session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_assignment_refuses_a_member_of_another_department(session, team):
    with pytest.raises(ValidationFailed) as error:
        assignment.assign(session, team["ticket"], team["carla"], actor=team["ana"])

    assert "assignee" in error.value.field_errors
    assert team["ticket"].assigned_to is None
    assert session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_assignment_refuses_an_inactive_member(session, team):
    team["beto"].active = False

    with pytest.raises(ValidationFailed):
        assignment.assign(session, team["ticket"], team["beto"], actor=team["ana"])


def test_assignment_can_be_cleared_and_repeating_it_is_refused(session, team):
    assignment.assign(session, team["ticket"], team["beto"], actor=team["ana"])
    with pytest.raises(ValidationFailed):
        assignment.assign(session, team["ticket"], team["beto"], actor=team["ana"])

    event = assignment.assign(session, team["ticket"], None, actor=team["ana"])

    assert team["ticket"].assigned_to is None
    assert event.body == "Quedó sin asignar."


def test_reassignment_to_another_department_clears_the_assignee(session, world, team):
    assignment.assign(session, team["ticket"], team["ana"], actor=team["ana"])

    timeline.reassign(session, team["ticket"], world["transito"], actor=team["ana"],
                      reason="Es un semáforo.")

    assert team["ticket"].assigned_to is None
    kinds = [(e.kind, e.body) for e in team["ticket"].events]
    assert kinds[-2][0] is EventKind.REASSIGNED
    assert kinds[-1] == (EventKind.ASSIGNED, "Quedó sin asignar al cambiar de departamento.")


def test_reassignment_auto_assigns_in_a_department_that_does_it(session, world, team):
    assignment.assign(session, team["ticket"], team["ana"], actor=team["ana"])
    world["transito"].auto_assign = AutoAssign.ROUND_ROBIN

    timeline.reassign(session, team["ticket"], world["transito"], actor=team["ana"],
                      reason="Es un semáforo.")

    assert team["ticket"].assigned_to == team["carla"]
    assert team["ticket"].events[-1].body == (
        f"Asignada automáticamente a {team['carla'].name} (por turno).")
    assert team["ticket"].events[-1].actor_kind is ActorKind.SYSTEM
    recipients = session.scalars(sa.select(OutboxMessage.recipient)).all()
    assert team["carla"].email in recipients


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reassignment_without_a_reason_is_refused(session, world, team, reason):
    with pytest.raises(ValidationFailed) as error:
        timeline.reassign(session, team["ticket"], world["transito"], actor=team["ana"],
                          reason=reason)

    assert "reason" in error.value.field_errors
    assert team["ticket"].department == world["obras"]


# --- auto-assignment ---------------------------------------------------------------------------


def test_round_robin_alternates_across_members_and_skips_inactive_users(session, world):
    obras = world["obras"]
    obras.auto_assign = AutoAssign.ROUND_ROBIN
    first = make_user(session, Role.AGENT, [obras])
    gone = make_user(session, Role.AGENT, [obras])
    third = make_user(session, Role.SUPERVISOR, [obras])
    make_user(session, Role.MANAGER, [obras])  # managers are never auto-assigned
    gone.active = False
    session.flush()

    picked = [make_ticket(session, world["bache"], notify=False).assigned_to
              for _ in range(5)]

    assert picked == [first, third, first, third, first]
    assert obras.last_assigned_user_id == first.id


def test_round_robin_continues_after_the_last_member_served_leaves(session, world):
    obras = world["obras"]
    obras.auto_assign = AutoAssign.ROUND_ROBIN
    a, b, c = (make_user(session, Role.AGENT, [obras]) for _ in range(3))
    assert make_ticket(session, world["bache"], notify=False).assigned_to == a
    assert make_ticket(session, world["bache"], notify=False).assigned_to == b
    b.active = False
    session.flush()

    assert make_ticket(session, world["bache"], notify=False).assigned_to == c
    assert make_ticket(session, world["bache"], notify=False).assigned_to == a


def test_fewest_open_picks_the_least_loaded_member(session, world):
    obras = world["obras"]
    busy = make_user(session, Role.AGENT, [obras])
    idle = make_user(session, Role.AGENT, [obras])
    medium = make_user(session, Role.SUPERVISOR, [obras])
    for user, count in ((busy, 3), (medium, 1)):
        for _ in range(count):
            ticket = make_ticket(session, world["bache"], notify=False)
            assignment.assign(session, ticket, user, actor=user)
    # Closed requests do not count as load.
    for _ in range(4):
        done = make_ticket(session, world["bache"], notify=False)
        assignment.assign(session, done, idle, actor=idle)
        lifecycle.transition(session, done, Status.CLOSED, actor=idle, note="Listo.",
                             notify=False)
    obras.auto_assign = AutoAssign.FEWEST_OPEN

    first = make_ticket(session, world["bache"], notify=False)
    second = make_ticket(session, world["bache"], notify=False)
    third = make_ticket(session, world["bache"], notify=False)

    assert first.assigned_to == idle  # 0 open
    assert second.assigned_to == idle  # 1 open; medium also has 1, idle has the lower id
    assert third.assigned_to == medium  # idle 2, medium 1
    assert first.events[-1].body == (
        f"Asignada automáticamente a {idle.name} (menos solicitudes abiertas).")


def test_department_without_auto_assignment_leaves_requests_unassigned(session, world):
    make_user(session, Role.AGENT, [world["obras"]])

    ticket = make_ticket(session, world["bache"])

    assert ticket.assigned_to is None
    assert [e.kind for e in ticket.events] == [EventKind.CREATED]


def test_auto_assignment_at_intake_is_on_the_timeline_and_emailed(session, world):
    world["obras"].auto_assign = AutoAssign.ROUND_ROBIN
    agent = make_user(session, Role.AGENT, [world["obras"]])

    ticket = make_ticket(session, world["bache"], email="vecina@example.cl")

    assert ticket.assigned_to == agent
    assert [e.kind for e in ticket.events] == [EventKind.CREATED, EventKind.ASSIGNED]
    assert ticket.events[1].actor is None and ticket.events[1].actor_kind is ActorKind.SYSTEM
    recipients = sorted(session.scalars(sa.select(OutboxMessage.recipient)).all())
    assert recipients == sorted([agent.email, "vecina@example.cl"])


def test_auto_assignment_with_no_eligible_member_leaves_it_unassigned(session, world):
    world["obras"].auto_assign = AutoAssign.FEWEST_OPEN
    make_user(session, Role.MANAGER, [world["obras"]])

    ticket = make_ticket(session, world["bache"], notify=False)

    assert ticket.assigned_to is None


def test_set_auto_assign_refuses_an_unknown_mode(session, world):
    with pytest.raises(ValidationFailed) as error:
        rules.set_auto_assign(session, world["obras"], "al-azar")

    assert "auto_assign" in error.value.field_errors
    rules.set_auto_assign(session, world["obras"], "fewest_open")
    assert world["obras"].auto_assign is AutoAssign.FEWEST_OPEN



def test_concurrent_round_robin_picks_wait_for_each_other_and_differ(app, database):
    """Two intakes at once: the second waits on the department row, then takes the next member."""
    with database() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("row locks are PostgreSQL's; SQLite has a single writer")
        obras = make_department(session, auto_assign=AutoAssign.ROUND_ROBIN)
        make_user(session, Role.AGENT, [obras])
        make_user(session, Role.AGENT, [obras])
        session.commit()
        department_id = obras.id
        engine = session.get_bind()
    first = Session(engine)
    second_pick: dict[str, int] = {}

    def pick_in_another_transaction() -> None:
        with Session(engine) as other:
            chosen = assignment.pick_assignee(other, other.get(Department, department_id))
            second_pick["id"] = chosen.id
            other.commit()

    try:
        first_pick = assignment.pick_assignee(first, first.get(Department, department_id)).id
        thread = threading.Thread(target=pick_in_another_transaction)
        thread.start()
        thread.join(timeout=1.5)
        assert thread.is_alive(), "the second pick did not wait for the first transaction"
        first.commit()
        thread.join(timeout=10)
    finally:
        first.close()

    assert not thread.is_alive()
    assert second_pick["id"] != first_pick
