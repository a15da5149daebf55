"""Privacy: retention and anonymisation, residents' data export and erasure, no personal
data in logs, the policy page."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from app.accounts.models import Role, User
from app.audit.models import AuditEntry
from app.catalog.models import Visibility
from app.channels.email.intake import ingest_message, load_settings
from app.channels.email.models import InboundEmail, InboundSource
from app.database import utcnow
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_pending
from app.privacy.anonymisation import PLACEHOLDER, anonymise_ticket
from app.privacy.retention import apply_retention, due_tickets, months_before
from app.surveys.models import ResolutionSurvey
from app.tickets import lifecycle, timeline
from app.tickets.attachments import Attachment, add_attachment
from app.tickets.contact import ResidentContact
from app.tickets.models import EventKind, EventVisibility, Status, Ticket, TicketEvent
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_department, make_ticket, make_user

NAME = "Rosa Pérez Soto"
EMAIL = "rosa.perez@example.cl"
PHONE = "+56 9 8765 4321"
RUT = "12.345.678-5"
RUT_STORED = "12345678-5"
CONTACT = ResidentContact(name=NAME, email=EMAIL, phone=PHONE, rut=RUT)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def uploads(app, tmp_path, monkeypatch) -> Path:
    root = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOADS_DIR", str(root))
    return root


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def closed_ticket(session, category, *, closed_days_ago: int, description=None):
    """A request with contact, a public reply, a note, resolved then closed in the past."""
    start = utcnow() - timedelta(days=closed_days_ago + 5)
    ticket = make_ticket(session, category, contact=CONTACT, now=start, notify=False,
                         description=description or f"Poste apagado. Llamar al {PHONE}.")
    timeline.add_public_reply(session, ticket, author=None, body=f"Hola {NAME}, vamos.",
                              now=start + timedelta(days=1))
    timeline.add_internal_note(session, ticket, author=None, body=f"Su RUT es {RUT}.",
                               now=start + timedelta(days=1))
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=None,
                         now=start + timedelta(days=2), notify=False)
    lifecycle.transition(session, ticket, Status.CLOSED, actor=None,
                         now=utcnow() - timedelta(days=closed_days_ago), notify=False)
    return ticket


def test_months_before_clamps_to_the_end_of_the_month():
    moment = utcnow().replace(year=2026, month=3, day=31)
    assert months_before(moment, 1).date().isoformat() == "2026-02-28"
    assert months_before(moment, 15).date().isoformat() == "2024-12-31"


def test_request_past_its_retention_is_anonymised_keeping_statistics(session, app, uploads):
    category = make_category(session, retention_months=1)
    ticket = closed_ticket(session, category, closed_days_ago=40)
    add_attachment(session, ticket, filename="foto.png", data=png(), public=True)
    survey = session.scalar(sa.select(ResolutionSurvey).where(
        ResolutionSurvey.ticket_id == ticket.id))
    if survey is None:
        survey = ResolutionSurvey(ticket=ticket, expires_at=utcnow())
        session.add(survey)
    survey.rating, survey.responded_at = 4, utcnow()
    survey.comment = f"Muy bien, escríbanme a {EMAIL}"
    session.commit()
    assert len(stored_files(uploads)) == 1
    before = {c: getattr(ticket, c) for c in (
        "status", "category_id", "department_id", "channel", "created_at", "resolved_at",
        "closed_at", "first_response_at", "public_number", "address")}

    done = apply_retention(session, utcnow())
    session.commit()

    assert done == [ticket.public_number]
    session.expire_all()
    ticket = session.get(Ticket, ticket.id)
    assert (ticket.contact_name, ticket.contact_email, ticket.contact_phone,
            ticket.contact_rut) == (None, None, None, None)
    assert ticket.anonymised_at is not None
    assert {c: getattr(ticket, c) for c in before} == before
    # A public category: the text is kept with personal data masked.
    assert PHONE not in ticket.description and "Poste apagado." in ticket.description
    bodies = " ".join(e.body or "" for e in ticket.events)
    assert NAME not in bodies and RUT not in bodies and "Rosa" not in bodies
    assert session.scalars(sa.select(Attachment)).all() == [] and stored_files(uploads) == []
    survey = session.scalar(sa.select(ResolutionSurvey))
    assert survey.rating == 4 and EMAIL not in survey.comment
    event = ticket.events[-1]
    assert (event.kind, event.visibility, event.actor_id) == (
        EventKind.ANONYMISED, EventVisibility.INTERNAL, None)
    audit = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "privacy.erase"))
    assert (audit.actor_id, audit.target_id, audit.details["reason"],
            audit.details["attachments_deleted"]) == (None, str(ticket.id), "retention", 1)


def test_private_category_loses_its_text_and_place(session):
    category = make_category(session, visibility=Visibility.PRIVATE, retention_months=1)
    ticket = closed_ticket(session, category, closed_days_ago=40,
                           description="Necesito ayuda social para mi madre.")
    ticket.address = "Pasaje Los Aromos 123"
    session.commit()
    anonymise_ticket(session, ticket, reason="retention", now=utcnow())
    session.commit()
    assert ticket.description == PLACEHOLDER and ticket.address is None
    assert {e.body for e in ticket.events if e.kind is EventKind.PUBLIC_REPLY} == {PLACEHOLDER}
    assert ticket.status is Status.CLOSED


def test_request_inside_its_retention_or_open_is_kept(session, app):
    category = make_category(session, retention_months=2)
    recent = closed_ticket(session, category, closed_days_ago=20)
    old_open = make_ticket(session, category, contact=CONTACT, notify=False,
                           now=utcnow() - timedelta(days=900))
    session.commit()
    assert apply_retention(session, utcnow()) == []
    assert recent.contact_email == EMAIL and old_open.contact_email == EMAIL


def test_category_without_retention_uses_the_default_setting(session, app, monkeypatch):
    category = make_category(session)  # retention_months None
    ticket = closed_ticket(session, category, closed_days_ago=100)
    session.commit()
    monkeypatch.setitem(app.config, "RETENTION_MONTHS_DEFAULT", 4)
    assert due_tickets(session, utcnow()) == []
    monkeypatch.setitem(app.config, "RETENTION_MONTHS_DEFAULT", 3)
    assert due_tickets(session, utcnow()) == [ticket]


def test_resolved_never_closed_counts_from_resolution(session):
    category = make_category(session, retention_months=1)
    ticket = make_ticket(session, category, contact=CONTACT, notify=False,
                         now=utcnow() - timedelta(days=80))
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=None, notify=False,
                         now=utcnow() - timedelta(days=40))
    session.commit()
    assert apply_retention(session, utcnow()) == [ticket.public_number]


def test_running_retention_twice_changes_nothing_more(session):
    category = make_category(session, retention_months=1)
    closed_ticket(session, category, closed_days_ago=40)
    session.commit()
    assert len(apply_retention(session, utcnow())) == 1
    session.commit()
    events = session.scalar(sa.select(sa.func.count(TicketEvent.id)))
    audits = session.scalar(sa.select(sa.func.count(AuditEntry.id)))
    assert apply_retention(session, utcnow()) == []
    session.commit()
    assert session.scalar(sa.select(sa.func.count(TicketEvent.id))) == events
    assert session.scalar(sa.select(sa.func.count(AuditEntry.id))) == audits


def test_anonymised_requests_emails_are_removed_from_the_outbox(session):
    category = make_category(session, retention_months=1)
    ticket = closed_ticket(session, category, closed_days_ago=40)
    make_ticket(session, category, contact=CONTACT)  # another request, its mail stays
    session.add(OutboxMessage(recipient=EMAIL, subject="x", body_text=NAME,
                              ticket_id=ticket.id))
    session.commit()
    apply_retention(session, utcnow())
    session.commit()
    left = session.scalars(sa.select(OutboxMessage)).all()
    assert left and all(m.ticket_id != ticket.id for m in left)


def test_anonymising_an_emailed_request_forgets_the_raw_message_but_keeps_its_key(session,
                                                                                  app):
    category = make_category(session)
    session.commit()
    settings = load_settings(session, {**app.config, "EMAIL_DEFAULT_CATEGORY": category.slug})
    raw = ("From: Rosa Pérez <rosa.perez@example.cl>\nTo: solicitudes@muni.cl\n"
           "Subject: Microbasural\nMessage-ID: <priv-1@example.cl>\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n\nHay basura en la esquina de mi casa.\n"
           ).encode()
    outcome = ingest_message(session, raw, settings=settings, source=InboundSource.PIPE,
                             now=utcnow())

    anonymise_ticket(session, outcome.ticket, reason="retention", now=utcnow())
    session.commit()

    inbound = session.scalar(sa.select(InboundEmail))
    assert (inbound.raw, inbound.sender, inbound.subject) == (b"", None, None)
    assert inbound.message_key == "<priv-1@example.cl>"
    again = ingest_message(session, raw, settings=settings, source=InboundSource.PIPE,
                           now=utcnow())
    assert again.ticket is None or again.ticket.id == outcome.ticket.id
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_cli_dry_run_lists_without_changing_then_the_real_run_anonymises(runner, database):
    with database() as session:
        category = make_category(session, retention_months=1)
        slug = category.slug
        number = closed_ticket(session, category, closed_days_ago=40).public_number
        closed_ticket(session, category, closed_days_ago=5)
        session.commit()
    result = runner.invoke(args=["privacy", "retention", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert number in result.output and f"\t{slug}\t" in result.output
    assert "1 solicitudes se anonimizarían" in result.output
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).where(
            Ticket.anonymised_at.is_not(None))) == 0
    result = runner.invoke(args=["privacy", "retention"])
    assert result.exit_code == 0 and "1 solicitudes anonimizadas." in result.output
    with database() as session:
        assert session.scalar(sa.select(Ticket.contact_email).where(
            Ticket.public_number == number)) is None


def test_retention_job_is_registered_daily(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from app.scheduler import register_jobs

    scheduler = BackgroundScheduler(timezone="UTC")
    register_jobs(scheduler, app)
    job = scheduler.get_job("retention")
    assert job is not None and job.trigger.interval == timedelta(days=1)


# --- residents' rights through staff --------------------------------------------------------

@pytest.fixture
def people(database):
    with database() as session:
        dep = make_department(session)
        category = make_category(session, dep)
        manager = make_user(session, Role.MANAGER, email="jefa@muni.example.cl")
        make_user(session, Role.AGENT, [dep], email="agente@muni.example.cl")
        make_user(session, Role.SUPERVISOR, [dep], email="super@muni.example.cl")
        first = closed_ticket(session, category, closed_days_ago=3)
        second = make_ticket(session, category, contact=CONTACT, notify=False,
                             description="Otro bache.")
        other = make_ticket(session, category, email="otra@example.cl", notify=False)
        session.commit()
        return {"manager": manager.id, "tickets": [first.id, second.id], "other": other.id,
                "numbers": [first.public_number, second.public_number]}


def login(client, email):
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    client.post("/gestion/ingresar", data={"csrf_token": csrf_token_from(html),
                                           "email": email, "password": PASSWORD})


def privacy_post(client, path, data):
    html = client.get("/gestion/privacidad/").get_data(as_text=True)
    return client.post(f"/gestion/privacidad/{path}",
                       data={"csrf_token": csrf_token_from(html), **data})


@pytest.mark.parametrize("email", ["agente@muni.example.cl", "super@muni.example.cl"])
def test_agents_and_supervisors_cannot_use_the_privacy_pages(client, people, email):
    login(client, email)
    assert client.get("/gestion/privacidad/").status_code == 403
    html = client.get("/gestion/").get_data(as_text=True)
    response = client.post("/gestion/privacidad/exportar", data={
        "csrf_token": csrf_token_from(html), "buscar": EMAIL})
    assert response.status_code == 403


@pytest.mark.parametrize("query", [EMAIL.upper(), "9 8765 4321", RUT])
def test_search_by_email_phone_or_rut_lists_the_persons_requests(client, people, database,
                                                                 query):
    login(client, "jefa@muni.example.cl")
    response = privacy_post(client, "", {"buscar": query})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert all(n in html for n in people["numbers"])
    with database() as session:
        entry = session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "privacy.search"))
        assert sorted(entry.details["tickets"]) == sorted(people["tickets"])
        assert EMAIL not in json.dumps(entry.details)


@pytest.mark.parametrize("query", ["", "hola", "11.111.111-2"])
def test_bad_search_is_refused_in_spanish_and_refilled(client, people, query):
    login(client, "jefa@muni.example.cl")
    response = privacy_post(client, "", {"buscar": query})
    assert response.status_code == 422
    assert "error-summary" in response.get_data(as_text=True)
    assert f'value="{query}"' in response.get_data(as_text=True) or not query


def test_json_export_has_every_request_with_contact_timeline_and_survey(client, people,
                                                                        database):
    login(client, "jefa@muni.example.cl")
    response = privacy_post(client, "exportar", {"buscar": EMAIL, "formato": "json"})
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data(as_text=True))
    assert sorted(t["numero"] for t in data["solicitudes"]) == sorted(people["numbers"])
    first = next(t for t in data["solicitudes"] if t["numero"] == people["numbers"][0])
    assert first["contacto"] == {"nombre": NAME, "correo": EMAIL, "telefono": PHONE,
                                 "rut": RUT_STORED}
    assert first["idioma_de_los_correos"] == "es-CL"  # the language their emails use
    texts = [e["texto"] for e in first["historial"]]
    assert f"Hola {NAME}, vamos." in texts
    assert not any(RUT in (t or "") for t in texts)  # the internal note is not exported
    assert "Cerrada" in [e["estado"] for e in first["historial"]]
    with database() as session:
        entry = session.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "privacy.export"))
        assert (entry.actor_id, entry.details["format"]) == (people["manager"], "json")
        assert sorted(entry.details["tickets"]) == sorted(people["tickets"])


def test_html_export_is_a_readable_page_with_the_data(client, people, database):
    login(client, "jefa@muni.example.cl")
    response = privacy_post(client, "exportar", {"buscar": RUT, "formato": "html"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Datos personales registrados en Conectados" in html
    assert all(n in html for n in people["numbers"]) and EMAIL in html and NAME in html
    assert "Otro bache." in html
    with database() as session:
        assert session.scalar(sa.select(AuditEntry.details).where(
            AuditEntry.action == "privacy.export"))["format"] == "html"


@pytest.mark.parametrize(("data", "message"), [
    ({"verificacion": "", "confirmar": "y"}, "Describe cómo verificaste la identidad"),
    ({"verificacion": "cédula", "confirmar": "y"}, "Describe cómo verificaste la identidad"),
    ({"verificacion": "Presentó su cédula en la oficina de partes."},
     "Confirma que quieres anonimizar"),
])
def test_erasure_requires_the_verification_note_and_confirmation(client, people, database,
                                                                  data, message):
    login(client, "jefa@muni.example.cl")
    response = privacy_post(client, "anonimizar", {"buscar": EMAIL, **data})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    if data["verificacion"]:
        assert data["verificacion"] in html  # re-filled
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).where(
            Ticket.anonymised_at.is_not(None))) == 0
        assert session.scalar(sa.select(sa.func.count()).where(
            AuditEntry.action == "privacy.erase")) == 0


def test_verified_erasure_anonymises_all_their_requests_and_only_theirs(client, people,
                                                                        database):
    login(client, "jefa@muni.example.cl")
    note = f"Presentó su cédula {RUT} en la oficina de partes."
    response = privacy_post(client, "anonimizar", {"buscar": EMAIL, "verificacion": note,
                                                   "confirmar": "y"})
    assert response.status_code == 302
    assert "Se anonimizaron 2 solicitudes." in client.get(
        response.headers["Location"]).get_data(as_text=True)
    with database() as session:
        for ticket_id in people["tickets"]:
            ticket = session.get(Ticket, ticket_id)
            assert ticket.anonymised_at and ticket.contact_email is None
        assert session.get(Ticket, people["other"]).contact_email == "otra@example.cl"
        erased = session.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "privacy.erase")).all()
        assert sorted(int(e.target_id) for e in erased) == sorted(people["tickets"])
        assert {(e.actor_id, e.details["reason"]) for e in erased} == {
            (people["manager"], "subject_request")}
        assert all("oficina de partes" in e.details["verification"]
                   and RUT not in e.details["verification"] for e in erased)


# --- no personal data in logs ---------------------------------------------------------------

def app_log(caplog) -> str:
    """Every log line, except the test's own SMTP server (aiosmtpd's ``mail.log``)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")


