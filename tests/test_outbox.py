from datetime import timedelta

import sqlalchemy as sa

from app.database import utcnow
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.outbox import backoff_delay, deliver_pending
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


def test_backoff_doubles_and_is_capped():
    assert [backoff_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff_delay(50) == timedelta(hours=6)


def test_delivery_respects_the_batch_limit(session, smtp_server):
    for _ in range(3):
        make_ticket(session, email="rosa@example.cl")
    session.commit()
    assert deliver_pending(session, limit=2).sent == 2
    assert deliver_pending(session, limit=2).sent == 1
    assert len(smtp_server.messages) == 3
