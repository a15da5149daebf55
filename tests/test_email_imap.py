"""The mailbox poller against a real Dovecot IMAP server on loopback.

Messages are appended over IMAP by the test, exactly as a mail server would
deliver them; one poll pass must turn them into requests, set aside what is
malformed or automated, move everything to the processed folder, and thread
the confirmations to the residents' messages.
"""

from __future__ import annotations

import imaplib
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.channels.email.imap import MailboxError, PollReport, poll_once
from app.channels.email.models import InboundEmail, InboundSource, InboundStatus
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_pending
from app.tickets.models import Channel, EventKind, Ticket
from tests.dovecot import ImapServer, empty_mailbox, start_dovecot, stop_dovecot
from tests.factories import make_category, make_ticket

CORPUS = Path(__file__).parent / "email_corpus"
PROCESSED = "Procesados"


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    server, pid = start_dovecot()
    try:
        yield server
    finally:
        stop_dovecot(server, pid)


@pytest.fixture
def mailbox(imap_server, app, database, monkeypatch) -> ImapServer:
    """An empty INBOX (no processed folder yet) and the app configured to poll it."""
    empty_mailbox(imap_server, PROCESSED)
    with database() as session:
        slug = make_category(session, name="Atención general").slug
        session.commit()
    for key, value in {
        "IMAP_HOST": imap_server.host, "IMAP_PORT": imap_server.port,
        "IMAP_SECURITY": "plain", "IMAP_USER": imap_server.user,
        "IMAP_PASSWORD": imap_server.password, "IMAP_FOLDER": "INBOX",
        "IMAP_PROCESSED_FOLDER": PROCESSED, "EMAIL_DEFAULT_CATEGORY": slug,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return imap_server


def append(server: ImapServer, *raws: bytes) -> None:
    conn = server.connect()
    try:
        for raw in raws:
            status, data = conn.append("INBOX", None, imaplib.Time2Internaldate(time.time()),
                                       raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
            assert status == "OK", data
    finally:
        conn.logout()


def folder_subjects(server: ImapServer, folder: str) -> list[str]:
    conn = server.connect()
    try:
        status, _ = conn.select(f'"{folder}"', readonly=True)
        if status != "OK":
            return []
        _, data = conn.search(None, "ALL")
        subjects = []
        for number in data[0].split():
            _, fetched = conn.fetch(number, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
            subjects.append(fetched[0][1].decode().strip())
        return subjects
    finally:
        conn.logout()


def poll(app, database) -> PollReport:
    with database() as session:
        return poll_once(session, app.config)


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_one_poll_pass_creates_requests_and_moves_every_message(app, database, mailbox,
                                                                smtp_server):
    append(mailbox, corpus("plain_utf8.eml"), corpus("latin1_qp.eml"),
           corpus("attachments.eml"), corpus("auto_submitted.eml"), corpus("dsn.eml"),
           corpus("no_from.eml"), corpus("precedence_bulk.eml"))

    report = poll(app, database)

    assert report.fetched == 7 and report.errors == 0
    assert report.counts == {"created": 3, "ignored": 3, "malformed": 1}
    with database() as session:
        tickets = session.scalars(sa.select(Ticket).order_by(Ticket.id)).all()
        assert [t.contact_email for t in tickets] == [
            "rosa.perez@example.cl", "maria@example.cl", "ana@example.cl"]
        assert {t.channel for t in tickets} == {Channel.EMAIL}
        rows = session.scalars(sa.select(InboundEmail)).all()
        assert {r.source for r in rows} == {InboundSource.IMAP}
        malformed = next(r for r in rows if r.status is InboundStatus.MALFORMED)
        assert malformed.raw.replace(b"\r\n", b"\n") == corpus("no_from.eml")
        assert "remitente" in malformed.reason

        confirmations = session.scalars(sa.select(OutboxMessage)).all()
        assert sorted(c.headers["In-Reply-To"] for c in confirmations) == [
            "<attachments-0007@example.cl>", "<latin1-qp-0002@example.cl>",
            "<plain-utf8-0001@example.cl>"]

    assert folder_subjects(mailbox, "INBOX") == []
    assert len(folder_subjects(mailbox, PROCESSED)) == 7

    with database() as session:
        assert deliver_pending(session).sent == 3
    threads = {m["To"]: m["In-Reply-To"] for m in smtp_server.messages}
    assert threads == {"rosa.perez@example.cl": "<plain-utf8-0001@example.cl>",
                       "maria@example.cl": "<latin1-qp-0002@example.cl>",
                       "ana@example.cl": "<attachments-0007@example.cl>"}

    second = poll(app, database)

    assert second.fetched == 0 and second.counts == {}
    with database() as session:
        assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 3
        assert session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 3


def test_message_delivered_again_is_a_duplicate_and_still_moved(app, database, mailbox):
    append(mailbox, corpus("plain_utf8.eml"))
    poll(app, database)
    append(mailbox, corpus("plain_utf8.eml"))  # the MTA delivered it twice

    report = poll(app, database)

    assert report.counts == {"duplicate": 1}
    assert folder_subjects(mailbox, "INBOX") == []
    with database() as session:
        assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_two_copies_in_one_pass_make_one_request(app, database, mailbox):
    append(mailbox, corpus("latin1_qp.eml"), corpus("latin1_qp.eml"))

    report = poll(app, database)

    assert report.counts == {"created": 1, "duplicate": 1}
    assert folder_subjects(mailbox, "INBOX") == []
    with database() as session:
        assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1
        assert session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 1


def test_emailed_reply_with_tracking_code_lands_on_the_request(app, database, mailbox):
    with database() as session:
        ticket = make_ticket(session, email="rosa@example.cl")
        session.commit()
        code, ticket_id = ticket.formatted_tracking_code, ticket.id
    append(mailbox, (f"From: Rosa <rosa@example.cl>\nSubject: Re: {code}\n"
                     f"Message-ID: <re-imap@example.cl>\n\nYa volvió la luz, gracias.\n").encode())

    report = poll(app, database)

    assert report.counts == {"appended": 1}
    with database() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket.events[-1].kind is EventKind.RESIDENT_MESSAGE
        assert ticket.events[-1].body == "Ya volvió la luz, gracias."
        assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_poll_cli_reports_the_pass(runner, mailbox):
    append(mailbox, corpus("rfc2047_headers.eml"))

    result = runner.invoke(args=["channels", "email", "poll"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "fetched 1, created 1"


def test_poll_with_a_wrong_password_exits_69_and_leaves_mail_unseen(runner, app, mailbox,
                                                                    monkeypatch):
    append(mailbox, corpus("plain_utf8.eml"))
    monkeypatch.setitem(app.config, "IMAP_PASSWORD", "wrong")

    result = runner.invoke(args=["channels", "email", "poll"])

    assert result.exit_code == 69
    assert "No se pudo conectar al buzón" in result.output
    assert len(folder_subjects(mailbox, "INBOX")) == 1


@pytest.mark.parametrize(("changes", "words"), [
    ({"IMAP_SECURITY": "tls13"}, "IMAP_SECURITY"),
    ({"IMAP_HOST": "imap.example.cl", "IMAP_SECURITY": "plain"}, "sin cifrar"),
    ({"IMAP_PROCESSED_FOLDER": "INBOX"}, "IMAP_PROCESSED_FOLDER"),
    ({"IMAP_USER": ""}, "IMAP_USER"),
    ({"IMAP_PROCESSED_FOLDER": "Solicitudes leídas"}, "IMAP_PROCESSED_FOLDER"),
    ({"EMAIL_DEFAULT_CATEGORY": "no-existe"}, "EMAIL_DEFAULT_CATEGORY"),
])
def test_poll_refuses_to_start_with_incomplete_settings(runner, app, mailbox, monkeypatch,
                                                        changes, words):
    append(mailbox, corpus("plain_utf8.eml"))
    for key, value in changes.items():
        monkeypatch.setitem(app.config, key, value)

    result = runner.invoke(args=["channels", "email", "poll"])

    assert result.exit_code == 78
    assert words in result.output
    assert len(folder_subjects(mailbox, "INBOX")) == 1


def test_scheduler_job_polls_the_mailbox_only_when_imap_host_is_set(app, database, mailbox,
                                                                    monkeypatch):
    from datetime import timedelta

    from apscheduler.schedulers.background import BackgroundScheduler

    from app.scheduler import register_jobs

    append(mailbox, corpus("base64_body.eml"))
    scheduler = BackgroundScheduler(timezone="UTC")
    register_jobs(scheduler, app)
    job = scheduler.get_job("mailbox-poll")
    assert job.trigger.interval == timedelta(seconds=app.config["IMAP_POLL_SECONDS"])

    job.func()  # what the scheduler runs every IMAP_POLL_SECONDS

    with database() as session:
        assert session.scalars(sa.select(Ticket)).one().contact_email == "pedro@example.cl"
    monkeypatch.setitem(app.config, "IMAP_HOST", "")
    without = BackgroundScheduler(timezone="UTC")
    register_jobs(without, app)
    assert without.get_job("mailbox-poll") is None


# --- encrypted connections -----------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_imap_server() -> Iterator[ImapServer]:
    server, pid = start_dovecot(tls=True)
    try:
        yield server
    finally:
        stop_dovecot(server, pid)


def tls_config(app, server: ImapServer, database, security: str) -> dict:
    with database() as session:
        slug = make_category(session).slug
        session.commit()
    return {**app.config, "IMAP_HOST": server.host, "IMAP_SECURITY": security,
            "IMAP_PORT": server.ssl_port if security == "ssl" else server.port,
            "IMAP_USER": server.user, "IMAP_PASSWORD": server.password,
            "IMAP_PROCESSED_FOLDER": PROCESSED, "EMAIL_DEFAULT_CATEGORY": slug}


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_poller_reads_over_tls_and_starttls(app, database, tls_imap_server, security):
    empty_mailbox(tls_imap_server, PROCESSED)
    append(tls_imap_server, corpus("multipart_alternative.eml"))
    config = tls_config(app, tls_imap_server, database, security)
    trusted = ssl.create_default_context(cafile=str(tls_imap_server.cafile))

    with database() as session:
        report = poll_once(session, config, ssl_context=trusted)

    assert report.counts == {"created": 1}
    assert folder_subjects(tls_imap_server, "INBOX") == []


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_poller_refuses_a_certificate_it_cannot_verify(app, database, tls_imap_server,
                                                       security):
    empty_mailbox(tls_imap_server, PROCESSED)
    append(tls_imap_server, corpus("multipart_alternative.eml"))
    config = tls_config(app, tls_imap_server, database, security)

    with database() as session, pytest.raises(MailboxError) as caught:
        poll_once(session, config)  # the system CA store does not know this certificate

    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert len(folder_subjects(tls_imap_server, "INBOX")) == 1


def test_resident_answering_the_delivered_confirmation_lands_on_the_request(
        app, database, mailbox, smtp_server):
    append(mailbox, corpus("plain_utf8.eml"))
    poll(app, database)
    with database() as session:
        deliver_pending(session)
    [confirmation] = smtp_server.messages
    assert confirmation["Reply-To"] == mailbox.user  # the answer comes back to the intake

    plain = confirmation.get_body(("plain",)).get_content()
    quoted = "\n".join(f"> {line}" for line in plain.splitlines())
    answer = (f"From: Rosa Pérez <rosa.perez@example.cl>\nTo: {confirmation['Reply-To']}\n"
              f"Subject: Re: {confirmation['Subject']}\nMessage-ID: <answer-1@example.cl>\n"
              f"In-Reply-To: {confirmation['Message-ID']}\n"
              f"References: <plain-utf8-0001@example.cl> {confirmation['Message-ID']}\n"
              "Content-Type: text/plain; charset=utf-8\n\n"
              f"Anoche volvió a apagarse.\n\nEl lun, Conectados escribió:\n{quoted}\n")
    append(mailbox, answer.encode())

    report = poll(app, database)

    assert report.counts == {"appended": 1}
    with database() as session:
        ticket = session.scalars(sa.select(Ticket)).one()
        assert ticket.events[-1].kind is EventKind.RESIDENT_MESSAGE
        assert ticket.events[-1].body == "Anoche volvió a apagarse."
