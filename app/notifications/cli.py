"""``flask outbox ...``: deliver or inspect queued email."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.extensions import db
from app.notifications.models import OutboxMessage
from app.notifications.outbox import deliver_pending

outbox_cli = AppGroup("outbox", help="Queued email.")


@outbox_cli.command("deliver")
@click.option("--limit", type=int, default=None, help="At most this many messages.")
def deliver_command(limit: int | None) -> None:
    """Send due messages once; exit code 1 if any delivery failed."""
    report = deliver_pending(db.session, limit=limit)
    click.echo(f"sent {report.sent}, retrying {report.retrying}, failed {report.failed}")
    if report.retrying or report.failed:
        raise SystemExit(1)


@outbox_cli.command("status")
def status_command() -> None:
    """Count messages by status."""
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status))
    counts = {status.value: n for status, n in rows}
    click.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty")
