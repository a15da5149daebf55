"""The email intake service: every message recorded, acted on once, never lost."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.channels.email.intake import (
    EmailIntakeNotConfigured,
    ingest_message,
    load_settings,
)
from app.channels.email.models import InboundEmail, InboundSource, InboundStatus
from app.database import utcnow
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_pending, enqueue
from app.tickets import lifecycle
from app.tickets.attachments import Attachment
from app.tickets.models import ActorKind, Channel, EventKind, EventVisibility, Status, Ticket
from tests.conftest import csrf_token_from
from tests.factories import PASSWORD, make_category, make_ticket, make_user

CORPUS = Path(__file__).parent / "email_corpus"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def message(sender: str = "vecina@example.cl", subject: str = "Luminaria apagada",
            body: str = "La luminaria del pasaje lleva tres días apagada.",
            message_id: str | None = "<m1@example.cl>", extra: str = "") -> bytes:
    mid = f"Message-ID: {message_id}\n" if message_id else ""
    return (f"From: Vecina <{sender}>\nTo: solicitudes@muni.cl\nSubject: {subject}\n{mid}"
            f"{extra}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
            f"{body}\n").encode()


@pytest.fixture
def settings(session, app):
    category = make_category(session, name="Alumbrado público")
    session.commit()
    config = {**app.config, "EMAIL_DEFAULT_CATEGORY": category.slug,
              "EMAIL_MAX_PER_SENDER_PER_HOUR": 3}
    return load_settings(session, config)


def ingest(session, raw: bytes, settings, **kwargs):
    outcome = ingest_message(session, raw, settings=settings,
                             source=kwargs.pop("source", InboundSource.PIPE), **kwargs)
    session.commit()
    return outcome


def outbox(session) -> list[OutboxMessage]:
    return list(session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


# --- new requests ------------------------------------------------------------------------


def test_email_creates_request_with_sender_as_contact_and_consent(session, settings):
    outcome = ingest(session, corpus("plain_utf8.eml"), settings)

    assert outcome.status is InboundStatus.CREATED
    ticket = outcome.ticket
    assert ticket.channel is Channel.EMAIL
    assert ticket.category is settings.category
    assert (ticket.contact_name, ticket.contact_email) == ("Rosa Pérez", "rosa.perez@example.cl")
    assert ticket.consent_at == outcome.inbound.received_at
    assert ticket.description.startswith("Luminaria apagada en pasaje Los Aromos\n\nHola, la")
    assert ticket.events[0].kind is EventKind.CREATED
    assert outcome.inbound.ticket_id == ticket.id
    assert outcome.inbound.raw == corpus("plain_utf8.eml")


def test_confirmation_is_threaded_to_the_residents_message(session, settings, smtp_server):
    outcome = ingest(session, corpus("reply_code_subject.eml"), settings)  # no such ticket

    assert outcome.status is InboundStatus.CREATED
    [confirmation] = outbox(session)
    assert confirmation.recipient == "rosa@example.cl"
    assert confirmation.headers == {
        "Auto-Submitted": "auto-replied",
        "In-Reply-To": "<reply-subject-0013@example.cl>",
        "References": "<original-1@example.cl> <confirmation-1@conectados.local> "
                      "<reply-subject-0013@example.cl>",
    }
    assert outcome.ticket.formatted_tracking_code in confirmation.body_text

    assert deliver_pending(session).sent == 1
    [received] = smtp_server.messages
    assert received["In-Reply-To"] == "<reply-subject-0013@example.cl>"
    assert received["References"].split()[-1] == "<reply-subject-0013@example.cl>"
    assert received["Auto-Submitted"] == "auto-replied"


def test_answers_carry_the_intake_address_as_reply_to(session, app, smtp_server):
    category = make_category(session)
    settings = load_settings(session, {**app.config, "EMAIL_DEFAULT_CATEGORY": category.slug,
                                       "EMAIL_INTAKE_ADDRESS": "solicitudes@muni.cl"})

    outcome = ingest(session, message(), settings)

    [confirmation] = outbox(session)
    assert confirmation.headers["Reply-To"] == "solicitudes@muni.cl"
    assert "responde a este correo sin borrar el código" in confirmation.body_text
    deliver_pending(session)
    assert smtp_server.messages[0]["Reply-To"] == "solicitudes@muni.cl"
    # and the intake mailbox writing to itself is a loop, never a request
    loop = ingest(session, message(sender="solicitudes@muni.cl", message_id="<loop@x>"),
                  settings)
    assert outcome.status is InboundStatus.CREATED and loop.status is InboundStatus.IGNORED


def test_web_confirmation_does_not_invite_an_email_reply(session):
    make_ticket(session)

    [confirmation] = outbox(session)
    assert "responde a este correo" not in confirmation.body_text
    assert confirmation.headers is None


def test_message_without_message_id_is_confirmed_without_threading(session, settings):
    ingest(session, message(message_id=None), settings)

    [confirmation] = outbox(session)
    assert confirmation.headers == {"Auto-Submitted": "auto-replied"}


def test_email_attachments_are_stored_on_the_new_request(session, settings):
    outcome = ingest(session, corpus("attachments.eml"), settings)

    assert outcome.status is InboundStatus.CREATED
    assert outcome.inbound.attachment_count == 2
    assert outcome.inbound.attachment_names == ["foto.png", "informe_señal.pdf"]
    stored = session.scalars(sa.select(Attachment).where(
        Attachment.ticket_id == outcome.ticket.id).order_by(Attachment.id)).all()
    assert [(a.filename, a.content_type, a.channel, a.public) for a in stored] == [
        ("foto.png", "image/png", Channel.EMAIL, True),
        ("informe_señal.pdf", "application/pdf", Channel.EMAIL, True),
    ]


def test_refused_email_attachment_is_named_and_the_request_still_created(session, settings):
    mail = EmailMessage()
    mail["From"], mail["To"] = "Vecina <vecina@example.cl>", "solicitudes@muni.cl"
    mail["Subject"], mail["Message-ID"] = "Microbasural", "<att-bad@example.cl>"
    mail.set_content("Hay un microbasural en la esquina de la plaza.")
    mail.add_attachment(b"<html><script>alert(1)</script></html>", maintype="image",
                        subtype="jpeg", filename="foto.jpg")

    outcome = ingest(session, mail.as_bytes(), settings)

    assert outcome.status is InboundStatus.CREATED
    assert session.scalar(sa.select(sa.func.count(Attachment.id))) == 0
    assert "Adjunto «foto.jpg» no guardado" in outcome.inbound.reason
    assert b"alert(1)" in outcome.inbound.raw or b"PGh0bWw" in outcome.inbound.raw  # kept


def test_very_long_email_is_cut_to_the_description_limit_and_kept_whole(session, settings):
    body = "Texto largo. " * 1000
    outcome = ingest(session, message(body=body), settings)

    assert outcome.status is InboundStatus.CREATED
    assert 3990 <= len(outcome.ticket.description) <= 4000
    assert outcome.ticket.description.endswith("el correo completo queda guardado.]")
    assert body.strip().encode() in outcome.inbound.raw


# --- idempotency -------------------------------------------------------------------------


def test_message_received_twice_creates_one_request(session, settings):
    first = ingest(session, corpus("plain_utf8.eml"), settings)
    second = ingest(session, corpus("plain_utf8.eml"), settings, source=InboundSource.IMAP)

    assert second.status is InboundStatus.DUPLICATE
    assert second.inbound.id == first.inbound.id and second.ticket.id == first.ticket.id
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1
    assert session.scalar(sa.select(sa.func.count(InboundEmail.id))) == 1
    assert len(outbox(session)) == 1


def test_same_bytes_without_message_id_are_recognised_by_their_digest(session, settings):
    raw = message(message_id=None)
    ingest(session, raw, settings)

    assert ingest(session, raw, settings).status is InboundStatus.DUPLICATE
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


# --- never answered ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["auto_submitted.eml", "x_autoreply.eml",
                                  "precedence_bulk.eml", "mailing_list.eml", "dsn.eml"])
def test_automated_mail_creates_nothing_and_gets_no_reply(session, settings, name):
    outcome = ingest(session, corpus(name), settings)

    assert outcome.status is InboundStatus.IGNORED
    assert "Correo automático" in outcome.reason
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    assert outbox(session) == []
    assert outcome.inbound.raw == corpus(name)


def test_mail_from_our_own_sender_address_is_ignored(session, settings, app):
    own = next(iter(settings.own_addresses))

    outcome = ingest(session, message(sender=own), settings)

    assert outcome.status is InboundStatus.IGNORED
    assert outbox(session) == []


@pytest.mark.parametrize("name", ["no_from.eml", "bad_from.eml", "garbage.eml"])
def test_malformed_mail_is_kept_aside_with_the_reason(session, settings, name):
    outcome = ingest(session, corpus(name), settings)

    assert outcome.status is InboundStatus.MALFORMED
    row = session.get(InboundEmail, outcome.inbound.id)
    assert row.reason and row.raw == corpus(name)
    assert row.ticket_id is None
    assert outbox(session) == []


def test_message_intake_refuses_is_kept_as_rejected_with_intakes_words(session, settings):
    outcome = ingest(session, message(subject="", body="Hola"), settings)

    assert outcome.status is InboundStatus.REJECTED
    assert "description" in outcome.reason and "10 caracteres" in outcome.reason
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 0
    assert outbox(session) == []


def test_sender_over_the_hourly_limit_is_throttled_and_not_answered(session, settings):
    now = utcnow()
    for n in range(3):
        assert ingest(session, message(message_id=f"<f{n}@example.cl>"), settings,
                      now=now).status is InboundStatus.CREATED

    flood = ingest(session, message(message_id="<f3@example.cl>"), settings, now=now)
    other = ingest(session, message(sender="otra@example.cl", message_id="<o@example.cl>"),
                   settings, now=now)
    later = ingest(session, message(message_id="<f4@example.cl>"), settings,
                   now=now + timedelta(hours=1, seconds=1))

    assert flood.status is InboundStatus.THROTTLED and "3 correos por hora" in flood.reason
    assert flood.inbound.raw  # kept
    assert other.status is InboundStatus.CREATED
    assert later.status is InboundStatus.CREATED
    assert len(outbox(session)) == 5  # 3 + other + later; never the throttled one


# --- replies with a tracking code --------------------------------------------------------


def reply_to(ticket: Ticket, *, sender: str = "vecina@example.cl", where: str = "subject",
             mid: str = "<reply@example.cl>") -> bytes:
    code = ticket.formatted_tracking_code
    if where == "subject":
        return message(sender=sender, subject=f"Re: solicitud {code}",
                       body="Sigue apagada, por favor vengan.", message_id=mid)
    return message(sender=sender, subject="Re: Recibimos tu solicitud",
                   body=f"Sigue apagada, por favor vengan.\n\n> Código de seguimiento: {code}",
                   message_id=mid)


@pytest.mark.parametrize("where", ["subject", "body"])
def test_reply_with_tracking_code_is_added_to_the_request(session, settings, where):
    ticket = make_ticket(session, email="Vecina@Example.cl")
    session.commit()

    outcome = ingest(session, reply_to(ticket, where=where), settings)

    assert outcome.status is InboundStatus.APPENDED
    assert outcome.ticket.id == ticket.id
    event = ticket.events[-1]
    assert event.kind is EventKind.RESIDENT_MESSAGE
    assert event.visibility is EventVisibility.PUBLIC
    assert event.actor_kind is ActorKind.RESIDENT
    assert event.body == "Sigue apagada, por favor vengan."
    assert ticket.status is Status.RECEIVED
    assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_reply_with_tracking_code_in_subject_reopens_resolved_request(session, settings):
    ticket = make_ticket(session, email="vecina@example.cl")
    staff = make_user(session, departments=[ticket.department])
    lifecycle.transition(session, ticket, Status.RESOLVED, actor=staff)
    session.commit()

    outcome = ingest(session, reply_to(ticket), settings)

    assert outcome.status is InboundStatus.APPENDED
    assert ticket.status is Status.IN_PROGRESS and ticket.resolved_at is None
    reopened = ticket.events[-1]
    assert reopened.kind is EventKind.STATUS_CHANGED
    assert (reopened.from_status, reopened.actor_kind) == (Status.RESOLVED, ActorKind.RESIDENT)
    assert outbox(session)[-1].subject.endswith("En gestión")


def test_reply_to_closed_request_is_recorded_and_resident_told_to_open_a_new_one(session,
                                                                                   settings):
    ticket = make_ticket(session, email="vecina@example.cl")
    staff = make_user(session, departments=[ticket.department])
    lifecycle.transition(session, ticket, Status.CLOSED, actor=staff, note="Duplicada en papel")
    session.commit()
    before = len(outbox(session))

    outcome = ingest(session, reply_to(ticket), settings)

    assert outcome.status is InboundStatus.APPENDED and "estado final" in outcome.reason
    assert ticket.status is Status.CLOSED
    assert ticket.events[-1].kind is EventKind.RESIDENT_MESSAGE
    notice = outbox(session)[before:]
    assert len(notice) == 1
    assert "ya está cerrada" in notice[0].subject
    assert "solicitud nueva" in notice[0].body_text
    assert notice[0].headers["In-Reply-To"] == "<reply@example.cl>"


def test_tracking_code_from_another_sender_creates_a_new_request(session, settings):
    ticket = make_ticket(session, email="vecina@example.cl")
    session.commit()

    outcome = ingest(session, reply_to(ticket, sender="intruso@example.cl"), settings)

    assert outcome.status is InboundStatus.CREATED
    assert outcome.ticket.id != ticket.id
    assert ticket.public_number in outcome.reason
    assert [e.kind for e in ticket.events] == [EventKind.CREATED]


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "words"), [
    ({"EMAIL_DEFAULT_CATEGORY": ""}, "Falta EMAIL_DEFAULT_CATEGORY"),
    ({"EMAIL_DEFAULT_CATEGORY": "no-existe"}, "no corresponde"),
    ({"EMAIL_MAX_PER_SENDER_PER_HOUR": 0}, "mayor que cero"),
    ({"EMAIL_INTAKE_ADDRESS": "Solicitudes <s@muni.cl>"}, "EMAIL_INTAKE_ADDRESS"),
    ({"EMAIL_INTAKE_ADDRESS": "sin-arroba"}, "EMAIL_INTAKE_ADDRESS"),
])
def test_intake_refuses_to_start_without_a_usable_category_or_limit(session, app, changes,
                                                                    words):
    category = make_category(session)
    config = {**app.config, "EMAIL_DEFAULT_CATEGORY": category.slug, **changes}

    with pytest.raises(EmailIntakeNotConfigured) as caught:
        load_settings(session, config)

    assert words in caught.value.message


def test_inactive_default_category_is_refused(session, app):
    category = make_category(session, active=False)

    with pytest.raises(EmailIntakeNotConfigured):
        load_settings(session, {**app.config, "EMAIL_DEFAULT_CATEGORY": category.slug})


# --- outbox headers ----------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {"In-Reply-To": "<a@b>\r\nBcc: victima@example.cl"},
    {"In-Reply-To": "<a@b>\nX: y"},
    {"Bad Name": "x"},
    {"Bad:Name": "x"},
])
def test_outbox_refuses_header_injection(session, headers):
    with pytest.raises(ValueError):
        enqueue(session, recipient="a@example.cl", subject="x", template="ticket_received",
                context={}, headers=headers)


# --- where the resident's message shows ---------------------------------------------------


def test_emailed_reply_shows_on_the_status_page_and_the_staff_page(app, database, client):
    with database() as session:
        ticket = make_ticket(session, email="vecina@example.cl")
        agent = make_user(session, departments=[ticket.department])
        category_slug = ticket.category.slug
        session.commit()
        settings = load_settings(session, {**app.config,
                                           "EMAIL_DEFAULT_CATEGORY": category_slug})
        ingest(session, reply_to(ticket), settings)
        code, ticket_id, agent_email = ticket.formatted_tracking_code, ticket.id, agent.email

    status_html = client.get(f"/seguimiento/{code}").get_data(as_text=True)
    assert "Tu mensaje" in status_html
    assert "Sigue apagada, por favor vengan." in status_html

    login = client.get("/gestion/ingresar").get_data(as_text=True)
    client.post("/gestion/ingresar", data={"csrf_token": csrf_token_from(login),
                                           "email": agent_email, "password": PASSWORD})
    staff_html = client.get(f"/gestion/solicitudes/{ticket_id}").get_data(as_text=True)
    assert "Mensaje del vecino/a" in staff_html
    assert "Sigue apagada, por favor vengan." in staff_html
