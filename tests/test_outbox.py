from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa

from app.database import utcnow
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.outbox import (
    UnsafeRecipient,
    _render_html,
    backoff_delay,
    deliver_pending,
    enqueue,
    safe_subject,
)
from app.tickets.contact import ResidentContact
from tests.conftest import SmtpSink, free_port, serving_smtp
from tests.factories import make_ticket


def _queued(session) -> OutboxMessage:
    make_ticket(session, email="rosa@example.cl")
    session.commit()
    return session.scalars(sa.select(OutboxMessage)).one()


def test_queued_email_is_delivered_to_a_real_smtp_server(session, smtp_server):
    message = _queued(session)

    report = deliver_pending(session)

    assert (report.sent, report.retrying, report.failed) == (1, 0, 0)
    [received] = smtp_server.messages
    assert received["To"] == "rosa@example.cl"
    assert received["Subject"] == message.subject
    assert "Código de seguimiento" in received.get_body(("plain",)).get_content()
    session.refresh(message)
    assert message.status is OutboxStatus.SENT
    assert message.sent_at is not None and message.attempts == 1


def test_email_stays_queued_with_the_error_when_smtp_is_down(session):
    message = _queued(session)
    before = utcnow()

    report = deliver_pending(session, now=before)

    assert (report.sent, report.retrying) == (0, 1)
    session.refresh(message)
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 1
    assert "ConnectionRefusedError" in message.last_error
    assert message.next_attempt_at == before + backoff_delay(1)


def test_waiting_message_is_not_retried_before_its_time_and_is_sent_after(session, smtp_server,
                                                                          app):
    message = _queued(session)
    state = app.extensions["mail"]
    working_port = state.port
    state.port = 1  # nothing listens on port 1 of loopback
    first_try = utcnow()
    deliver_pending(session, now=first_try)
    state.port = working_port

    assert deliver_pending(session, now=first_try + timedelta(seconds=30)).sent == 0
    assert smtp_server.messages == []

    report = deliver_pending(session, now=first_try + backoff_delay(1))
    assert report.sent == 1 and len(smtp_server.messages) == 1
    session.refresh(message)
    assert message.status is OutboxStatus.SENT and message.last_error is None


def test_message_is_marked_failed_after_the_last_attempt(session, app):
    message = _queued(session)
    app.config["OUTBOX_MAX_ATTEMPTS"], previous = 2, app.config["OUTBOX_MAX_ATTEMPTS"]
    try:
        moment = utcnow()
        deliver_pending(session, now=moment)
        report = deliver_pending(session, now=moment + timedelta(days=1))
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = previous
    assert report.failed == 1
    session.refresh(message)
    assert message.status is OutboxStatus.FAILED and message.attempts == 2
    assert message.last_error


class DatabaseOutageOnAccept(SmtpSink):
    """Takes each message, and at that moment makes the deliverer's commit fail:
    PostgreSQL: its backend is terminated; SQLite: another writer holds the
    database for 1.5 s (the deliverer's busy timeout is 50 ms)."""

    def __init__(self, app, backend_pid: int | None) -> None:
        super().__init__()
        self.app, self.backend_pid = app, backend_pid

    async def handle_DATA(self, server, session, envelope):
        from app.extensions import db

        with self.app.app_context():
            if self.backend_pid is not None:
                with db.engine.connect() as other:
                    other.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                                  {"pid": self.backend_pid})
            else:
                import sqlite3
                import threading

                holder = sqlite3.connect(db.engine.url.database, check_same_thread=False)
                holder.execute("BEGIN EXCLUSIVE")
                threading.Timer(1.5, lambda: (holder.rollback(), holder.close())).start()
        return await super().handle_DATA(server, session, envelope)


def test_message_accepted_by_smtp_while_the_database_fails_is_not_sent_twice(session, app):
    message = _queued(session)
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        pid = session.scalar(sa.text("SELECT pg_backend_pid()"))
    else:
        pid = None
        session.execute(sa.text("PRAGMA busy_timeout=50"))
    try:
        with serving_smtp(app, DatabaseOutageOnAccept(app, pid)) as sink:
            report = deliver_pending(session)
            assert report.sent == 1 and len(sink.messages) == 1
            session.expire_all()
            assert session.get(OutboxMessage, message.id).status is OutboxStatus.SENT
            # the next run finds nothing to send: the copy that would follow is avoided
            assert deliver_pending(session).sent == 0 and len(sink.messages) == 1
    finally:
        if not postgres:
            session.execute(sa.text("PRAGMA busy_timeout=5000"))