def test_submission_delivery_failure_and_login_failure_log_no_personal_data(
        client, app, database, caplog):
    caplog.set_level(logging.DEBUG)
    with database() as session:
        category = make_category(session)
        make_user(session, Role.AGENT, [category.department], email="agente@muni.example.cl")
        session.commit()
        category_id = category.id
    html = client.get("/solicitudes/nueva").get_data(as_text=True)
    response = client.post("/solicitudes/nueva", data={
        "csrf_token": csrf_token_from(html), "category": str(category_id),
        "description": "Hay un hoyo grande frente a mi casa.", "name": NAME, "email": EMAIL,
        "phone": PHONE, "rut": RUT, "consent": "y"})
    assert response.status_code == 302
    with database() as session:
        report = deliver_pending(session)  # MAIL_PORT is a closed port: it fails
        session.commit()
        assert report.retrying >= 1
        assert any(EMAIL in (m.recipient or "") for m in session.scalars(
            sa.select(OutboxMessage)))
    html = client.get("/gestion/ingresar").get_data(as_text=True)
    client.post("/gestion/ingresar", data={"csrf_token": csrf_token_from(html),
                                           "email": EMAIL, "password": "nope"})
    logged = app_log(caplog)
    assert "will be retried" in logged  # the failure was logged, just not who it was for
    for value in (EMAIL, PHONE, RUT, RUT_STORED, NAME, "Rosa", "87654321"):
        assert value not in logged


