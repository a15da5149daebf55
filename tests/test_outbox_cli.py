"""``flask outbox failed`` and ``flask outbox retry``: what gave up, and a second chance."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.database import utcnow
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.outbox import deliver_pending
from tests.conftest import free_port
from tests.factories import make_ticket


def _failed_messages(database, app, n: int) -> list[int]:
    with database() as session:
        for i in range(n):
            make_ticket(session, email=f"vecina{i}@example.cl")
        session.commit()
        app.config["OUTBOX_MAX_ATTEMPTS"], previous = 1, app.config["OUTBOX_MAX_ATTEMPTS"]
        state = app.extensions["mail"]
        working_port, state.port = state.port, free_port()  # SMTP down
        try:
            assert deliver_pending(session, now=utcnow()).failed == n
        finally:
            app.config["OUTBOX_MAX_ATTEMPTS"] = previous
            state.port = working_port
        return list(session.scalars(sa.select(OutboxMessage.id).order_by(OutboxMessage.id)))


def test_failed_lists_each_message_that_gave_up_with_its_error(app, database, runner):
    ids = _failed_messages(database, app, 2)
    result = runner.invoke(args=["outbox", "failed"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(i) for i in ids]
    assert "vecina0@example.cl\tticket_received\t1\tConnectionRefusedError" in lines[0]


def test_failed_with_none_says_so(app, runner):
    result = runner.invoke(args=["outbox", "failed"])
    assert result.exit_code == 0 and "no failed messages" in result.output


def test_retry_requeues_only_the_given_failed_messages_and_they_are_delivered(
        app, database, runner, smtp_server):
    first, second = _failed_messages(database, app, 2)
    result = runner.invoke(args=["outbox", "retry", str(first)])
    assert result.exit_code == 0 and "requeued 1" in result.output

    with database() as session:
        assert deliver_pending(session, now=utcnow() + timedelta(seconds=1)).sent == 1
        statuses = dict(session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.status)).tuples().all())
    assert statuses == {first: OutboxStatus.SENT, second: OutboxStatus.FAILED}
    assert [m["To"] for m in smtp_server.messages] == ["vecina0@example.cl"]


def test_retry_all_requeues_every_failed_message(app, database, runner):
    _failed_messages(database, app, 3)
    result = runner.invoke(args=["outbox", "retry", "--all"])
    assert result.exit_code == 0 and "requeued 3" in result.output
    with database() as session:
        rows = session.execute(sa.select(OutboxMessage.status, OutboxMessage.attempts)).all()
    assert set(rows) == {(OutboxStatus.PENDING, 0)}


def test_retry_without_ids_or_all_is_refused_in_spanish(app, runner):
    result = runner.invoke(args=["outbox", "retry"])
    assert result.exit_code == 2
    assert "Indica los números de los mensajes o usa --all." in result.output
