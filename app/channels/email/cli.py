"""``flask channels email …``: poll the mailbox, ingest a raw message, inspect what came in.

Exit codes follow sysexits, which MTAs understand when they pipe mail into
``ingest -``: 65 the message was refused (malformed or rejected: it is kept,
bouncing it tells the sender), 66 the file cannot be read, 69 the mailbox
cannot be reached, 75 a temporary failure (the MTA retries later), 78 the
settings are incomplete.
"""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.channels.email.imap import MailboxError, poll_once
from app.channels.email.intake import EmailIntakeNotConfigured, ingest_message, load_settings
from app.channels.email.models import InboundEmail, InboundSource, InboundStatus
from app.extensions import db

EX_DATAERR, EX_NOINPUT, EX_UNAVAILABLE, EX_TEMPFAIL, EX_CONFIG = 65, 66, 69, 75, 78
_REFUSED = (InboundStatus.MALFORMED, InboundStatus.REJECTED)

channels_cli = AppGroup("channels", help="Intake channels.")
email_cli = AppGroup("email", help="Email intake (IMAP mailbox and raw RFC 822).")
channels_cli.add_command(email_cli)


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(code)


@email_cli.command("poll")
def poll_command() -> None:
    """One pass over the mailbox's unseen messages (the scheduler's job does it every minute)."""
    try:
        report = poll_once(db.session, current_app.config)
    except EmailIntakeNotConfigured as exc:
        _fail(exc.message, EX_CONFIG)
    except MailboxError as exc:
        _fail(str(exc), EX_UNAVAILABLE)
    click.echo(report.summary())


@email_cli.command("ingest")
@click.argument("source", metavar="FILE|-")
def ingest_command(source: str) -> None:
    """Process one raw RFC 822 message from FILE, or from standard input with ``-``."""
    try:
        if source == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(source, "rb") as handle:
                raw = handle.read()
    except OSError as exc:
        _fail(f"no se pudo leer {source}: {exc.strerror or exc}", EX_NOINPUT)
    try:
        settings = load_settings(db.session, current_app.config)
    except EmailIntakeNotConfigured as exc:
        _fail(exc.message, EX_CONFIG)
    try:
        outcome = ingest_message(db.session, raw, settings=settings, source=InboundSource.PIPE)
        db.session.commit()
    except Exception as exc:  # the database is down or busy: the MTA keeps the message
        db.session.rollback()
        _fail(f"no se pudo guardar el mensaje, reintenta más tarde ({type(exc).__name__}: "
              f"{exc})", EX_TEMPFAIL)
    inbound = outcome.inbound
    line = f"{outcome.status.value} (correo #{inbound.id})"
    if outcome.ticket is not None:
        line += f": solicitud {outcome.ticket.public_number}"
    if inbound.reason:
        line += f" — {inbound.reason}"
    if outcome.status in _REFUSED:
        _fail(line, EX_DATAERR)
    click.echo(line)


@email_cli.command("list")
@click.option("--status", type=click.Choice([s.value for s in InboundStatus]),
              help="Only this outcome (e.g. malformed).")
@click.option("--limit", type=int, default=50, show_default=True)
def list_command(status: str | None, limit: int) -> None:
    """The latest received emails with their outcome and reason."""
    query = sa.select(InboundEmail).order_by(InboundEmail.id.desc()).limit(limit)
    if status:
        query = query.where(InboundEmail.status == InboundStatus(status))
    for row in db.session.scalars(query):
        ticket = f" {row.ticket.public_number}" if row.ticket else ""
        click.echo(f"#{row.id} {row.received_at:%Y-%m-%d %H:%M}Z {row.status.value}{ticket} "
                   f"{row.sender or '-'} «{row.subject or ''}»"
                   + (f" — {row.reason}" if row.reason else ""))


@email_cli.command("show")
@click.argument("inbound_id", type=int)
def show_command(inbound_id: int) -> None:
    """Write a received email's raw bytes to standard output (e.g. ``> kept.eml``)."""
    row = db.session.get(InboundEmail, inbound_id)
    if row is None:
        _fail(f"no hay un correo #{inbound_id}", EX_NOINPUT)
    sys.stdout.buffer.write(row.raw)
    sys.stdout.buffer.flush()
