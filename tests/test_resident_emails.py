"""Every email a resident can receive: never an internal note, always the tracking
link, in plain text and HTML; the resolution email carries the survey link."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.accounts.models import Role
from app.catalog.sla import PolicyKind, SlaPolicy
from app.channels.email.intake import ingest_message, load_settings
from app.channels.email.models import InboundSource
from app.database import utcnow
from app.deadlines.clock import extend_legal_deadline
from app.deadlines.sweep import auto_close_resolved
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_pending
from app.surveys.invitations import make_token
from app.surveys.resolution import send_reminders
from app.tickets import lifecycle, timeline
from app.tickets.contact import ResidentContact
from app.tickets.merging import merge
from app.tickets.models import Status
from tests.factories import make_category, make_department, make_ticket, make_user

EMAIL_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "emails"
# Templates whose emails go to staff, not residents.
STAFF_TEMPLATES = {"survey_flagged"}
# Resident emails about no request (tested in tests/test_resident_accounts.py).
NOT_ABOUT_A_REQUEST = {"resident_login_link"}
SECRET = "NOTA-INTERNA-7Q: el vecino es conflictivo, no visitar"
RESIDENT = "vecina@example.cl"


def resident_templates_on_disk() -> set[str]:
    return {p.stem for p in EMAIL_TEMPLATES.glob("*.txt")
            if not p.stem.startswith(("_", "staff_"))
            and p.stem not in STAFF_TEMPLATES | NOT_ABOUT_A_REQUEST}


@pytest.fixture
def every_resident_email(session, app):
    """Drive one request through every resident email, with internal notes all along.

    Each step adds an internal note (and one internal status change) before the
    email-causing action, so a template that showed any staff-only text would
    leak it.
    """
    start = utcnow() - timedelta(days=10)
    department = make_department(session)
    agent = make_user(session, Role.AGENT, [department])
    policy = SlaPolicy(name="Acceso a la información", kind=PolicyKind.LEY_20285)
    category = make_category(session, department, sla_policy=policy)
    ticket = make_ticket(session, category, email=RESIDENT, now=start)  # ticket_received

    def note(minutes: int) -> None:
        timeline.add_internal_note(session, ticket, author=agent, body=SECRET,
                                   now=start + timedelta(minutes=minutes))

    note(1)
    lifecycle.transition(session, ticket, Status.IN_REVIEW, actor=agent, note=SECRET,
                         visible_to_resident=False, now=start + timedelta(minutes=2))
    note(3)
    extend_legal_deadline(session, ticket, actor=agent, reason="Hay que reunir planos.",
                          now=start + timedelta(minutes=3, seconds=30))  # deadline_extended
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent,
                         now=start + timedelta(minutes=4))  # ticket_status_changed
    note(5)
    timeline.add_public_reply(session, ticket, author=agent, body="Vamos mañana a revisar.",
                              now=start + timedelta(minutes=6))  # ticket_public_reply
    note(7)
    lifecycle.transition(session, ticket, Status.WAITING_RESIDENT, actor=agent,
                         note="¿Nos confirma el número de casa?",
                         now=start + timedelta(minutes=8))
    note(9)
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent,
                         now=start + timedelta(minutes=10))
    note(11)
    resolved_at = start + timedelta(minutes=12)
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=agent,
                         note="Cambiamos la luminaria.", now=resolved_at)
    note(13)
    assert send_reminders(session, now=resolved_at + timedelta(days=4)) == 1  # survey_reminder
    note(14)
    # Nine calendar days hold at least the 3 business days before the notice.
    assert auto_close_resolved(session, now=resolved_at + timedelta(days=9)).noticed == 1
    lifecycle.transition(session, ticket, Status.IN_PROGRESS, actor=agent,
                         now=resolved_at + timedelta(days=10))  # reopened
    note(15)
    survivor = make_ticket(session, ticket.category, now=start, contact=ResidentContact(
        name="Otra Vecina", phone="+56 9 1234 5678"))  # no email: only ours are sent
    merge(session, ticket, survivor, actor=agent, reason=SECRET,
          now=resolved_at + timedelta(days=10, minutes=1))  # status changed: duplicate
    lifecycle.transition(session, survivor, Status.IN_PROGRESS, actor=agent,
                         now=resolved_at + timedelta(days=10, minutes=2))  # ticket_merged_update
    note(16)
    settings = load_settings(session, {**app.config, "EMAIL_DEFAULT_CATEGORY": category.slug})
    reply = (f"From: Rosa <{RESIDENT}>\nTo: solicitudes@muni.cl\nMessage-ID: <walk@example.cl>\n"
             f"Subject: Re: {ticket.formatted_tracking_code}\nMIME-Version: 1.0\n"
             "Content-Type: text/plain; charset=utf-8\n\nSigue oscuro el pasaje.\n").encode()
    ingest_message(session, reply, settings=settings, source=InboundSource.PIPE,
                   now=resolved_at + timedelta(days=10, minutes=3))  # ticket_email_closed
    session.commit()
    messages = session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == RESIDENT).order_by(OutboxMessage.id)).all()
    return ticket, messages


def test_the_walk_covers_every_resident_email_template(every_resident_email):
    _ticket, messages = every_resident_email
    missing = resident_templates_on_disk() - {m.template for m in messages}
    assert not missing, (f"resident email templates not exercised here: {sorted(missing)}; "
                         "add the step that sends them to every_resident_email")


def test_no_internal_note_ever_appears_in_a_resident_email(every_resident_email):
    _ticket, messages = every_resident_email
    assert len(messages) >= 7
    for message in messages:
        for part in (message.subject, message.body_text, message.body_html or ""):
            assert SECRET not in part, message.template
            assert "NOTA-INTERNA" not in part, message.template


def test_every_resident_email_has_the_tracking_link_in_text_and_html(every_resident_email):
    ticket, messages = every_resident_email
    status_url = f"http://conectados.test/seguimiento/{ticket.formatted_tracking_code}"
    for message in messages:
        assert status_url in message.body_text, message.template
        assert message.body_html, f"{message.template} has no HTML version"
        assert f'href="{status_url}"' in message.body_html, message.template
        assert '<html lang="es-CL">' in message.body_html


def test_resolved_email_carries_the_survey_link_in_both_parts(every_resident_email):
    ticket, messages = every_resident_email
    [resolved] = [m for m in messages if m.template == "ticket_status_changed"
                  and "Resuelta" in m.subject]
    link = f"http://conectados.test/encuesta/{make_token(ticket.resolution_survey)}"
    assert link in resolved.body_text
    assert f'href="{link}"' in resolved.body_html
    assert "Cambiamos la luminaria." in resolved.body_text
    merged = [m for m in messages if "Duplicada" in m.subject]
    assert merged and all("/encuesta/" not in m.body_text for m in merged)


def test_internal_status_change_sends_the_resident_nothing(every_resident_email):
    _ticket, messages = every_resident_email
    assert not [m for m in messages if "En revisión" in m.subject]


def test_resident_emails_reach_a_real_smtp_server_without_the_note(every_resident_email,
                                                                  session, smtp_server):
    _ticket, messages = every_resident_email
    deliver_pending(session, now=utcnow() + timedelta(days=1))  # the walk ends just ahead
    assert len(smtp_server.messages) == len(messages)
    for received in smtp_server.messages:
        plain = received.get_body(("plain",)).get_content()  # decoded, not the wire form
        html = received.get_body(("html",)).get_content()
        assert "Conectados" in plain and "Conectados" in html
        assert "NOTA-INTERNA" not in plain + html + received["Subject"]
