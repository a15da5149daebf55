"""``flask seed synthetic``: bulk synthetic history that stays consistent with real intake."""

from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Category
from app.tickets import intake
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, EventKind, Ticket, TicketEvent, YearCounter
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
