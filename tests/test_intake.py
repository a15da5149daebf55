import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.domain import ValidationFailed
from app.extensions import db
from app.notifications.models import OutboxMessage
from app.tickets import intake
from app.tickets.contact import ResidentContact
from app.tickets.models import (
    ActorKind,
    Channel,
    EventKind,
    EventVisibility,
    Status,
    Ticket,
)
from app.tickets.tracking import normalize_code
from tests.factories import make_category, make_department, make_ticket, make_user


def test_submit_routes_by_category_and_records_the_creation(session):
    department = make_department(session, name="Aseo y Ornato")
    category = make_category(session, department, name="Microbasural")
    ticket = make_ticket(session, category)

    assert ticket.department is department
    assert ticket.status is Status.RECEIVED
    assert ticket.channel is Channel.WEB
    [event] = ticket.events
    assert event.kind is EventKind.CREATED
    assert event.visibility is EventVisibility.PUBLIC
    assert event.actor_kind is ActorKind.RESIDENT
    assert event.to_department_id == department.id
    assert "Aseo y Ornato" in event.body


def test_submit_gives_an_unguessable_valid_tracking_code(session):
    first, second = make_ticket(session), make_ticket(session)
    assert normalize_code(first.tracking_code) == first.tracking_code
    assert first.tracking_code != second.tracking_code


def test_public_numbers_are_sequential_per_year_in_santiago_time(session):
    category = make_category(session)
    mid_2026 = datetime(2026, 6, 1, 12, tzinfo=UTC)
    # 02:00 UTC on 1 January 2027 is still 31 December 2026 in Santiago (UTC-3).
    new_year_eve_local = datetime(2027, 1, 1, 2, tzinfo=UTC)
    new_year_local = datetime(2027, 1, 1, 4, tzinfo=UTC)
    numbers = [make_ticket(session, category, now=moment).public_number
               for moment in (mid_2026, mid_2026, new_year_eve_local, new_year_local)]
    assert numbers == ["2026-000001", "2026-000002", "2026-000003", "2027-000001"]


def test_confirmation_email_is_queued_in_the_same_transaction(session):
    ticket = make_ticket(session, email="rosa@example.cl")
    [message] = session.scalars(sa.select(OutboxMessage)).all()
    assert message.recipient == "rosa@example.cl"
    assert ticket.public_number in message.subject
    assert ticket.formatted_tracking_code in message.body_text
    link = f"http://conectados.test/seguimiento/{ticket.formatted_tracking_code}"
    assert link in message.body_text
    assert message.ticket_id == ticket.id


def test_rolled_back_submission_leaves_neither_request_nor_email(session):
    category = make_category(session)
    session.commit()
    make_ticket(session, category)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_import_without_notification_queues_no_email(session):
    make_ticket(session, notify=False)
    assert session.scalars(sa.select(OutboxMessage)).all() == []


def test_resident_without_email_gets_no_email_but_a_request(session):
    ticket = make_ticket(session, email=None,
                         contact=ResidentContact(name="Juan", phone="+56 9 1234 5678"))
    assert ticket.id is not None
    assert session.scalars(sa.select(OutboxMessage)).all() == []


def test_contact_details_are_normalised(session):
    ticket = make_ticket(session, contact=ResidentContact(
        name="  Rosa Pérez ", email="Rosa@Example.CL", rut="12.345.678-5"))
    assert ticket.contact_name == "Rosa Pérez"
    assert ticket.contact_email == "Rosa@example.cl"
    assert ticket.contact_rut == "12345678-5"


def test_staff_entry_records_who_entered_it_for_the_resident(session):
    category = make_category(session)
    agent = make_user(session, Role.AGENT, [category.department])
    ticket = make_ticket(session, category, channel=Channel.PHONE, created_by=agent,
                         consent=False)
    assert ticket.created_by is agent
    assert ticket.events[0].actor_kind is ActorKind.STAFF


def test_location_is_kept_with_coordinates(session):
    ticket = make_ticket(session, address="Av. Grecia 8735", latitude=Decimal("-33.4869"),
                         longitude=Decimal("-70.5420"))
    session.commit()
    session.expire_all()
    stored = session.get(Ticket, ticket.id)
    assert stored.address == "Av. Grecia 8735"
    assert stored.latitude == Decimal("-33.486900")


@pytest.mark.parametrize("overrides, field", [
    ({"description": "corto"}, "description"),
    ({"description": "x" * (intake.DESCRIPTION_MAX + 1)}, "description"),
    ({"address": "x" * (intake.ADDRESS_MAX + 1)}, "address"),
    ({"consent": False}, "consent"),
    ({"contact": ResidentContact(name="Rosa", email="rosa@")}, "email"),
    ({"contact": ResidentContact(name="Rosa", email="r@example.cl", rut="12.345.678-9")}, "rut"),
    ({"contact": ResidentContact(name="Rosa", phone="12")}, "phone"),
    ({"contact": ResidentContact()}, "name"),
    ({"contact": ResidentContact(name="Rosa")}, "email"),
    ({"latitude": Decimal("-33.4")}, "latitude"),
    ({"latitude": Decimal("95"), "longitude": Decimal("-70")}, "latitude"),
    ({"category": None}, "category"),
])
def test_invalid_input_is_refused_with_field_messages(session, overrides, field):
    category = make_category(session)
    kwargs = {"category": category, "description": "La luminaria está apagada.",
              "channel": Channel.WEB, "consent": True,
              "contact": ResidentContact(name="Rosa", email="rosa@example.cl")}
    kwargs.update(overrides)
    with pytest.raises(ValidationFailed) as raised:
        intake.submit(session, **kwargs)
    assert field in raised.value.field_errors
    assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 0


def test_inactive_category_is_refused(session):
    category = make_category(session, active=False)
    with pytest.raises(ValidationFailed) as raised:
        make_ticket(session, category)
    assert "category" in raised.value.field_errors


def test_anonymous_request_only_where_the_category_allows_it(session):
    open_category = make_category(session, allows_anonymous=True)
    ticket = make_ticket(session, open_category, contact=ResidentContact())
    assert ticket.contact_name is None and ticket.contact_email is None
    with pytest.raises(ValidationFailed):
        make_ticket(session, make_category(session), contact=ResidentContact())


def test_concurrent_submissions_get_distinct_consecutive_numbers(app):
    with app.app_context():
        category_id = make_category(db.session).id
        db.session.commit()
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def submit_one():
        try:
            with app.app_context():
                barrier.wait()
                from app.catalog.models import Category

                ticket = make_ticket(db.session, db.session.get(Category, category_id))
                db.session.commit()
                numbers.append(ticket.public_number)
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=submit_one) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(int(n.split("-")[1]) for n in numbers) == [1, 2, 3, 4, 5, 6]
