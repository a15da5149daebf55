import itertools

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.notifications.models import OutboxMessage
from app.tickets import lifecycle
from app.tickets.lifecycle import ALLOWED_MOVES, ReasonRequired, TransitionNotAllowed, transition
from app.tickets.models import ActorKind, EventKind, EventVisibility, Status, TicketEvent
from tests.factories import make_category, make_ticket, make_user

S = Status
# A path from `received` to each status.
PATH_TO = {
    S.RECEIVED: [],
    S.IN_REVIEW: [S.IN_REVIEW],
    S.IN_PROGRESS: [S.IN_PROGRESS],
    S.WAITING_RESIDENT: [S.WAITING_RESIDENT],
    S.RESOLVED: [S.IN_PROGRESS, S.RESOLVED],
    S.CLOSED: [S.IN_PROGRESS, S.RESOLVED, S.CLOSED],
    S.REFERRED: [S.REFERRED],
    S.DUPLICATE: [S.DUPLICATE],
}
ALL_PAIRS = list(itertools.product(Status, Status))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in ALLOWED_MOVES[a]]
DISALLOWED = [(a, b) for a, b in ALL_PAIRS if b not in ALLOWED_MOVES[a]]


def _ids(pair):
    return f"{pair[0].value}->{pair[1].value}"


@pytest.fixture
def agent_and_ticket(session):
    category = make_category(session)
    agent = make_user(session, Role.AGENT, [category.department])
    return agent, make_ticket(session, category, notify=False)


def _walk(session, ticket, agent, target):
    for status in PATH_TO[target]:
        transition(session, ticket, status, actor=agent, note="paso previo", notify=False)
    assert ticket.status is target


def test_status_machine_covers_every_status():
    assert set(ALLOWED_MOVES) == set(Status)
    assert set(PATH_TO) == set(Status)
    # Closed, referred and duplicate are final; resolved can only reopen or close.
    for final in (S.CLOSED, S.REFERRED, S.DUPLICATE):
        assert ALLOWED_MOVES[final] == set()
    assert ALLOWED_MOVES[S.RESOLVED] == {S.IN_PROGRESS, S.CLOSED}


@pytest.mark.parametrize("pair", ALLOWED, ids=_ids)
def test_every_allowed_move_changes_status_and_records_event(session, agent_and_ticket, pair):
    agent, ticket = agent_and_ticket
    current, target = pair
    _walk(session, ticket, agent, current)
    events_before = len(ticket.events)

    event = transition(session, ticket, target, actor=agent, note="motivo del cambio")

    assert ticket.status is target
    assert len(ticket.events) == events_before + 1
    assert event.kind is EventKind.STATUS_CHANGED
    assert (event.from_status, event.to_status) == (current, target)
    assert event.actor is agent and event.actor_kind is ActorKind.STAFF
    assert event.body == "motivo del cambio"


@pytest.mark.parametrize("pair", DISALLOWED, ids=_ids)
def test_every_disallowed_move_raises_and_changes_nothing(session, agent_and_ticket, pair):
    agent, ticket = agent_and_ticket
    current, target = pair
    _walk(session, ticket, agent, current)
    count_events = (sa.select(sa.func.count()).select_from(TicketEvent)
                    .where(TicketEvent.ticket_id == ticket.id))
    events_before = session.scalar(count_events)

    with pytest.raises(TransitionNotAllowed):
        transition(session, ticket, target, actor=agent, note="motivo")

    assert ticket.status is current
    assert session.scalar(count_events) == events_before


@pytest.mark.parametrize("target", [S.WAITING_RESIDENT, S.REFERRED, S.DUPLICATE, S.CLOSED])
def test_moves_that_need_a_reason_refuse_an_empty_note(session, agent_and_ticket, target):
    agent, ticket = agent_and_ticket
    with pytest.raises(ReasonRequired) as raised:
        transition(session, ticket, target, actor=agent, note="   ")
    assert "note" in raised.value.field_errors
    assert ticket.status is S.RECEIVED


def test_closing_a_resolved_request_needs_no_reason(session, agent_and_ticket):
    agent, ticket = agent_and_ticket
    _walk(session, ticket, agent, S.RESOLVED)
    transition(session, ticket, S.CLOSED, actor=None)
    assert ticket.status is S.CLOSED and ticket.closed_at is not None
    assert ticket.events[-1].actor_kind is ActorKind.SYSTEM


def test_resolving_stamps_resolved_at_and_reopening_clears_it(session, agent_and_ticket):
    agent, ticket = agent_and_ticket
    _walk(session, ticket, agent, S.RESOLVED)
    assert ticket.resolved_at is not None and ticket.closed_at is None
    transition(session, ticket, S.IN_PROGRESS, actor=None, actor_kind=ActorKind.RESIDENT,
               note="Sigue igual")
    assert ticket.resolved_at is None
    assert ticket.events[-1].actor_kind is ActorKind.RESIDENT


def test_first_staff_status_change_is_the_first_response(session, agent_and_ticket):
    agent, ticket = agent_and_ticket
    assert ticket.first_response_at is None
    first = transition(session, ticket, S.IN_REVIEW, actor=agent)
    transition(session, ticket, S.IN_PROGRESS, actor=agent)
    assert ticket.first_response_at == first.created_at


def test_system_move_is_not_a_first_response(session, agent_and_ticket):
    _agent, ticket = agent_and_ticket
    transition(session, ticket, S.IN_REVIEW, actor=None)
    assert ticket.first_response_at is None


def test_visible_move_emails_the_resident_and_internal_move_does_not(session, agent_and_ticket):
    agent, ticket = agent_and_ticket
    transition(session, ticket, S.IN_REVIEW, actor=agent, visible_to_resident=False)
    assert ticket.events[-1].visibility is EventVisibility.INTERNAL
    assert session.scalars(sa.select(OutboxMessage)).all() == []

    transition(session, ticket, S.WAITING_RESIDENT, actor=agent,
               note="¿Nos indica el número de casa?")
    [message] = session.scalars(sa.select(OutboxMessage)).all()
    assert message.recipient == "vecina@example.cl"
    assert "Esperando respuesta del vecino/a" in message.subject
    assert "¿Nos indica el número de casa?" in message.body_text
    assert ticket.formatted_tracking_code in message.body_text


def test_allowed_targets_follow_the_table_in_enum_order():
    assert lifecycle.allowed_targets(S.RESOLVED) == [S.IN_PROGRESS, S.CLOSED]
    assert lifecycle.allowed_targets(S.CLOSED) == []
