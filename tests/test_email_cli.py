"""``flask channels email ingest|list|show``: the raw RFC 822 path an MTA pipes into."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from app.channels.email.models import InboundEmail, InboundSource, InboundStatus
from app.tickets.models import Channel, Ticket
from tests.factories import make_category

CORPUS = Path(__file__).parent / "email_corpus"


@pytest.fixture
def configured(app, database, monkeypatch) -> str:
    with database() as session:
        slug = make_category(session).slug
        session.commit()
    monkeypatch.setitem(app.config, "EMAIL_DEFAULT_CATEGORY", slug)
    return slug


def run(runner, *args, input=None):
    return runner.invoke(args=["channels", "email", *args], input=input)


def test_ingest_file_creates_a_request(runner, database, configured):
    result = run(runner, "ingest", str(CORPUS / "latin1_qp.eml"))

    assert result.exit_code == 0, result.output
    assert result.output.startswith("created (correo #")
    with database() as session:
        ticket = session.scalars(sa.select(Ticket)).one()
        assert ticket.channel is Channel.EMAIL and ticket.contact_name == "María Ibáñez"
        assert ticket.public_number in result.output
        assert session.scalars(sa.select(InboundEmail)).one().source is InboundSource.PIPE


def test_ingest_from_standard_input(runner, database, configured):
    raw = (CORPUS / "plain_utf8.eml").read_bytes()

    result = run(runner, "ingest", "-", input=raw)

    assert result.exit_code == 0, result.output
    with database() as session:
        assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_ingest_the_same_message_twice_reports_duplicate(runner, database, configured):
    path = str(CORPUS / "plain_utf8.eml")
    run(runner, "ingest", path)

    result = run(runner, "ingest", path)

    assert result.exit_code == 0 and result.output.startswith("duplicate")
    with database() as session:
        assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 1


def test_ingest_auto_reply_exits_zero_and_creates_nothing(runner, database, configured):
    result = run(runner, "ingest", str(CORPUS / "auto_submitted.eml"))

    assert result.exit_code == 0
    assert result.output.startswith("ignored") and "Auto-Submitted" in result.output
    with database() as session:
        assert session.scalar(sa.select(sa.func.count(Ticket.id))) == 0


@pytest.mark.parametrize("name", ["garbage.eml", "no_from.eml"])
def test_ingest_malformed_message_is_kept_and_exits_65(runner, database, configured, name):
    result = run(runner, "ingest", str(CORPUS / name))

    assert result.exit_code == 65
    assert "malformed" in result.output and "Error:" in result.output
    with database() as session:
        row = session.scalars(sa.select(InboundEmail)).one()
        assert row.status is InboundStatus.MALFORMED
        assert row.raw == (CORPUS / name).read_bytes()


def test_ingest_unreadable_file_exits_66_with_a_message(runner, configured, tmp_path):
    result = run(runner, "ingest", str(tmp_path / "no-existe.eml"))

    assert result.exit_code == 66
    assert "no se pudo leer" in result.output


@pytest.mark.parametrize("slug", ["", "no-existe"])
def test_ingest_without_a_usable_category_exits_78(runner, database, app, monkeypatch, slug):
    monkeypatch.setitem(app.config, "EMAIL_DEFAULT_CATEGORY", slug)

    result = run(runner, "ingest", str(CORPUS / "plain_utf8.eml"))

    assert result.exit_code == 78
    assert "EMAIL_DEFAULT_CATEGORY" in result.output
    with database() as session:
        assert session.scalar(sa.select(sa.func.count(InboundEmail.id))) == 0


def test_list_shows_kept_messages_with_reason_and_show_prints_raw(runner, configured):
    run(runner, "ingest", str(CORPUS / "garbage.eml"))
    run(runner, "ingest", str(CORPUS / "dsn.eml"))

    listed = run(runner, "list", "--status", "malformed")
    assert listed.exit_code == 0
    [line] = listed.output.splitlines()
    assert "malformed" in line and "cabeceras" in line
    inbound_id = line.split()[0].lstrip("#")

    shown = runner.invoke(args=["channels", "email", "show", inbound_id])
    assert shown.exit_code == 0
    assert shown.stdout_bytes == (CORPUS / "garbage.eml").read_bytes()


def test_poll_without_imap_host_exits_78(runner, app, monkeypatch, configured):
    monkeypatch.setitem(app.config, "IMAP_HOST", "")

    result = run(runner, "poll")

    assert result.exit_code == 78 and "IMAP_HOST" in result.output
