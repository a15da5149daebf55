"""Reliability at small scale: the real app under gunicorn (2 workers), the real
scheduler process and a loopback SMTP server, with a worker SIGKILLed twice and
SMTP down for a third of the load (bench/reliability.py, docs/OPERATIONS.md).

Every accepted submission must be in the database exactly once with its
``created`` event and its confirmation, and every email of the run must reach
SMTP exactly once. The PostgreSQL restart is not part of the suite (it would
restart a server other work may share); run it with ``python -m bench.reliability``.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.tickets import intake
from app.tickets.contact import ResidentContact
from app.tickets.models import Channel, Ticket
from bench import reliability


def test_no_accepted_request_or_email_is_lost_when_a_worker_dies_and_smtp_is_down(
        app, database_url, tmp_path):
    # ``app``: the suite's database, emptied after this test like after any other.
    report = reliability.run(database_url, faults=["worker-kill", "smtp-down"],
                             duration=6, concurrency=4, workdir=tmp_path)

    text = report.text()
    print(text)
    kills = [line for line in report.fault_log if "worker-kill" in line]
    assert len(kills) == 2 and all(re.search(r"SIGKILL worker \d+$", k) for k in kills), text
    assert any("sink stopped" in line for line in report.fault_log), text
    assert report.check.accepted >= 10, text
    assert report.check.retried > 0, text  # mail really waited for SMTP to come back
    assert (report.check.lost, report.check.duplicates) == ([], []), text
    assert (report.check.missing_event, report.check.missing_outbox) == ([], []), text
    assert (report.check.unsent, report.check.emails_missing,
            report.check.emails_twice) == ([], [], []), text
    assert report.ready_after and report.probe_ok == 5, text
    assert report.ok, text

    # The check is not vacuous: a second ticket for an accepted marker is a
    # duplicate, and a success the database never saw is a loss.
    marker = next(iter(report.accepted))
    app = reliability._app(database_url)
    with app.app_context():
        original = db.session.scalars(sa.select(Ticket).where(
            Ticket.description.contains(marker + "."))).one()
        intake.submit(db.session, category=original.category, description=original.description,
                      channel=Channel.WEB, consent=True,
                      contact=ResidentContact(name="Copia", email="copia@example.com"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    sink = reliability.MailSink(0)
    again = reliability.check(database_url, report.run_id,
                              {**report.accepted, f"{report.run_id}-999999": "K7QM-2XDP-9RTA"},
                              sink)
    assert again.duplicates == [marker]
    assert again.lost == [f"{report.run_id}-999999"]
    assert again.emails_missing  # this sink received nothing
