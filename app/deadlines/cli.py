"""``flask deadlines sweep`` and ``flask deadlines auto-close``: the jobs, run once by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.deadlines.sweep import auto_close_resolved, sweep_deadlines
from app.extensions import db

deadlines_cli = AppGroup("deadlines", help="SLA sweep and auto-close of resolved requests.")


@deadlines_cli.command("sweep")
def sweep_command() -> None:
    """Send the due deadline warnings and breach alerts now (as the sla-sweep job)."""
    report = sweep_deadlines(db.session)
    db.session.commit()
    click.echo(f"Deadline warnings: {report.warned}; breaches: {report.breached}")


@deadlines_cli.command("auto-close")
def auto_close_command() -> None:
    """Send the due auto-close notices and close what is due (as the auto-close job)."""
    report = auto_close_resolved(db.session)
    db.session.commit()
    click.echo(f"Auto-close notices: {report.noticed}; closed: {report.closed}")
