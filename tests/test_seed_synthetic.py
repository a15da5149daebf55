"""``flask seed synthetic``: bulk synthetic history that stays consistent with real intake."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog.models import Category
from app.surveys.models import ResolutionSurvey
from app.tickets import intake
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, EventKind, Ticket, TicketEvent, YearCounter
from app.tickets.tracking import normalize_code
from tests.factories import make_ticket


def test_synthetic_history_is_consistent_and_numbering_continues(app, runner, database):
    result = runner.invoke(args=["seed", "synthetic", "--requests", "500", "--years", "2"])
    assert result.exit_code == 0, result.output
    assert "500 requests" in result.output
    with database() as session:
        _check_history(session)


def _check_history(session) -> None:
    tickets = session.scalars(sa.select(Ticket)).all()
    assert len(tickets) == 500
    assert len({t.tracking_code for t in tickets}) == 500
    assert len({t.public_number for t in tickets}) == 500
    # Codes come from a table-driven Luhn: the real reader must accept every one.
    assert all(normalize_code(t.tracking_code) == t.tracking_code for t in tickets)
    # PostgreSQL skips foreign-key triggers during the load: no row may point nowhere.
    for child in (TicketEvent, ResolutionSurvey):
        orphans = session.scalar(
            sa.select(sa.func.count()).select_from(child)
            .outerjoin(Ticket, Ticket.id == child.ticket_id).where(Ticket.id.is_(None)))
        assert orphans == 0, child
    for t in tickets:
        assert t.first_response_at is None or t.first_response_at >= t.created_at
        assert t.resolved_at is None or t.resolved_at >= t.created_at
        assert t.closed_at is None or (t.resolved_at and t.closed_at >= t.resolved_at)
        assert (t.status.value in ("resolved", "closed")) == (t.resolved_at is not None)
        assert t.resolution_due_at is None or t.resolution_due_at > t.created_at
    created = session.scalar(sa.select(sa.func.count()).select_from(TicketEvent)
                             .where(TicketEvent.kind == EventKind.CREATED))
    assert created == 500
    for counter in session.scalars(sa.select(YearCounter)):
        top = session.scalar(sa.select(sa.func.max(Ticket.sequence))
                             .where(Ticket.year == counter.year))
        assert counter.last_value == top
    category = session.scalars(sa.select(Category).where(Category.slug == "bache")).one()
    year = max(session.scalars(sa.select(YearCounter.year)))
    before = session.get(YearCounter, year).last_value
    ticket = intake.submit(session, category=category, description="Un hoyo enorme en la calle.",
                           channel=Channel.WEB, consent=True, notify=False,
                           contact=ResidentContact(name="Rosa", email="rosa@example.cl"))
    if ticket.year == year:
        assert ticket.sequence == before + 1
    session.commit()


def test_synthetic_refuses_a_database_with_real_requests_unless_forced(app, runner, database):
    with database() as session:
        make_ticket(session)
        session.commit()
    refused = runner.invoke(args=["seed", "synthetic", "--requests", "50"])
    assert refused.exit_code != 0
    assert "solicitudes reales" in refused.output
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1
    forced = runner.invoke(args=["seed", "synthetic", "--requests", "50", "--force"])
    assert forced.exit_code == 0, forced.output
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 51


def test_synthetic_load_turns_foreign_key_checks_back_on_in_its_transaction(app, database):
    from app.seed.synthetic import seed_synthetic

    with database() as session:
        summary = seed_synthetic(session, requests=30, years=1)
        assert summary.requests == 30
        if session.get_bind().dialect.name == "postgresql":
            role = session.scalar(sa.text("SELECT current_setting('session_replication_role')"))
            assert role == "origin"
            # And they do check: an event for a missing request is refused.
            with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
                session.execute(sa.text(
                    "INSERT INTO ticket_events (ticket_id, kind, visibility, actor_kind, "
                    "created_at) VALUES (987654321, 'note', 'internal', 'system', now())"))
        session.rollback()
