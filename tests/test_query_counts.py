"""SQL statements per view of two hot read pages: the resident status page and the
staff queue. Each bound is the page's count today; a relation lazy-loaded from a
template again (one more statement per view, or per row) fails it.

Every statement the engine runs while the test client GETs the page counts,
login user load included; the page is built outside any app context, as in
production (see tests/test_staff_web.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from flask import Flask

from app.accounts.models import Role
from app.extensions import db
from app.tickets import assignment, lifecycle, merging, timeline
from app.tickets.attachments import add_attachment
from app.tickets.models import Status
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

# The request; its category, department, survey, files and events, each by the
# relation's own load. Joining them into one statement made fewer statements
# but a slower page on PostgreSQL (bench/RESULTS.md, "Status page"), so they stay.
STATUS_PAGE_STATEMENTS = 6
# The user, their departments (agents and supervisors), the page of requests with
# category, department and assignee, the pager's count, the departments (managers
# and admins), the category filter, the people to assign to, the saved views.
QUEUE_STATEMENTS = 7


@contextmanager
def counting_statements(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def described(statements: list[str]) -> str:
    """The count and each statement's first line, for a failing assertion."""
    return f"{len(statements)} statements:\n" + "\n".join(
        " ".join(s.split())[:120] for s in statements)


def login(client, email: str) -> None:
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    response = client.post("/gestion/ingresar", data={
        "csrf_token": csrf_token_from(html), "email": email, "password": PASSWORD})
    assert response.status_code == 302


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOADS_DIR", str(tmp_path / "uploads"))


def test_status_page_loads_request_files_and_timeline_in_six_statements(
        app, client, database, uploads):
    with database() as session:
        department = make_department(session, name="Aseo y Ornato")
        agent = make_user(session, Role.AGENT, [department])
        ticket = make_ticket(session, make_category(session, department, name="Microbasural"),
                             notify=False)
        add_attachment(session, ticket, filename="foto-del-lugar.pdf", data=PDF, public=True)
        timeline.add_public_reply(session, ticket, author=agent, body="Vamos el jueves.")
        timeline.add_internal_note(session, ticket, author=agent, body="Nota reservada.")
        lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent, notify=False)
        lifecycle.transition(session, ticket, Status.RESOLVED, actor=agent, note="Listo.",
                             notify=False)  # opens the satisfaction survey
        session.commit()
        code = ticket.formatted_tracking_code

    with counting_statements(app) as statements:
        response = client.get(f"/seguimiento/{code}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for shown in ("Microbasural", "Aseo y Ornato", "foto-del-lugar.pdf", "Vamos el jueves.",
                  "Responder la encuesta"):
        assert shown in html
    assert "Nota reservada." not in html
    assert len(statements) <= STATUS_PAGE_STATEMENTS, described(statements)


def test_status_page_of_a_merged_request_adds_only_the_survivor_and_its_details(
        app, client, database):
    with database() as session:
        aseo, obras = make_department(session), make_department(session, name="Obras Municipales")
        agent = make_user(session, Role.AGENT, [aseo, obras])  # may see both requests
        category = make_category(session, aseo)
        survivor = make_ticket(session, category, notify=False)
        duplicate = make_ticket(session, category, notify=False)
        merging.merge(session, duplicate, survivor, actor=agent, reason="Mismo poste.")
        # The survivor's department, shown on the page, is not the duplicate's.
        timeline.reassign(session, survivor, obras, actor=agent, reason="Es de Obras.")
        session.commit()
        code, number = duplicate.formatted_tracking_code, survivor.public_number

    with counting_statements(app) as statements:
        response = client.get(f"/seguimiento/{code}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Tu solicitud se unió a la N° {number}" in html and "Obras Municipales" in html
    assert len(statements) <= STATUS_PAGE_STATEMENTS + 3, described(statements)


@pytest.mark.parametrize("role", [Role.AGENT, Role.MANAGER])
def test_queue_runs_the_same_few_statements_whatever_its_rows(app, client, database, role):
    with database() as session:
        aseo, obras = make_department(session), make_department(session)
        categories = [make_category(session, d) for d in (aseo, aseo, obras, obras)]
        members = [make_user(session, Role.AGENT, [aseo, obras]) for _ in range(3)]
        viewer = (make_user(session, role, [aseo, obras]) if role is Role.AGENT
                  else make_user(session, role))
        for n in range(12):  # every row with its own mix of category, department, assignee
            ticket = make_ticket(session, categories[n % 4], notify=False)
            if n % 3:
                assignment.assign(session, ticket, members[n % 3], actor=members[0],
                                  notify=False)
        session.commit()
        email = viewer.email
    login(client, email)

    with counting_statements(app) as statements:
        response = client.get("/gestion/")

    assert response.status_code == 200
    assert "12 solicitudes" in response.get_data(as_text=True)
    assert len(statements) <= QUEUE_STATEMENTS, described(statements)
