"""``flask surveys ...``: run the survey job by hand."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.extensions import db
from app.surveys.resolution import send_reminders

surveys_cli = AppGroup("surveys", help="Satisfaction surveys.")


@surveys_cli.command("remind")
def remind_command() -> None:
    """Queue the one reminder of each survey unanswered after SURVEY_REMINDER_DAYS."""
    queued = send_reminders(db.session)
    db.session.commit()
    click.echo(f"Survey reminders queued: {queued}")
