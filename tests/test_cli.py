"""The ``flask`` commands, run through Flask's CLI test runner.

Commands run through Flask's CLI test runner, as Flask's testing guide does;
each command gets its own app context. Data is set up and inspected in short
app contexts (the ``database`` fixture), outside the command's own.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from click.testing import Result

from app.accounts.models import Role, User
from app.catalog.models import Category, Department
from app.notifications.models import OutboxMessage, OutboxStatus
from app.seed.demo import DEMO_PASSWORD, STAFF
from app.tickets.models import Ticket, TicketEvent
from tests.factories import make_department, make_ticket
from tests.pages import count

GOOD_PASSWORD = "una-clave-bien-larga"


@pytest.fixture
def flask(app, runner) -> Callable[..., Result]:
    """``flask(*args, input=...)`` runs ``flask <args>`` as from a shell."""

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(args=list(args), input=input)

    return run




def passwords(password: str) -> str:
    """What the user types at the password prompt and its confirmation."""
    return f"{password}\n{password}\n"


@pytest.fixture
def department_slug(database) -> str:
    with database() as session:
        department = make_department(session, name="Aseo y Ornato")
        session.commit()
        return department.slug


# --- flask users create --------------------------------------------------------------


def test_users_create_makes_agent_with_hashed_password(flask, database, department_slug):
    result = flask("users", "create", "--email", "Ana.Soto@Example.cl",
                                 "--name", "Ana Soto", "--department", department_slug,
                           input=passwords(GOOD_PASSWORD))

    assert result.exit_code == 0, result.output
    assert "created agent ana.soto@example.cl" in result.output
    with database() as session:
        user = session.scalar(sa.select(User))
        assert user.email == "ana.soto@example.cl"
        assert user.name == "Ana Soto"
        assert user.role is Role.AGENT
        assert [d.slug for d in user.departments] == [department_slug]
        assert GOOD_PASSWORD not in user.password_hash
        assert user.password_hash.startswith(("scrypt:", "pbkdf2:"))
        assert user.check_password(GOOD_PASSWORD)
        assert not user.check_password("otra-clave-cualquiera")


def test_users_create_accepts_department_name_and_several_departments(
        flask, database, department_slug):
    with database() as session:
        make_department(session, name="Tránsito")
        session.commit()

    result = flask("users", "create", "--email", "jefa@example.cl",
                                 "--role", "supervisor", "--department", department_slug,
                                 "--department", "Tránsito",
                           input=passwords(GOOD_PASSWORD))

    assert result.exit_code == 0, result.output
    with database() as session:
        user = session.scalar(sa.select(User))
        assert user.role is Role.SUPERVISOR
        assert user.name == "jefa"  # defaults to the email's user part
        assert sorted(d.name for d in user.departments) == ["Aseo y Ornato", "Tránsito"]


def test_users_create_manager_needs_no_department(flask, database):
    result = flask("users", "create", "--email", "gerencia@example.cl",
                                 "--role", "manager", input=passwords(GOOD_PASSWORD))

    assert result.exit_code == 0, result.output
    with database() as session:
        assert session.scalar(sa.select(User)).role is Role.MANAGER


def test_users_create_with_unknown_department_fails_and_creates_nothing(
        flask, database, department_slug):
    result = flask("users", "create", "--email", "ana@example.cl",
                                 "--department", "no-existe", input=passwords(GOOD_PASSWORD))

    assert result.exit_code != 0
    assert "unknown department: 'no-existe'" in result.output
    with database() as session:
        assert count(session, User) == 0


def test_users_create_with_short_password_fails_and_creates_nothing(
        flask, database, department_slug):
    result = flask("users", "create", "--email", "ana@example.cl",
                                 "--department", department_slug, input=passwords("corta"))

    assert result.exit_code != 0
    assert "password: La contraseña debe tener al menos 12 caracteres." in result.output
    with database() as session:
        assert count(session, User) == 0


def test_users_create_agent_without_department_fails(flask, database):
    result = flask("users", "create", "--email", "ana@example.cl",
                           input=passwords(GOOD_PASSWORD))

    assert result.exit_code != 0
    assert "debe pertenecer a un departamento" in result.output
    with database() as session:
        assert count(session, User) == 0


def test_users_create_with_invalid_email_fails(flask, database, department_slug):
    result = flask("users", "create", "--email", "no-es-correo",
                                 "--department", department_slug,
                           input=passwords(GOOD_PASSWORD))

    assert result.exit_code != 0
    assert "email: El correo no es válido." in result.output
    with database() as session:
        assert count(session, User) == 0


@pytest.mark.parametrize("second_email", ["ana@example.cl", "ANA@Example.CL"])
def test_users_create_with_duplicate_email_fails(flask, database, department_slug,
                                                 second_email):
    first = flask("users", "create", "--email", "ana@example.cl",
                                "--department", department_slug,
                          input=passwords(GOOD_PASSWORD))
    assert first.exit_code == 0, first.output

    second = flask("users", "create", "--email", second_email,
                                 "--department", department_slug,
                           input=passwords("otra-clave-larga"))

    assert second.exit_code != 0
    assert "Ya existe un usuario con ese correo." in second.output
    with database() as session:
        assert count(session, User) == 1
        assert session.scalar(sa.select(User)).check_password(GOOD_PASSWORD)


# --- flask seed demo ---------------------------------------------------------------------


def test_seed_demo_loads_catalogue_staff_and_requests_once(flask, database):
    result = flask("seed", "demo", "--requests", "30")

    assert result.exit_code == 0, result.output
    assert "30 requests" in result.output
    assert DEMO_PASSWORD in result.output
    with database() as session:
        assert count(session, Department) == 8
        assert count(session, Category) >= 20
        assert count(session, Ticket) == 30
        roles = set(session.scalars(sa.select(User.role)))
        assert roles == set(Role)
        staff = session.scalars(sa.select(User)).all()
        assert sorted(u.email for u in staff) == sorted(email for email, *_ in STAFF)
        admin = next(u for u in staff if u.role is Role.ADMIN)
        assert admin.check_password(DEMO_PASSWORD)
        agents = [u for u in staff if not u.role.sees_all_departments]
        assert agents and all(u.departments for u in agents)
        assert count(session, OutboxMessage) == 0  # sample requests send no email
        # every request went through intake: numbered, with its CREATED event
        numbers = session.scalars(sa.select(Ticket.public_number)).all()
        assert len(set(numbers)) == 30
        assert count(session, TicketEvent) >= 30
        counts = (count(session, Department), count(session, Category),
                  count(session, Ticket), count(session, User), count(session, TicketEvent))

    again = flask("seed", "demo", "--requests", "30")

    assert again.exit_code == 0, again.output
    assert "already present; nothing added" in again.output
    with database() as session:
        assert (count(session, Department), count(session, Category),
                count(session, Ticket), count(session, User),
                count(session, TicketEvent)) == counts


def test_seed_demo_refuses_negative_request_count(flask, database):
    result = flask("seed", "demo", "--requests", "-1")

    assert result.exit_code != 0
    with database() as session:
        assert count(session, Department) == 0


# --- flask outbox deliver -------------------------------------------------------------


@pytest.fixture
def queued_confirmation(database) -> tuple[int, str, str]:
    """A request whose confirmation email waits in the outbox."""
    with database() as session:
        ticket = make_ticket(session, email="vecina@example.cl")
        session.commit()
        message = session.scalar(sa.select(OutboxMessage))
        return message.id, message.subject, ticket.formatted_tracking_code


def test_outbox_deliver_exits_1_and_keeps_message_queued_when_smtp_is_down(
        flask, database, queued_confirmation):
    message_id, _subject, _code = queued_confirmation

    result = flask("outbox", "deliver")

    assert result.exit_code == 1
    assert "sent 0, retrying 1, failed 0" in result.output
    with database() as session:
        message = session.get(OutboxMessage, message_id)
        assert message.status is OutboxStatus.PENDING
        assert message.attempts == 1
        assert message.last_error
        assert message.sent_at is None
        assert message.next_attempt_at > message.created_at  # retried later, not at once


def test_outbox_deliver_sends_to_smtp_server_and_exits_0(
        flask, database, smtp_server, queued_confirmation):
    message_id, subject, code = queued_confirmation

    result = flask("outbox", "deliver")

    assert result.exit_code == 0, result.output
    assert "sent 1, retrying 0, failed 0" in result.output
    assert len(smtp_server.messages) == 1
    received = smtp_server.messages[0]
    assert received["To"] == "vecina@example.cl"
    assert received["Subject"] == subject
    assert code in received.get_body(("plain",)).get_content()
    with database() as session:
        message = session.get(OutboxMessage, message_id)
        assert message.status is OutboxStatus.SENT
        assert message.sent_at is not None
        assert message.last_error is None

    again = flask("outbox", "deliver")

    assert again.exit_code == 0
    assert "sent 0, retrying 0, failed 0" in again.output
    assert len(smtp_server.messages) == 1  # never sent twice


def test_outbox_deliver_with_nothing_queued_exits_0(flask, app):
    result = flask("outbox", "deliver")

    assert result.exit_code == 0
    assert "sent 0, retrying 0, failed 0" in result.output


def test_commands_run_through_app_cli_as_flask_documents_for_testing(runner, database):
    """``app.test_cli_runner().invoke(args=...)`` calls ``app.cli`` directly.

    Flask's testing guide invokes commands this way; they must not rely on the
    ``flask`` executable to push the app context for them.
    """
    result = runner.invoke(args=["outbox", "status"])

    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 0
    assert result.output.strip() == "empty"