class RefusingSmtp:
    """A real SMTP server that refuses every recipient (its reply names the address)."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: no such user"


def test_outbox_failure_naming_the_address_is_logged_without_it(app, session, caplog):
    from aiosmtpd.controller import Controller

    from app.notifications.outbox import enqueue
    from tests.conftest import free_port

    controller = Controller(RefusingSmtp(), hostname="127.0.0.1", port=free_port())
    controller.start()
    state = app.extensions["mail"]
    previous = state.server, state.port
    state.server, state.port = controller.hostname, controller.port
    try:
        enqueue(session, recipient=EMAIL, subject="Hola", template="ticket_received",
                context={"ticket": make_ticket(session, contact=CONTACT, notify=False),
                         "municipality": "M", "status_url": "http://x", "tracking": "x"})
        session.commit()
        caplog.set_level(logging.DEBUG)
        report = deliver_pending(session)
        session.commit()
    finally:
        state.server, state.port = previous
        controller.stop()
    assert report.retrying == 1
    message = session.scalar(sa.select(OutboxMessage))
    assert EMAIL in message.last_error  # kept for operators in the database...
    logged = app_log(caplog)
    assert "will be retried" in logged and "550" in logged
    assert EMAIL not in logged  # ...but never written to the log


# --- the public policy and the form ---------------------------------------------------------

def test_privacy_policy_page_is_linked_from_every_page_footer(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_CONTACT", "privacidad@penalolen.cl")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/privacidad"' in home
    page = client.get("/privacidad")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("Ley 19.628", "Ley 21.719", "24 meses", "privacidad@penalolen.cl",
                 "Agencia de Protección de Datos Personales"):
        assert text in html


def test_submission_form_states_purpose_legal_basis_retention_and_rights(client, database):
    with database() as session:
        make_category(session)
        session.commit()
    html = client.get("/solicitudes/nueva").get_data(as_text=True)
    for text in ("Ley 19.628", "24 meses después de cerrada", "corregirlos o borrarlos",
                 'href="/privacidad"'):
        assert text in html


def test_staff_detail_marks_the_anonymised_event(client, database):
    with database() as session:
        category = make_category(session)
        user = make_user(session, Role.MANAGER, email="jefa@muni.example.cl")
        ticket = make_ticket(session, category, notify=False)
        anonymise_ticket(session, ticket, reason="retention", now=utcnow())
        session.commit()
        ticket_id, _user = ticket.id, user.id
    login(client, "jefa@muni.example.cl")
    html = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    assert "Datos personales eliminados" in html
    with database() as session:
        assert session.scalar(sa.select(sa.func.count()).where(
            AuditEntry.action == "ticket.view_personal")) == 0
        assert session.get(User, _user).role is Role.MANAGER