def test_backoff_doubles_and_is_capped():
    assert [backoff_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff_delay(50) == timedelta(hours=6)
    assert backoff_delay(3, timedelta(seconds=1)) == timedelta(seconds=4)


def test_first_retry_delay_comes_from_the_settings(session, app):
    message = _queued(session)
    app.config["OUTBOX_BACKOFF_SECONDS"], previous = 5, app.config["OUTBOX_BACKOFF_SECONDS"]
    try:
        moment = utcnow()
        deliver_pending(session, now=moment)
    finally:
        app.config["OUTBOX_BACKOFF_SECONDS"] = previous
    session.refresh(message)
    assert message.next_attempt_at == moment + timedelta(seconds=5)


def test_a_retried_message_keeps_its_message_id(session, smtp_server, app):
    """A copy re-sent after a crash (SMTP accepted, "sent" not yet committed) is
    recognisable: every attempt of one outbox message has the same Message-ID."""
    message = _queued(session)
    make_ticket(session, email="otra@example.cl")
    session.commit()
    deliver_pending(session)
    first = {m["To"]: m["Message-ID"] for m in smtp_server.messages}
    session.execute(sa.update(OutboxMessage).values(status=OutboxStatus.PENDING))
    session.commit()  # as if the process had died before committing the "sent" marks
    deliver_pending(session)
    again = {m["To"]: m["Message-ID"] for m in smtp_server.messages[2:]}
    assert first == again
    assert first["rosa@example.cl"] != first["otra@example.cl"]
    stamp = f"{message.created_at:%Y%m%d%H%M%S%f}"
    assert first["rosa@example.cl"] == f"<outbox.{message.id}.{stamp}@conectados.local>"


def test_delivery_respects_the_batch_limit(session, smtp_server):
    for _ in range(3):
        make_ticket(session, email="rosa@example.cl")
    session.commit()
    assert deliver_pending(session, limit=2).sent == 2
    assert deliver_pending(session, limit=2).sent == 1
    assert len(smtp_server.messages) == 3


# --- HTML alternative, header safety, SMTP outages -----------------------------------

class EnvelopeSink:
    """A real aiosmtpd handler keeping the SMTP envelope as well as the message."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def envelope_server(app) -> Iterator[EnvelopeSink]:
    with serving_smtp(app, EnvelopeSink()) as sink:
        yield sink


def test_resident_email_is_multipart_with_plain_text_and_accessible_html(session,
                                                                       smtp_server):
    ticket = make_ticket(session, email="rosa@example.cl")
    session.commit()
    deliver_pending(session)

    [received] = smtp_server.messages
    assert received.is_multipart()
    alternative = next(p for p in received.walk()
                       if p.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternative.iter_parts()] == [
        "text/plain", "text/html"]
    status_url = f"http://conectados.test/seguimiento/{ticket.formatted_tracking_code}"
    plain = received.get_body(("plain",)).get_content()
    html = received.get_body(("html",)).get_content()
    assert status_url in plain and f'href="{status_url}"' in html
    assert ticket.formatted_tracking_code in plain and ticket.formatted_tracking_code in html
    assert '<html lang="es-CL">' in html and "<h1" in html


def test_html_email_escapes_what_the_resident_wrote(session):
    make_ticket(session, email="rosa@example.cl",
                contact=ResidentContact(name='<b onmouseover="x()">Rosa</b>',
                                        email="rosa@example.cl"))
    message = session.scalars(sa.select(OutboxMessage)).one()
    assert '<b onmouseover' not in message.body_html
    assert "&lt;b onmouseover=&#34;x()&#34;&gt;Rosa&lt;/b&gt;" in message.body_html
    assert '<b onmouseover="x()">Rosa</b>' in message.body_text  # plain text as written


def test_a_template_without_html_version_queues_plain_text_only(app_ctx):
    assert _render_html("no_such_template", {}) is None


def test_header_injection_in_name_and_subject_adds_no_header_or_recipient(session,
                                                                        envelope_server):
    ticket = make_ticket(session, email="rosa@example.cl", contact=ResidentContact(
        name="Rosa\r\nBcc: x@evil.example", email="rosa@example.cl"))
    enqueue(session, recipient="rosa@example.cl",
            subject="Re: mi reclamo\r\nBcc: x@evil.example\nX-Injected: yes\u2028Cc: y@evil",
            template="ticket_received", ticket_id=ticket.id,
            context={"ticket": ticket, "status_url": "http://conectados.test/x",
                     "municipality": "Municipalidad"})
    session.commit()

    report = deliver_pending(session)

    assert report.sent == 2
    assert len(envelope_server.envelopes) == 2
    for _sender, recipients, received in envelope_server.envelopes:
        assert recipients == ["rosa@example.cl"]
        assert received["Bcc"] is None and received["Cc"] is None
        assert received["X-Injected"] is None
        assert received["To"] == "rosa@example.cl"
        assert "\n" not in received["Subject"] and "\r" not in received["Subject"]
    subjects = {m["Subject"] for _s, _r, m in envelope_server.envelopes}
    assert "Re: mi reclamo Bcc: x@evil.example X-Injected: yes Cc: y@evil" in subjects


@pytest.mark.parametrize("recipient", [
    "rosa@example.cl\r\nBcc: x@evil.example",
    "rosa@example.cl\nx@evil.example",
    "rosa@example.cl, x@evil.example",
    "rosa@example.cl;x@evil.example",
    "Rosa <rosa@example.cl>",
    "rosa @example.cl",
    "rosa@exa\x00mple.cl",
    "no-at-sign",
    "",
])
def test_enqueue_refuses_a_recipient_that_is_not_one_plain_address(session, recipient):
    ticket = make_ticket(session, notify=False)
    with pytest.raises(UnsafeRecipient) as error:
        enqueue(session, recipient=recipient, subject="Hola", template="ticket_received",
                context={"ticket": ticket, "status_url": "x", "municipality": "M"})
    assert "no sirve para enviar un correo" in error.value.message
    assert "\n" not in error.value.message and "\r" not in error.value.message
    assert session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


@pytest.mark.parametrize(("raw", "clean"), [
    ("Hola\r\nBcc: x@evil", "Hola Bcc: x@evil"),
    ("\tUno\x0bdos\x1f tres\x7f", "Uno dos tres"),
    ("línea\u2028otra\u2029más\x85fin", "línea otra más fin"),
    ("x" * 300, "x" * 255),
])
def test_subjects_are_put_on_one_clean_line(raw, clean):
    assert safe_subject(raw) == clean


def test_smtp_down_then_up_delivers_every_message_exactly_once(session, app, envelope_server):
    for n in range(4):
        make_ticket(session, email=f"vecina{n}@example.cl")
    session.commit()
    state = app.extensions["mail"]
    working_port, state.port = state.port, free_port()  # nothing listens there: down
    moment = utcnow()
    try:
        first = deliver_pending(session, now=moment)
        second = deliver_pending(session, now=moment + backoff_delay(1))
    finally:
        state.port = working_port  # up again
    assert (first.sent, first.retrying, second.sent, second.retrying) == (0, 4, 0, 4)
    assert envelope_server.envelopes == []

    later = moment + backoff_delay(1) + backoff_delay(2)
    assert deliver_pending(session, now=later).sent == 4
    for run in range(3):  # further runs, even much later, send nothing again
        assert deliver_pending(session, now=later + timedelta(days=run + 1)).sent == 0

    delivered = sorted(r[0] for _s, r, _m in envelope_server.envelopes)
    assert delivered == [f"vecina{n}@example.cl" for n in range(4)]
    messages = session.scalars(sa.select(OutboxMessage)).all()
    assert {(m.status, m.attempts, m.last_error) for m in messages} == {
        (OutboxStatus.SENT, 3, None)}


def test_backoff_schedule_then_give_up_is_flagged_and_never_retried(session, app,
                                                                   envelope_server):
    message = _queued(session)
    app.config["OUTBOX_MAX_ATTEMPTS"], previous = 3, app.config["OUTBOX_MAX_ATTEMPTS"]
    state = app.extensions["mail"]
    working_port, state.port = state.port, free_port()
    moment = utcnow()
    retries = []
    try:
        for _attempt in range(3):
            report = deliver_pending(session, now=moment)
            session.refresh(message)
            retries.append((report.retrying, report.failed, message.attempts))
            if message.status is OutboxStatus.PENDING:
                assert message.next_attempt_at == moment + backoff_delay(message.attempts)
                moment = message.next_attempt_at
    finally:
        app.config["OUTBOX_MAX_ATTEMPTS"] = previous
        state.port = working_port
    assert retries == [(1, 0, 1), (1, 0, 2), (0, 1, 3)]
    assert message.status is OutboxStatus.FAILED
    assert "ConnectionRefusedError" in message.last_error

    assert deliver_pending(session, now=moment + timedelta(days=30)).sent == 0
    assert envelope_server.envelopes == []
