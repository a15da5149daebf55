"""``flask metrics rollup``: refresh the dashboard's daily rollups now."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup

from app.database import utcnow
from app.extensions import db
from app.metrics.rollup import refresh

metrics_cli = AppGroup("metrics", help="Dashboard figures.")


@metrics_cli.command("rollup")
def rollup_command() -> None:
    """Rebuild the daily rollups up to yesterday (the scheduler does it every
    METRICS_ROLLUP_INTERVAL_SECONDS); run it once after loading a history."""
    config = current_app.config
    report = refresh(db.session, utcnow(), ZoneInfo(config["OFFICE_TIMEZONE"]),
                     recent_days=config["METRICS_ROLLUP_RECENT_DAYS"])
    db.session.commit()
    click.echo(f"{report.days} days rebuilt, {report.rows} rollup rows, "
               f"through {report.through_day}.")
