"""``flask outbox ...``: deliver or inspect queued email."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from app.extensions import db
from app.notifications.models import OutboxMessage, OutboxStatus
from app.notifications.outbox import deliver_pending, retry_failed

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


@outbox_cli.command("failed")
def failed_command() -> None:
    """List the messages that gave up after OUTBOX_MAX_ATTEMPTS, with their last error."""
    messages = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.FAILED).order_by(OutboxMessage.id)).all()
    for m in messages:
        error = (m.last_error or "").splitlines()[0][:100] if m.last_error else ""
        click.echo(f"{m.id}\t{m.created_at:%Y-%m-%d %H:%M}\t{m.recipient}\t"
                   f"{m.template or '-'}\t{m.attempts}\t{error}")
    if not messages:
        click.echo("no failed messages")


@outbox_cli.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "all_", is_flag=True, help="Every failed message.")
def retry_command(ids: tuple[int, ...], all_: bool) -> None:
    """Queue failed messages again (by id, or --all) for the next delivery."""
    if not ids and not all_:
        raise click.UsageError("Indica los números de los mensajes o usa --all.")
    count = retry_failed(db.session, None if all_ else list(ids))
    db.session.commit()
    click.echo(f"requeued {count}")
